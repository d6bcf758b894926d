/// One line of input, kept exactly as read, with where it came from.
///
/// Every finding cites these, compiler style (`file:line: text`), so an
/// administrator can open the capture at the right place.
public struct SourceLine: Sendable, Hashable, Codable {
    /// The path as the user named it (or the command that produced it, for live collection).
    public var file: String
    /// 1-based line number within `file`.
    public var line: Int
    /// The line's text, with secrets already masked.
    public var text: String

    public init(file: String, line: Int, text: String) {
        self.file = file
        self.line = line
        self.text = text
    }

    /// `file:line: text`
    public var cited: String { "\(file):\(line): \(text)" }
}

/// A problem with the input itself (a line the parser could not read, a
/// file that could not be opened). Reported, never fatal.
public struct InputDiagnostic: Sendable, Hashable, Codable {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: warning: message`, the one-line form for stderr.
    public var formatted: String {
        let text = line.map { "\(file):\($0): warning: \(message)" } ?? "\(file): warning: \(message)"
        return text.replacingOccurrences(of: "\n", with: "\\n").escapingControlCharacters
    }
}

/// A source of facts that could not be read, and why; rules that need it are
/// skipped with this explanation instead of guessing.
public struct SkippedInput: Sendable, Hashable, Codable {
    public var input: String
    public var reason: String

    public init(input: String, reason: String) {
        self.input = input
        self.reason = reason
    }
}

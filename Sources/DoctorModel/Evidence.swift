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
    /// Why an input is not there, as a stable code (JSON `skipped[].code`).
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The tool that prints it is not installed (`ipsec`, `nft`), or Libreswan is not.
        case notInstalled = "not-installed"
        /// The command did not answer within its timeout and was killed.
        case timedOut = "timed-out"
        /// The command exited with an error (pluto not running, no such connection).
        case failed
        case couldNotStart = "could-not-start"
        /// The file does not exist.
        case missing
        case permissionDenied = "permission-denied"
        /// The kernel or the tool does not provide it (no CONFIG_XFRM_STATISTICS).
        case unsupported
        /// Read, but it holds nothing (the journal has no entries for the unit).
        case empty
        /// Another IKE daemon answers in Libreswan's place.
        case otherDaemon = "other-daemon"
    }

    public var input: String
    public var reason: String
    public var code: Code
    /// What it would have been, when known: a rule that needs it is then reported as not checked, and why.
    public var kind: InputKind?

    public init(input: String, reason: String, code: Code, kind: InputKind? = nil) {
        self.input = input
        self.reason = reason
        self.code = code
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey { case input, reason, code, kind }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        try c.encode(reason, forKey: .reason)
        try c.encode(code, forKey: .code)
        try c.encodeIfPresent(kind?.id, forKey: .kind)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        input = try c.decode(String.self, forKey: .input)
        reason = try c.decode(String.self, forKey: .reason)
        code = try c.decode(Code.self, forKey: .code)
        let id = try c.decodeIfPresent(String.self, forKey: .kind)
        kind = InputKind.allCases.first { $0.id == id }
    }
}

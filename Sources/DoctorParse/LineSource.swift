import DoctorModel
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Streams the lines of a document with 1-based line numbers, CRLF removed.
/// Files are read in blocks: constant memory, whatever the file size (lines are capped at maxLineBytes).
///
/// `forEach` and `allLines` hand out lines already redacted (`LineRedactor`: secrets masked, terminal
/// controls escaped): this is the one place every line of every input passes, so no parser, warning or
/// evidence can hold a secret. Only the secrets parser (which keeps a fingerprint and drops the value),
/// the pasted-session splitter (which hands the raw text on to another LineSource) and the log hot path
/// (which redacts each line it keeps) read raw lines.
public struct LineSource {
    public let document: RawDocument

    public init(_ document: RawDocument) {
        self.document = document
    }

    /// Calls `body(lineNumber, text)` for each line; stops early when body returns false.
    /// Throws when the file cannot be opened.
    public func forEach(_ body: (Int, Substring) throws -> Bool) throws {
        var redactor = LineRedactor(known: document.knownSecrets)
        // A quoted string in a format that prints none can only be something cut loose from elsewhere: a
        // secrets line whose `: PSK` a paste or an editor broke, which no redaction can recognise any more.
        let masksQuotes = document.kind?.printsNoQuotedStrings ?? false
        try forEachBytes { n, bytes in
            let line = redactor.redact(Substring(String(decoding: bytes, as: UTF8.self)))
            return try body(n, Substring(masksQuotes ? Redactor.maskingQuoted(Substring(line)) : line))
        }
    }

    /// Raw lines, secrets and all: never to be quoted in any output.
    func forEachRaw(_ body: (Int, Substring) throws -> Bool) throws {
        try forEachBytes { n, bytes in try body(n, Substring(String(decoding: bytes, as: UTF8.self))) }
    }

    /// The one reading loop: hands out the raw bytes of each line (no trailing CR/LF) without building a
    /// String, so the log hot path can look at bytes first and make a String only for the lines that matter.
    ///
    /// A CR inside a line ends a line too (CR-only files from old editors, `\r` overwrite tricks), so each
    /// piece gets its own number; UTF-16 text (NUL bytes) is refused with an error that says how to convert it.
    public func forEachBytes(_ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Bool) throws {
        func trimmed(_ p: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
            var n = p.count
            while n > 0, p[n - 1] == 10 || p[n - 1] == 13 { n -= 1 }
            return UnsafeBufferPointer(rebasing: p[0..<n])
        }
        var checkedEncoding = false
        // Hands `line` to body, split at CRs; n is the number of the last piece.
        func emit(_ n: inout Int, _ line: UnsafeBufferPointer<UInt8>) throws -> Bool {
            if !checkedEncoding {
                checkedEncoding = true
                if let base = line.baseAddress, memchr(base, 0, min(line.count, 512)) != nil { throw ParseError.utf16(path: document.name) }
            }
            // memchr: the log hot path passes here for every line.
            guard let base = line.baseAddress, memchr(base, 13, line.count) != nil else { return try body(n, line) }
            var start = 0
            for i in 0...line.count where i == line.count || line[i] == 13 {
                if try !body(n, UnsafeBufferPointer(rebasing: line[start..<i])) { return false }
                start = i + 1
                if i < line.count { n += 1 }
            }
            return true
        }
        switch document.content {
        case .text(let s):
            var n = document.firstLine - 1
            var text = s
            try text.withUTF8 { all in
                // Split on the byte: in Swift "\r\n" is one Character and would never equal "\n".
                var start = 0
                while start <= all.count {
                    var end = all.count
                    if start < all.count, let base = all.baseAddress, let nl = memchr(base + start, 10, all.count - start) {
                        end = UnsafePointer(nl.assumingMemoryBound(to: UInt8.self)) - base
                    }
                    n += 1
                    // The same cap as a file's lines: pasted text (stdin) can hold a 200 MiB line too.
                    if end - start > Self.maxLineBytes {
                        let cut = Array(all[start..<(start + Self.maxLineBytes)]) + Array(Self.truncationMark.utf8)
                        if try !cut.withUnsafeBufferPointer({ try emit(&n, $0) }) { return }
                    } else if try !emit(&n, trimmed(UnsafeBufferPointer(rebasing: all[start..<end]))) {
                        return
                    }
                    start = end + 1
                }
            }
        case .file(let path):
            guard let fp = fopen(path, "r") else {
                throw ParseError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
            }
            defer { fclose(fp) }
            // Block reads, lines cut out with memchr: memory stays bounded by maxLineBytes however long a
            // line is (getline would grow its buffer to the whole line, a 4 GiB line included).
            let chunk = 1 << 16
            let block = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
            defer { block.deallocate() }
            var carry: [UInt8] = []  // the start of a line that continues in the next block
            var truncated = false    // the current line passed maxLineBytes: the rest is skipped
            var n = 0
            func finish(_ bytes: UnsafeBufferPointer<UInt8>) throws -> Bool {
                n += 1
                var wasTruncated = truncated
                truncated = false
                defer { carry.removeAll(keepingCapacity: carry.count <= chunk) }
                if carry.isEmpty && !wasTruncated { return try emit(&n, trimmed(bytes)) }
                if !wasTruncated {
                    let room = Self.maxLineBytes - carry.count
                    carry.append(contentsOf: UnsafeBufferPointer(rebasing: bytes.prefix(room)))
                    wasTruncated = bytes.count > room
                }
                if wasTruncated { carry.append(contentsOf: Self.truncationMark.utf8) }
                return try carry.withUnsafeBufferPointer { try emit(&n, trimmed($0)) }
            }
            while true {
                let got = fread(block, 1, chunk, fp)
                if got == 0 { break }
                var start = 0
                while start < got {
                    guard let nl = memchr(block + start, 10, got - start) else {
                        // No newline in the rest of this block: keep it (up to the cap) for the next one.
                        if !truncated {
                            let room = Self.maxLineBytes - carry.count
                            carry.append(contentsOf: UnsafeBufferPointer(start: block + start, count: min(room, got - start)))
                            truncated = got - start > room
                        }
                        start = got
                        break
                    }
                    let end = nl.assumingMemoryBound(to: UInt8.self) - block
                    if try !finish(UnsafeBufferPointer(start: block + start, count: end - start)) { return }
                    start = end + 1
                }
            }
            if !carry.isEmpty || truncated { _ = try finish(UnsafeBufferPointer(start: block, count: 0)) }
        }
    }

    /// The longest line handed out (1 MiB); longer ones are cut, and say so.
    public static let maxLineBytes = 1 << 20
    static let truncationMark = " [ipsec-doctor: line cut at 1 MiB]"

    /// All lines, redacted (for the small, structured inputs; logs use `forEach`).
    public func allLines() throws -> [(Int, String)] { try collect(forEach) }

    /// All raw lines: for the secrets parser and the session splitter only.
    func allRawLines() throws -> [(Int, String)] { try collect(forEachRaw) }

    /// The most a structured input (everything but logs, which are streamed) is read into memory: 256 MiB,
    /// ten times a 50,000-tunnel hub's `ip -s xfrm state`. The rest is left unread (SnapshotBuilder says so).
    public static let maxStructuredBytes = 256 << 20

    private func collect(_ each: ((Int, Substring) throws -> Bool) throws -> Void) throws -> [(Int, String)] {
        var out: [(Int, String)] = []
        var bytes = 0
        try each { n, s in
            bytes += s.utf8.count + 1
            guard bytes <= Self.maxStructuredBytes else { return false }
            out.append((n, String(s)))
            return true
        }
        // A trailing newline yields one empty last line: drop it.
        if let last = out.last, last.1.isEmpty { out.removeLast() }
        return out
    }

    /// All lines of a document, or the diagnostic that says why it could not be read.
    public static func lines(of document: RawDocument) -> ([(Int, String)], InputDiagnostic?) {
        do {
            return (try LineSource(document).allLines(), nil)
        } catch {
            return ([], InputDiagnostic(file: document.name, line: nil, message: "\(error)"))
        }
    }
}

public enum ParseError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case utf16(path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open \(path): \(reason)"
        case .utf16(let path): "\(path) is UTF-16 (or binary) text, not read; convert it with: iconv -f UTF-16 -t UTF-8 \(path)"
        }
    }
}

extension InputKind {
    /// The kernel's and iproute2's formats (and ping's): no double-quoted string in any of them.
    public var printsNoQuotedStrings: Bool {
        switch self {
        case .xfrmPolicy, .xfrmState, .xfrmStat, .xfrmMonitor, .ipAddr, .ipRoute, .ipLink, .ping: true
        default: false
        }
    }
}

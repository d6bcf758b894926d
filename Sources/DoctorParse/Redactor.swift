import DoctorModel

#if canImport(Glibc)
    import Glibc
#endif

/// Masks secrets, and escapes terminal control characters, in every line before any parser, warning or
/// evidence sees it: `LineSource` runs each line of each document through one `LineRedactor`, whatever
/// file the text arrived in (a secrets line pasted into a session, key hex under the wrong file name).
///
/// What it masks, in any letter case:
/// - ipsec.secrets entries: `IDs : PSK|XAUTH|EAP|PIN|PPKS|NTLM "secret"` (quoted, unquoted, `0s` base64,
///   `0x` hex, or on the next line), and `: RSA|ECDSA { ... }` key blocks to their closing brace;
/// - iproute2 key lines (`enc`, `auth`, `auth-trunc`, `aead`, `comp`): every token after the algorithm
///   but the `(N bits)` and ICV/truncation lengths, whatever the key's length or spelling (`0x`, `0X`,
///   `0x 12...`), a hex "algorithm name", and the wrapped rest of a key on the following lines;
/// - anywhere: `0x`/`0X` and 16 or more hex digits (SPIs and reqids have at most 8), `0s` and 8 or
///   more base64 characters, and lines that are nothing but 32 or more hex digits.
///
///     @west @east : psk "lab-psk-..."             ->  @west @east : psk "<redacted>"
///     	aead rfc4106(gcm(aes)) 0x0203...1415 (160 bits) 128  ->  	aead rfc4106(gcm(aes)) 0x<redacted> (160 bits) 128
///
/// Redacting a redacted line changes nothing.
public struct LineRedactor {
    public static let mask = KnownSecrets.mask
    static let secretKinds: Set<String> = ["PSK", "XAUTH", "EAP", "PIN", "PPKS", "NTLM", "RSA", "ECDSA"]
    static let packedKinds: [UInt64] = secretKinds.map { $0.utf8.reduce(0) { $0 << 8 | UInt64($1) } }
    static let keyLineWords: Set<Substring> = ["enc", "auth", "auth-trunc", "aead", "comp"]

    /// Inside `: RSA {` ... `}`.
    var inKeyBlock = false
    /// `IDs : PSK` ended the line: the secret is on the next non-blank line.
    var secretOnNextLine = false
    /// The previous line was an iproute2 key line: a hard-wrapped key goes on here.
    var afterKeyLine = false
    /// Secrets seen so far (by `KnownSecrets.harvest` or on earlier lines), masked wherever they turn up.
    public var known = KnownSecrets()

    public init(known: KnownSecrets = KnownSecrets()) {
        self.known = known
    }

    public mutating func redact(_ line: Substring) -> String {
        var sawColon = false, sawZero = false, sawControl = false, allHex = true, hexCount = 0, blank = true
        for b in line.utf8 {
            switch b {
            case UInt8(ascii: ":"): sawColon = true
            case UInt8(ascii: "0"): sawZero = true
            case 0..<0x20 where b != 9, 0x7F, 0xC2: sawControl = true  // 0xC2: lead byte of the C1 controls
            default: break
            }
            if Self.isHex(b) { hexCount += 1 } else if b != 32 && b != 9 { allHex = false }
            if b != 32 && b != 9 { blank = false }
        }
        let isKeyLine = Self.startsWithKeyWord(line)
        if !inKeyBlock && !secretOnNextLine && !afterKeyLine && !sawColon && !sawZero && !sawControl && !isKeyLine
            && !(allHex && hexCount >= 32)
        {
            return known.isEmpty ? String(line) : known.scrub(line)
        }
        let indent = line.prefix(while: { $0 == " " || $0 == "\t" })
        var out: String
        if secretOnNextLine && !blank {
            learnMasked(line)
            // A mangled paste can end the masked line with another `IDs : PSK`: its secret is on the next one.
            secretOnNextLine = Self.endsWithSecretKeyword(line)
            out = "\(indent)\"\(Self.mask)\""
        } else if inKeyBlock {
            if !blank { learnMasked(line) }
            if line.contains("}") {
                inKeyBlock = false
                secretOnNextLine = Self.endsWithSecretKeyword(line)
                out = "\(indent)}"
            } else {
                out = blank ? String(line) : "\(indent)\(Self.mask)"
            }
        } else if let secret = secretsEntry(line) {
            out = secret
        } else if isKeyLine {
            afterKeyLine = true
            let words = Self.words(line)
            out = Self.keyLine(indent: indent, head: "\(words[0]) ", tokens: words.dropFirst(), keyPrefix: "0x")
        } else if afterKeyLine, case let words = Self.words(line), let first = words.first, first.utf8.allSatisfy(Self.isHex), first.count >= 8 {
            // The wrapped rest of a key: its hex goes, `(N bits) ICV` stays.
            out = Self.keyLine(indent: indent, head: "", tokens: words[...], keyPrefix: "")
        } else {
            afterKeyLine = false
            out = allHex && hexCount >= 32 ? "\(indent)\(Self.mask)" : String(line)  // inline keys: below
        }
        // Whatever branch made `out`, inline key material in what it kept goes too (a key line's hex before a
        // `: XAUTH` that made it look like a secrets entry); after the escaping, which can make one (NUL, then
        // `xeeee...`, is `\x00xeeee...`).
        if sawControl { out = out.escapingControlCharacters }
        if sawZero || sawControl { out = Self.inlineSecrets(out) }
        return known.scrub(out)
    }

    /// `... : PSK` with nothing after the keyword: the secret is on the next non-blank line.
    static func endsWithSecretKeyword(_ line: Substring) -> Bool {
        guard let e = secretKeyword(in: line.utf8) else { return false }
        return line.utf8[e...].allSatisfy { $0 == 32 || $0 == 9 }
    }

    static func words(_ line: Substring) -> [Substring] { line.split(whereSeparator: { $0 == " " || $0 == "\t" }) }

    /// `enc`, `auth`, `auth-trunc`, `aead`, `comp` as the first word, decided in bytes (every line passes here).
    static func startsWithKeyWord(_ line: Substring) -> Bool {
        let u = line.utf8
        var i = u.startIndex
        while i < u.endIndex, u[i] == 32 || u[i] == 9 { i = u.index(after: i) }
        guard i < u.endIndex, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "a") || u[i] == UInt8(ascii: "c") else { return false }
        var j = i
        while j < u.endIndex, u[j] != 32, u[j] != 9 { j = u.index(after: j) }
        return keyLineWords.contains(Substring(u[i..<j]))
    }

    /// `IDs : PSK "x"` -> `IDs : PSK "<redacted>"`; nil when the line is no secrets entry. The value goes
    /// into `known`, so the rest of the capture has it masked wherever it turns up again.
    mutating func secretsEntry(_ line: Substring) -> String? {
        let u = line.utf8
        guard let e = Self.secretKeyword(in: u) else { return nil }
        let head = Substring(u[..<e])
        let rest = Substring(u[e...])
        if rest.allSatisfy({ $0 == " " || $0 == "\t" }) {
            secretOnNextLine = true
            return String(head)
        }
        if rest.contains("{") {
            learnMasked(rest)
            let closed = rest[rest.firstIndex(of: "{")!...].contains("}")
            inKeyBlock = !closed
            return "\(head) { \(Self.mask)\(closed ? " }" : "")"
        }
        learn(rest)
        return "\(head) \"\(Self.mask)\""
    }

    /// Where a secrets entry's type keyword ends (`IDs : PSK|XAUTH|... ` in any case), or nil. Every colon
    /// is tried (IPv6 IDs hold colons); a colon right after a pluto state serial (`#12:`) is a log line's.
    /// In bytes: every log line has colons (timestamps), and this runs for each of them.
    static func secretKeyword<C: BidirectionalCollection>(in u: C) -> C.Index? where C.Element == UInt8 {
        var i = u.startIndex
        while let colon = u[i...].firstIndex(of: UInt8(ascii: ":")) {
            i = u.index(after: colon)
            var w = i
            while w < u.endIndex, u[w] == 32 || u[w] == 9 { w = u.index(after: w) }
            var e = w
            while e < u.endIndex, (u[e] | 0x20) >= UInt8(ascii: "a"), (u[e] | 0x20) <= UInt8(ascii: "z") { e = u.index(after: e) }
            guard (3...5).contains(u.distance(from: w, to: e)) else { continue }
            // Packed upper-case bytes against the packed kinds: no String for every `: IKE` of every log line.
            var packed: UInt64 = 0
            for b in u[w..<e] { packed = packed << 8 | UInt64(b & 0xDF) }
            guard packedKinds.contains(packed) else { continue }
            // `PSK "x"`, `PSK"x"`, `RSA {`, `PSK` at the end; not `PSKS` or `EAP-TLS`.
            if e < u.endIndex, u[e] != 32, u[e] != 9, u[e] != UInt8(ascii: "{"), u[e] != UInt8(ascii: "\""), u[e] != UInt8(ascii: "'") { continue }
            var t = colon
            while t > u.startIndex, case let p = u.index(before: t), u[p] >= 48 && u[p] <= 57 { t = p }
            if t < colon, t > u.startIndex, u[u.index(before: t)] == UInt8(ascii: "#") { continue }
            return e
        }
        return nil
    }

    /// Remembers what a line masked whole (a key block's line, the line after `IDs : PSK`) may hold: the
    /// line, every piece between its quotes, and the value of a secrets entry inside it (a mangled paste).
    mutating func learnMasked(_ line: Substring) {
        known.insert(line)
        known.insertQuotedPieces(line, outside: true)
        if let e = Self.secretKeyword(in: line.utf8) { learn(Substring(line.utf8[e...])) }
    }

    /// Remembers the secret in REST (what follows `: PSK`) as ipsec.secrets(5) reads it: what its pair of
    /// quotes holds, or the unquoted rest and its first word. A rest with more than one pair of
    /// quotes is a mangled line: every piece between quotes could be the secret, and each is remembered.
    /// (`insert` drops the blanks around each value.)
    mutating func learn(_ rest: Substring) {
        let t = rest.drop(while: { $0 == " " || $0 == "\t" })
        let quotes = t.filter { $0 == "\"" || $0 == "'" }.count
        if quotes == 0 {
            known.insert(t)
            known.insert(t.prefix(while: { $0 != " " && $0 != "\t" }))
        } else if let q = t.first, q == "\"" || q == "'", quotes <= 2 {
            known.insert(t.dropFirst().prefix(while: { $0 != q }))
        } else {
            known.insert(t)
            known.insertQuotedPieces(t, outside: true)
        }
    }

    /// `aead NAME KEY... (N bits) ICV` (head `aead `, tokens from NAME on) or the wrapped rest of a key
    /// (no head): the name (unless it is itself hex), `(N bits)` and plain lengths stay; the rest is one mask.
    static func keyLine(indent: Substring, head: String, tokens: ArraySlice<Substring>, keyPrefix: String) -> String {
        var kept: [String] = []
        var masked = false
        for (i, w) in tokens.enumerated() {
            let isName = i == 0 && !head.isEmpty
            let keep = isName ? !looksLikeKey(w)
                : (w.hasPrefix("(") && w.count > 1 && w.dropFirst().allSatisfy(\.isNumber)) || w == "bits)" || (w.count <= 4 && w.allSatisfy(\.isNumber))
            if keep {
                kept.append(String(w))
            } else if !masked {
                kept.append(keyPrefix + mask)
                masked = true
            }
        }
        return String(indent) + head + kept.joined(separator: " ")
    }

    /// A token that is (mostly) hex digits: a key, however it is spelled.
    static func looksLikeKey(_ w: Substring) -> Bool {
        var body = w
        if body.hasPrefix("0x") || body.hasPrefix("0X") { return true }
        body = body.drop(while: { $0 == "(" })
        let hex = body.utf8.filter(isHex).count
        return hex >= 8 && Double(hex) >= Double(body.utf8.count) * 0.75
    }

    /// `0x` + 16 or more hex digits, and `0s` + 8 or more base64 characters, anywhere in the line.
    static func inlineSecrets(_ s: String) -> String {
        // Most lines have a 0 (timestamps) but no 0x/0X/0s: look before copying.
        var prev: UInt8 = 0, candidate = false
        for b in s.utf8 {
            if prev == UInt8(ascii: "0"), b == UInt8(ascii: "x") || b == UInt8(ascii: "X") || b == UInt8(ascii: "s") { candidate = true; break }
            prev = b
        }
        guard candidate else { return s }
        let u = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = 0
        var changed = false
        while i < u.count {
            // `0x` anywhere (`match0x8e8e...` too); `0s` only at a word start (`100seconds` is no base64 secret).
            if u[i] == UInt8(ascii: "0"), i + 1 < u.count, u[i + 1] != UInt8(ascii: "s") || i == 0 || !isWordByte(u[i - 1]) {
                // 0x/0X: hex, at least 16 digits; 0s: base64, at least 8 characters.
                let p = u[i + 1]
                var rule: (prefix: String, isDigit: (UInt8) -> Bool, min: Int)?
                if p == UInt8(ascii: "x") || p == UInt8(ascii: "X") {
                    rule = ("0x", isHex, 16)
                } else if p == UInt8(ascii: "s") {
                    rule = ("0s", isBase64, 8)
                }
                if let rule {
                    var j = i + 2
                    while j < u.count && rule.isDigit(u[j]) { j += 1 }
                    if j - (i + 2) >= rule.min {
                        out += Array(rule.prefix.utf8) + Array(mask.utf8)
                        i = j
                        changed = true
                        continue
                    }
                }
            }
            out.append(u[i])
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : s
    }

    static func isHex(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102)
    }

    static func isBase64(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 43 || b == 47 || b == 61
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95
    }
}

/// One line on its own (log lines the classifier keeps, secrets lines): `LineRedactor` without state.
public enum Redactor {
    /// What a warning may quote of a line it could not read: redacted, every double-quoted string masked
    /// (a line that did not parse may be a secret cut loose from its `: PSK`, which no redaction can then
    /// recognise), at most `limit` characters.
    public static func excerpt(_ line: Substring, limit: Int = 60) -> String {
        let out = maskingQuoted(Substring(redact(line)))
        return out.count > limit ? String(out.prefix(limit)) + "..." : out
    }

    /// Everything from the first double quote to the last masked as one quoted string: `dev "x"` ->
    /// `dev "<quoted>"`, `a "x" b "y"` -> `a "<quoted>"`.
    /// First to last, not pair by pair: in a mangled line (`"x-@west : PSK* "x"`) no pairing can be
    /// trusted to say which part is the quoted one.
    /// An odd number of quotes leaves the last one unclosed: from the first quote to the end of the line.
    public static func maskingQuoted(_ line: Substring) -> String {
        guard let first = line.firstIndex(of: "\""), let last = line.lastIndex(of: "\"") else { return String(line) }
        let closed = last > first && line.utf8.lazy.filter { $0 == UInt8(ascii: "\"") }.count % 2 == 0
        return line[...first] + "<quoted>" + (closed ? line[last...] : "")
    }

    public static let mask = LineRedactor.mask

    /// LINE redacted, and every value of KNOWN in it masked.
    public static func redact(_ line: Substring, known: KnownSecrets = KnownSecrets()) -> String {
        var r = LineRedactor(known: known)
        return r.redact(line)
    }
}

extension KnownSecrets {
    /// The secrets DOCUMENTS hold as secrets, read with the same `LineRedactor` that masks them (what one
    /// masks, the other knows). In bytes, and a String only for the lines that hold a secrets keyword:
    /// this reads every line of every log once more.
    public static func harvest(_ documents: [RawDocument]) -> KnownSecrets {
        var known = KnownSecrets()
        for doc in documents {
            var redactor = LineRedactor()
            // A quoted string in a format that prints none is something cut loose from elsewhere (LineSource
            // masks it from the first quote to the last): what it holds is masked wherever else it turns up, too.
            let quoteFree = doc.kind?.printsNoQuotedStrings ?? false
            try? LineSource(doc).forEachBytes { _, bytes in
                let quoted = quoteFree && bytes.baseAddress.map { memchr($0, 34, bytes.count) != nil } == true
                let secret = redactor.inKeyBlock || redactor.secretOnNextLine || LineRedactor.secretKeyword(in: bytes) != nil
                guard quoted || secret else { return true }
                let line = Substring(String(decoding: bytes, as: UTF8.self))
                if quoted { redactor.known.insertQuotedPieces(line, quotes: ["\""], outside: false) }
                if secret { _ = redactor.redact(line) }
                return true
            }
            known.formUnion(redactor.known)
        }
        return known
    }
}

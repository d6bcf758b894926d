/// Masks secrets in any text that could reach output: PSKs and XAUTH
/// passwords from ipsec.secrets, and the key hex that `ip xfrm state` prints.
/// Every SourceLine the parsers create passes through here.
public enum Redactor {
    public static let mask = "<redacted>"

    public static func redact(_ line: Substring) -> String {
        var s = String(line)
        let u = Array(s.utf8)
        func has(_ needle: StaticString) -> Bool {
            u.withUnsafeBytes { PlutoLogClassifier.find($0, UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)) }
        }
        if has("PSK") || has("XAUTH") || has("EAP") || has("PIN") { s = redactSecretsLine(s) }
        if has("0x") { s = redactLongHex(s) }
        return s
    }

    /// `@a @b : PSK "secret"` -> `@a @b : PSK "<redacted>"`
    static func redactSecretsLine(_ s: String) -> String {
        guard let colon = s.firstIndex(of: ":") else { return s }
        let after = s[s.index(after: colon)...]
        let trimmed = after.drop(while: { $0 == " " || $0 == "\t" })
        for kind in ["PSK", "XAUTH", "EAP", "PIN"] where trimmed.hasPrefix(kind) {
            let rest = trimmed.dropFirst(kind.count)
            guard rest.first == " " || rest.first == "\t" else { continue }
            let head = s[..<trimmed.startIndex]
            return "\(head)\(kind) \"\(mask)\""
        }
        return s
    }

    /// Any `0x` followed by 16 or more hex digits is key material (SPIs and reqids have at most 8).
    static func redactLongHex(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        var chars = Substring(s)
        while let r = chars.firstRange(of: "0x") {
            out += chars[..<r.lowerBound]
            let digits = chars[r.upperBound...].prefix(while: { $0.isHexDigit })
            if digits.count >= 16 {
                out += "0x" + mask
            } else {
                out += "0x" + digits
            }
            chars = chars[digits.endIndex...]
        }
        out += chars
        return out
    }
}

/// Text from a capture may hold terminal control sequences (ESC ]0; title, ESC [2J clear, bare CR, the C1
/// controls): shown as `\x1B` and the like, so reading a report can never act on the reader's terminal.
extension String {
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: Self.isControl) else { return self }
        var out = ""
        out.reserveCapacity(utf8.count + 8)
        for scalar in unicodeScalars {
            if Self.isControl(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0 but tab and newline, DEL, C1.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        (s.value < 0x20 && s != "\t" && s != "\n") || s.value == 0x7F || (0x80...0x9F).contains(s.value)
    }
}

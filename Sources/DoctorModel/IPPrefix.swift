import Foundation

/// An IPv4 or IPv6 prefix (`10.1.0.0/24`, `2001:db8::/32`), as subnets and
/// traffic selectors are written. A bare address is a host prefix.
public struct IPPrefix: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public var bytes: [UInt8]
    public var length: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let addrPart = parts.first, let bytes = IPPrefix.parseAddress(String(addrPart)) else { return nil }
        let maxLen = bytes.count * 8
        var len = maxLen
        if parts.count == 2 {
            guard let l = Int(parts[1]), l >= 0, l <= maxLen else { return nil }
            len = l
        }
        self.bytes = bytes
        self.length = len
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        (isIPv4 ? bytes.map(String.init).joined(separator: ".") : IPPrefix.formatV6(bytes)) + "/\(length)"
    }

    /// The prefix with host bits cleared (`10.1.0.7/24` -> `10.1.0.0/24`).
    public var network: IPPrefix {
        var copy = self
        for i in 0..<bytes.count {
            let bitsHere = max(0, min(8, length - i * 8))
            let mask: UInt8 = bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
            copy.bytes[i] = bytes[i] & mask
        }
        return copy
    }

    /// True when every address of `other` is inside self.
    public func contains(_ other: IPPrefix) -> Bool {
        guard bytes.count == other.bytes.count, other.length >= length else { return false }
        var o = other
        o.length = length
        return o.network.bytes == network.bytes
    }

    public func overlaps(_ other: IPPrefix) -> Bool { contains(other) || other.contains(self) }

    static func parseAddress(_ s: String) -> [UInt8]? {
        if s.contains(":") { return parseV6(s) }
        let octets = s.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var out: [UInt8] = []
        for o in octets {
            guard let v = UInt8(o) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseV6(_ s: String) -> [UInt8]? {
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// RFC 5952 text: lower-case hex, the longest run (2+) of zero groups as `::`.
    static func formatV6(_ b: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]) }
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            guard groups[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > best.length { best = (i, j - i) }
            i = j
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[0..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}


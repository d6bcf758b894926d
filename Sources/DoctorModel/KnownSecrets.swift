#if canImport(Glibc)
    import Glibc
#endif

/// Values a capture holds *as secrets* somewhere (after `: PSK`, `: XAUTH`, ... in any of its documents),
/// masked wherever else they turn up: a PSK pasted into a log line, an iptables comment, a connection
/// name, an ipsec.conf line. Syntax alone cannot recognise those (nothing marks them as secret there),
/// so the capture is read for its secrets first (`KnownSecrets.harvest`, in DoctorParse) and every line read afterwards is scrubbed.
///
///     west/ipsec.secrets:1   @west @east : PSK "lab-psk-...-west-east"
///     west/journal.txt:135   ... DPD=passive : PM-@K "lab-psk-...-west-east"   (a mangled paste)
///                        ->  ... DPD=passive : PM-@K "<redacted>"
///
/// The values live in memory only, for the length of one snapshot's build; no model holds them. Values
/// shorter than `minimumLength` are not searched for (masking every `secret` or `1234` in every log line
/// would destroy the evidence): they are masked by syntax only.
public struct KnownSecrets: Sendable, Hashable {
    public static let minimumLength = 6
    /// What replaces a secret (the redactor's mask too).
    public static let mask = "<redacted>"

    /// The values, as bytes.
    private(set) var values: [[UInt8]] = []
    /// The values by their first `minimumLength` bytes, longest first (a value that contains another is
    /// masked whole): a hub's ten thousand PSKs cost one lookup, not ten thousand comparisons.
    private var byHead: [UInt64: [[UInt8]]] = [:]
    /// One bit per first two bytes of a value: most positions of most lines are rejected with one bit test.
    private var firstPairs = [UInt64](repeating: 0, count: 1024)
    private var seen: Set<[UInt8]> = []

    public init() {}

    public static func == (a: KnownSecrets, b: KnownSecrets) -> Bool { a.seen == b.seen }
    public func hash(into h: inout Hasher) { h.combine(seen) }

    public var isEmpty: Bool { values.isEmpty }
    public var count: Int { values.count }

    /// Adds VALUE (blanks around it dropped) when it is long enough to search for and is not itself a mask.
    public mutating func insert<S: StringProtocol>(_ value: S) {
        var v = Array(value.utf8)
        while let l = v.last, l == 32 || l == 9 { v.removeLast() }
        if let i = v.firstIndex(where: { $0 != 32 && $0 != 9 }) { v.removeFirst(i) } else { v = [] }
        guard v.count >= Self.minimumLength, !value.contains(Self.mask), !value.contains("<quoted>"),
            seen.insert(v).inserted
        else { return }
        values.append(v)
        var bucket = byHead[Self.head(v, 0)] ?? []
        bucket.insert(v, at: bucket.firstIndex { $0.count < v.count } ?? bucket.count)
        byHead[Self.head(v, 0)] = bucket
        let pair = Int(v[0]) << 8 | Int(v[1])
        firstPairs[pair >> 6] |= 1 << UInt64(pair & 63)
    }

    public mutating func formUnion(_ other: KnownSecrets) {
        for v in other.values { insert(String(decoding: v, as: UTF8.self)) }
    }

    /// LINE with every known value replaced by the mask; LINE itself (no copy) when it holds none.
    public func scrub<S: StringProtocol>(_ line: S) -> String {
        guard !values.isEmpty else { return String(line) }
        var s = String(line)
        return s.withUTF8 { u -> String? in
            guard u.count >= Self.minimumLength, firstMatch(u, from: 0) != nil else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(u.count)
            var i = 0
            while let (at, len) = firstMatch(u, from: i) {
                out += u[i..<at]
                out += Self.mask.utf8
                i = at + len
            }
            out += u[i...]
            return String(decoding: out, as: UTF8.self)
        } ?? s
    }

    /// The first position at or after FROM where a value starts, and that value's length.
    private func firstMatch(_ u: UnsafeBufferPointer<UInt8>, from: Int) -> (Int, Int)? {
        guard u.count - from >= Self.minimumLength, let base = u.baseAddress else { return nil }
        for i in from..<(u.count - Self.minimumLength + 1) {
            let pair = Int(u[i]) << 8 | Int(u[i + 1])
            guard firstPairs[pair >> 6] & (1 << UInt64(pair & 63)) != 0 else { continue }
            guard let bucket = byHead[Self.head(u, i)] else { continue }
            for v in bucket where v.count <= u.count - i {
                if v.withUnsafeBytes({ memcmp(base + i, $0.baseAddress!, v.count) }) == 0 { return (i, v.count) }
            }
        }
        return nil
    }

    /// The first `minimumLength` bytes of U from I, packed.
    private static func head<C: RandomAccessCollection>(_ u: C, _ i: Int) -> UInt64 where C.Element == UInt8, C.Index == Int {
        var h: UInt64 = 0
        for k in 0..<minimumLength { h = h << 8 | UInt64(u[i + k]) }
        return h
    }
}

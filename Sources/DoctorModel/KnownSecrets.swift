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
/// A value of `window` bytes or more is masked wherever any `window`-byte run of it turns up: a mangled
/// paste glues a PSK to whatever came before or after it (`: PSK "Charactelab-psk-...`), so where the
/// secret starts and ends is not known, only that those bytes were in a secret's place. Shorter values are
/// masked where they turn up whole; values shorter than `minimumLength` are not searched for (masking every
/// `1234` in every log line would destroy the evidence): syntax alone masks them.
///
/// The values live in memory only, for the length of one snapshot's build; no model holds them.
public struct KnownSecrets: Sendable, Hashable {
    public static let minimumLength = 6
    /// Runs of this many bytes of a longer value are masked wherever they turn up.
    public static let window = 16
    /// Runs are indexed in a value's first 64 KiB only.
    static let maxIndexed = 1 << 16
    /// What replaces a secret (the redactor's mask too).
    public static let mask = "<redacted>"

    /// The values, as bytes.
    private(set) var values: [[UInt8]] = []
    private var seen: Set<[UInt8]> = []
    /// Values shorter than `window` by their first `minimumLength` bytes: one lookup per candidate position,
    /// however many there are.
    private var byHead: [UInt64: [Int]] = [:]
    /// One bit per first two bytes of a value: most positions of most lines are rejected with one bit test.
    private var firstPairs = [UInt64](repeating: 0, count: 1024)
    /// Every `window`-byte run of the longer values by its rolling hash: (value, offset).
    private var windows: [UInt64: [(Int32, Int32)]] = [:]
    /// One bit per low 20 bits of a run's hash (the same one-bit rejection, for the rolling hash).
    private var windowBits: [UInt64] = []

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
        guard !value.contains(Self.mask), !value.contains("<quoted>") else { return }
        insert(bytes: v)
    }

    /// The pieces of LINE between its QUOTES: from the first quote to the last (after an unclosed last quote,
    /// the rest of the line), and with OUTSIDE the text before the first and after the last too. A mangled line's
    /// quotes cannot be trusted to pair. OUTSIDE is for lines known to hold a secret (a secrets entry, a key
    /// block's line), where an unclosed secret may follow the last quote; not for a stray quote in a line of
    /// another format, whose own text is evidence.
    public mutating func insertQuotedPieces<S: StringProtocol>(_ line: S, quotes: Set<Character> = ["\"", "'"], outside: Bool) {
        let pieces = line.split(omittingEmptySubsequences: false, whereSeparator: { quotes.contains($0) })
        guard pieces.count > 1 else { return }
        // Inside: between the first quote and the last, and after the last when it is left unclosed (an odd
        // number of quotes).
        for piece in outside ? pieces[...] : pieces.dropFirst().dropLast(pieces.count % 2 == 1 ? 1 : 0) { insert(piece) }
    }

    private mutating func insert(bytes v: [UInt8]) {
        guard v.count >= Self.minimumLength, seen.insert(v).inserted else { return }
        let index = values.count
        values.append(v)
        // Whole-value matching for the short ones only: the runs cover the rest, and comparing a 1 MiB value
        // (a line is that long at most) at every position of a 1 MiB line would never end.
        if v.count < Self.window {
            byHead[Self.head(v, 0), default: []].append(index)
            let pair = Int(v[0]) << 8 | Int(v[1])
            firstPairs[pair >> 6] |= 1 << UInt64(pair & 63)
            return
        }
        if windowBits.isEmpty { windowBits = [UInt64](repeating: 0, count: 1 << 14) }
        var h = Self.rollingHash(v, 0)
        // The runs of a value's first `maxIndexed` bytes: no secret is that long, and a mangled paste's value
        // must not cost its length in index entries.
        for off in 0...(min(v.count, Self.maxIndexed) - Self.window) {
            if off > 0 { h = Self.roll(h, out: v[off - 1], in: v[off + Self.window - 1]) }
            windows[h, default: []].append((Int32(index), Int32(off)))
            windowBits[Int(h & 0xFFFFF) >> 6] |= 1 << (h & 63)
        }
    }

    public mutating func formUnion(_ other: KnownSecrets) {
        for v in other.values { insert(bytes: v) }
    }

    /// LINE with every known value, and every `window`-byte run of a longer one, replaced by the mask (one
    /// mask per masked stretch); LINE itself when it holds none.
    public func scrub<S: StringProtocol>(_ line: S) -> String {
        guard !values.isEmpty else { return String(line) }
        var s = String(line)
        return s.withUTF8 { u -> String? in
            guard u.count >= Self.minimumLength, let base = u.baseAddress else { return nil }
            var marks: [Bool] = []
            func mark(_ at: Int, _ n: Int) {
                if marks.isEmpty { marks = [Bool](repeating: false, count: u.count) }
                for k in at..<(at + n) { marks[k] = true }
            }
            if !byHead.isEmpty {
                for i in 0...(u.count - Self.minimumLength) {
                    let pair = Int(u[i]) << 8 | Int(u[i + 1])
                    guard firstPairs[pair >> 6] & (1 << UInt64(pair & 63)) != 0, let bucket = byHead[Self.head(u, i)] else { continue }
                    for vi in bucket where values[vi].count <= u.count - i {
                        if values[vi].withUnsafeBytes({ memcmp(base + i, $0.baseAddress!, $0.count) }) == 0 { mark(i, values[vi].count) }
                    }
                }
            }
            if !windows.isEmpty, u.count >= Self.window {
                var h = Self.rollingHash(u, 0)
                for i in 0...(u.count - Self.window) {
                    if i > 0 { h = Self.roll(h, out: u[i - 1], in: u[i + Self.window - 1]) }
                    guard windowBits[Int(h & 0xFFFFF) >> 6] & (1 << (h & 63)) != 0, let spots = windows[h] else { continue }
                    for (vi, off) in spots where values[Int(vi)].withUnsafeBytes({ memcmp(base + i, $0.baseAddress! + Int(off), Self.window) }) == 0 {
                        mark(i, Self.window)
                        break
                    }
                }
            }
            guard !marks.isEmpty else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(u.count)
            var i = 0
            while i < u.count {
                if marks[i] {
                    out += Self.mask.utf8
                    while i < u.count, marks[i] { i += 1 }
                } else {
                    out.append(u[i])
                    i += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        } ?? s
    }

    /// The first `minimumLength` bytes of U from I, packed.
    private static func head<C: RandomAccessCollection>(_ u: C, _ i: Int) -> UInt64 where C.Element == UInt8, C.Index == Int {
        var h: UInt64 = 0
        for k in 0..<minimumLength { h = h << 8 | UInt64(u[i + k]) }
        return h
    }

    private static let base: UInt64 = 1_099_511_628_211
    /// base^(window-1): what the byte leaving the window weighs.
    private static let outWeight: UInt64 = (1..<window).reduce(1) { h, _ in h &* base }

    /// Polynomial hash of U[I..<I+window].
    private static func rollingHash<C: RandomAccessCollection>(_ u: C, _ i: Int) -> UInt64 where C.Element == UInt8, C.Index == Int {
        var h: UInt64 = 0
        for k in 0..<window { h = h &* base &+ UInt64(u[i + k]) }
        return h
    }

    private static func roll(_ h: UInt64, out: UInt8, in: UInt8) -> UInt64 {
        (h &- UInt64(out) &* outWeight) &* base &+ UInt64(`in`)
    }
}

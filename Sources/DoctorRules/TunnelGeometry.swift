import DoctorModel

/// Where a connection's traffic should go: its subnet pairs and gateway addresses, from config.
struct TunnelGeometry {
    var localSubnets: [IPPrefix]
    var remoteSubnets: [IPPrefix]
    var localAddress: String?
    var remoteAddress: String?

    init?(_ conn: ConnectionConfig) {
        localAddress = conn.local("")?.value
        remoteAddress = conn.remote("")?.value
        func hostPrefix(_ a: String?) -> [IPPrefix] { a.flatMap { IPPrefix($0) }.map { [$0] } ?? [] }
        let l = conn.subnets(local: true).compactMap { IPPrefix($0) }
        let r = conn.subnets(local: false).compactMap { IPPrefix($0) }
        localSubnets = l.isEmpty ? hostPrefix(localAddress) : l
        remoteSubnets = r.isEmpty ? hostPrefix(remoteAddress) : r
        if localSubnets.isEmpty || remoteSubnets.isEmpty { return nil }
    }

    var pairs: [(IPPrefix, IPPrefix)] { localSubnets.flatMap { l in remoteSubnets.map { (l, $0) } } }
}

/// The SPD indexed by exact selector: a hub has tens of thousands of policies, and a connection's
/// policies almost always carry exactly its subnets. A wider selector falls back to a scan.
struct SPDIndex {
    struct Key: Hashable {
        var dir: PolicyDirection
        var src: IPPrefix
        var dst: IPPrefix
    }

    let exact: [Key: Int]
    let policies: [XfrmPolicy]

    init(_ policies: [XfrmPolicy]) {
        self.policies = policies
        var exact: [Key: Int] = [:]
        for (i, p) in policies.enumerated() where !p.isSocketPolicy {
            let k = Key(dir: p.direction, src: p.src.network, dst: p.dst.network)
            if exact[k] == nil { exact[k] = i }
        }
        self.exact = exact
    }

    /// The non-socket policy of a direction whose selector covers src -> dst.
    func covering(src: IPPrefix, dst: IPPrefix, _ dir: PolicyDirection) -> XfrmPolicy? {
        if let i = exact[Key(dir: dir, src: src.network, dst: dst.network)] { return policies[i] }
        return policies.first { $0.direction == dir && !$0.isSocketPolicy && $0.src.contains(src) && $0.dst.contains(dst) }
    }
}

extension Array where Element == XfrmStatSample {
    /// (first, last, delta) of a counter across the samples; delta nil with one sample.
    func counter(_ name: String) -> (first: UInt64, last: UInt64, delta: UInt64?, lines: [SourceLine])? {
        guard let lastSample = last(where: { $0.counters[name] != nil }), let lastValue = lastSample.counters[name],
            let firstSample = first(where: { $0.counters[name] != nil }), let firstValue = firstSample.counters[name]
        else { return nil }
        let lines = [firstSample.lines[name], lastSample.lines[name]].compactMap { $0 }
        let dedup = lines.count == 2 && lines[0] == lines[1] ? [lines[0]] : lines
        return (firstValue, lastValue, count > 1 ? (lastValue >= firstValue ? lastValue - firstValue : 0) : nil, dedup)
    }
}

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

extension Array where Element == XfrmPolicy {
    /// The non-socket policy of a direction whose selector covers src -> dst.
    func covering(src: IPPrefix, dst: IPPrefix, _ dir: PolicyDirection) -> XfrmPolicy? {
        first { $0.direction == dir && $0.src.contains(src) && $0.dst.contains(dst) && !$0.isSocketPolicy }
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

import DoctorModel

/// The field report's case: leftsubnets=/rightsubnets= make several Child SAs (reqids) to one peer,
/// and replies arrive on the SA of one reqid while the inbound policy for those addresses names another.
struct MultiSubnetTmplMismatch: Rule {
    static let code: FindingCode = .multiSubnetTmplMismatch
    static let stage: Stage = .templates
    static let needs: [InputNeed] = [.counters, .config]
    static let summary = "leftsubnets=/rightsubnets= (several Child SAs, several reqids) and XfrmInTmplMismatch rising: replies arrive on another subnet pair's SA."
    static let examples: [RuleExample] = [
        .triggering("multi-subnet-tmpl-mismatch", cites: "XfrmInTmplMismatch"),
        .nonTriggering("healthy"),
        .nonTriggering("missing-sa"),
        .nonTriggering("two-subnets-one-way"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let stat = ctx.local.xfrmStat, let c = stat.counter("XfrmInTmplMismatch") else { return [] }
        // Rising between samples (or non-zero in a single sample) is happening now; non-zero but flat
        // happened since boot and will come back with the next rekey or restart.
        let rising = c.delta.map { $0 > 0 } ?? (c.last > 0)
        guard c.last > 0 else { return [] }
        return ctx.connectionNames.compactMap { name in
            guard let conn = ctx.connection(name) else { return nil }
            let l = conn.local.subnets.value, r = conn.remote.subnets.value
            guard l.count > 1 || r.count > 1 else { return nil }
            let manyIsLocal = l.count > 1
            let line = (manyIsLocal ? conn.local : conn.remote).subnets.source
            // The key as written (`leftsubnets`), for the title.
            let key = line.flatMap { $0.text.trimmingCharacters(in: .whitespaces).split(separator: "=").first.map(String.init) } ?? "subnets"
            let many = manyIsLocal ? l : r
            let cover = Self.cover(many)
            var evidence = [line].compactMap { $0 } + c.lines
            // One Child SA per subnet pair: show each one's traffic, the asymmetry tells which way breaks.
            let ts = ctx.local.trafficStatus?.filter { $0.connection == name } ?? []
            evidence += ts.map(\.source)
            let inPolicies = (ctx.local.policies ?? []).filter {
                $0.direction == .in && !$0.isSocketPolicy && (many.contains($0.dst) || many.contains($0.src))
            }
            for p in inPolicies.prefix(4) { evidence += p.lines.filter { $0.text.hasPrefix("src") || $0.text.contains("reqid") } }
            evidence += (ctx.local.monitor ?? []).filter { $0.reqid != nil }.prefix(4).map(\.source)
            let oneWay = ts.filter { ($0.inBytes == 0) != ($0.outBytes == 0) }
            // Crossed replies make another SA receive more than it sends. A Child SA that receives nothing while
            // none receives extra means the replies came in clear: replies-in-clear, not this.
            let crossed = ts.contains { $0.inBytes > $0.outBytes }
            if ts.contains(where: { $0.inBytes == 0 && $0.outBytes > 0 }) && !crossed { return nil }
            let reqids = Set(inPolicies.flatMap { $0.templates.map(\.reqid) }).sorted()
            let coverPrefix = cover ?? IPPrefix("0.0.0.0/0")!
            let coverText = coverPrefix.description
            let manyText = many.map(\.description)
            return Finding(
                code: Self.code, severity: rising ? .error : .warning, connection: name,
                title: rising
                    ? "Replies arrive on another subnet's Child SA: XfrmInTmplMismatch +\(c.delta ?? c.last) with \(key)="
                    : "Replies arrived on another subnet's Child SA (XfrmInTmplMismatch \(c.last), not rising now) with \(key)=",
                explanation: """
                    \(key)={\(manyText.joined(separator: ","))} makes Libreswan negotiate one Child SA, with its own \
                    reqid\(reqids.isEmpty ? "" : " (\(reqids.map(String.init).joined(separator: ", ")))"), per subnet pair, all to the same peer. \
                    The kernel counter XfrmInTmplMismatch \(rising ? "rose from \(c.first) to \(c.last)" : "is \(c.last) (flat while sampled)"): packets were decrypted \
                    by an SA whose reqid is not the one the inbound policy for their addresses requires, so they \
                    are dropped after decryption. \
                    \(oneWay.isEmpty ? "" : "The per-Child-SA traffic is one-way (\(oneWay.map { "#\($0.serial) in=\($0.inBytes) out=\($0.outBytes)" }.joined(separator: ", "))): requests leave on one SA and replies come back on the other. ")\
                    This is the field report's failure: the peer sends replies through the wrong subnet pair's \
                    tunnel (its SPI choice does not respect the subnet mask), so it comes and goes with rekeys and \
                    daemon restarts.
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Use one Child SA that covers all the subnets (\(coverText)) instead of one per subnet, on both ends.", steps: [
                    ctx.changeOrAdd(manyIsLocal ? .localSubnets([coverPrefix]) : .remoteSubnets([coverPrefix]), on: .local, name,
                                    why: "One selector covering \(manyText.joined(separator: " and ")) (one reqid, one path)"),
                    // The peer holds the same subnets on its other side.
                    ctx.changeOrAdd(manyIsLocal ? .remoteSubnets([coverPrefix]) : .localSubnets([coverPrefix]), on: .peer, name, why: "Mirror it on the peer"),
                    .command(.both, "Reload and re-establish", "\(ctx.cli.replace(name)) && \(ctx.cli.up(name))"),
                    .check(.local, "Confirm the counter stops rising", "grep XfrmInTmplMismatch /proc/net/xfrm_stat"),
                ]),
                stage: Self.stage,
                // Without per-Child-SA counters, replies sent in clear raise the same counter.
                candidates: ts.isEmpty ? [
                    Candidate(code: Self.code, decidedBy: "`ipsec trafficstatus`: one subnet pair's Child SA has inBytes=0 and another receives more than it sends"),
                    Candidate(code: RepliesInClear.code, decidedBy: "`ipsec trafficstatus`: a Child SA has inBytes=0 and none receives more than it sends; the peer's `ip xfrm policy` has no dir out policy for the pair"),
                ] : nil)
        }
    }

    /// The smallest prefix containing all of them (10.1.0.0/24 + 10.1.1.0/24 -> 10.1.0.0/23).
    static func cover(_ ps: [IPPrefix]) -> IPPrefix? {
        guard var c = ps.first else { return nil }
        while !ps.allSatisfy({ c.contains($0) }) && c.length > 0 {
            c.length -= 1
            c = c.network
        }
        return c
    }
}

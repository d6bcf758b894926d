import DoctorModel

/// One subnet pair's replies never come back through the tunnel, and they are not crossing onto another
/// pair's Child SA either: they arrive unencrypted. This end's inbound policy for the pair demands ESP, so
/// the kernel drops them and counts XfrmInTmplMismatch, exactly the counter of the field report's crossed
/// SAs. What tells the two apart is the per-Child-SA traffic: crossed replies make another SA of the same
/// peer receive more than it sends; replies in clear reach no SA at all.
///
/// Real example (lab `two-subnets-one-way`, west; east lost its dir out policy to 10.1.1.0/24):
///
///     006 #2: "westnet-eastnet/1x0", type=ESP, ..., inBytes=168, outBytes=168, ...
///     006 #3: "westnet-eastnet/2x0", type=ESP, ..., inBytes=0, outBytes=168, ...
///     XfrmInTmplMismatch      	0   ...   XfrmInTmplMismatch      	4
///
/// Not triggered by the field report's capture (`multi-subnet-tmpl-mismatch`: #2 in=168 out=0, the
/// replies are on #2) nor by a healthy pair.
struct RepliesInClear: Rule {
    static let code: FindingCode = .repliesInClear
    static let stage: Stage = .repliesInClear
    static let needs: [InputNeed] = [.counters, .tunnelState, .config]
    static let summary = "A Child SA sends but receives nothing, XfrmInTmplMismatch rises and no other SA received the replies: the peer sends them unencrypted (its outbound policy for the pair is gone) and this end's inbound policy drops them."
    static let examples: [RuleExample] = [
        .triggering("two-subnets-one-way", cites: "inBytes=0"),
        .nonTriggering("multi-subnet-tmpl-mismatch"),
        .nonTriggering("healthy"),
        .nonTriggering("mtu-blackhole"),
    ]
    static let explains: Set<FindingCode> = [.trafficFails, .xfrmCounter]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let c = ctx.local.xfrmStat?.counter("XfrmInTmplMismatch"), c.delta.map({ $0 > 0 }) ?? (c.last > 0) else { return [] }
        return ctx.connectionNames.compactMap { name in
            guard ctx.isUp(name) == true, let geo = ctx.geometry(name) else { return nil }
            let ts = ctx.local.trafficStatus?.filter { $0.connection == name } ?? []
            let oneWay = ts.filter { $0.inBytes == 0 && $0.outBytes > 0 }
            // Crossed replies (the field report) land on another SA, which then receives more than it sends.
            guard !oneWay.isEmpty, !ts.contains(where: { $0.inBytes > $0.outBytes }) else { return nil }
            // The pair that fails, from the user's pings: lost from one local subnet, passing from another.
            let pings = ctx.local.pings ?? []
            func pair(_ p: PingProbe) -> (IPPrefix, IPPrefix)? {
                guard let s = p.sourceAddress.flatMap({ IPPrefix($0) }), let d = IPPrefix(p.destination) else { return nil }
                return geo.pairs.first { $0.0.contains(s) && $0.1.contains(d) }
            }
            let lost = pings.filter { $0.received == 0 && $0.reportedMTU == nil && pair($0) != nil }
            let failing = lost.first.flatMap(pair)
            let passing = pings.first { $0.received > 0 && pair($0) != nil && pair($0)?.0 != failing?.0 }
            let spd = ctx.local.policies.map(SPDIndex.init)
            let inPolicy = failing.flatMap { spd?.covering(src: $0.1, dst: $0.0, .in) }
            // With the peer's SPD at hand, its dir out policy for the pair decides.
            let peerOut: XfrmPolicy?? = failing.flatMap { f in ctx.peer?.policies.map { SPDIndex($0).covering(src: f.1, dst: f.0, .out) } }
            if case .some(.some) = peerOut { return nil }
            let peerLabel = ctx.peer?.label ?? "the peer"
            let pairText = failing.map { "\($0.1) -> \($0.0)" } ?? "the subnet pair of Child SA \(oneWay.map { "#\($0.serial)" }.joined(separator: ", "))"
            var evidence = oneWay.map(\.source) + ts.filter { !oneWay.contains($0) }.map(\.source) + c.lines
            evidence += [lost.first?.source, passing?.source].compactMap { $0 }
            evidence += inPolicy?.lines.filter { $0.text.hasPrefix("src") || $0.text.contains("reqid") } ?? []
            let peerSays: String
            switch peerOut {
            case .some(.none): peerSays = " \(peerLabel)'s SPD confirms it: it has no dir out policy for \(pairText)."
            default: peerSays = " The peer's `ip xfrm policy` decides: no `dir out` policy for \(pairText) confirms it."
            }
            let peerName = ctx.peerConnection(name)?.name ?? name
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "Replies for \(pairText) arrive unencrypted and are dropped: \(peerLabel) has no outbound IPsec policy for them",
                explanation: """
                    Child SA \(oneWay.map { "#\($0.serial) (in=\($0.inBytes) out=\($0.outBytes))" }.joined(separator: ", ")) \
                    carries requests out but nothing comes back on it, and no other Child SA of this connection \
                    received more than it sent, so the replies are not crossing onto another subnet pair's SA (the \
                    field report's failure would show that). XfrmInTmplMismatch \(c.delta.map { "rose by \($0) (\(c.first) -> \(c.last))" } ?? "is \(c.last)"): \
                    packets for \(failing.map { "\($0.0)" } ?? "the subnet") arrived without the ESP this end's inbound \
                    policy\(inPolicy.flatMap { $0.templates.first }.map { " (reqid \($0.reqid))" } ?? "") requires, and the \
                    kernel dropped them. The peer sends its replies for that pair in clear: its dir out policy (or SA) \
                    for \(pairText) is missing, deleted after pluto installed it (a script, a firewall or network \
                    manager flushing the SPD), while its other pairs still work.\(passing == nil ? "" : " Pings from another local subnet pass, so the IKE SA and the rest of the tunnel are fine.")\(peerSays)
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Re-install the peer's policies for the pair (re-establish the connection there), then find what removed them.", steps: [
                    .check(.peer, "Confirm the outbound policy for \(pairText) is missing", "ip xfrm policy show dir out" + (failing.map { " src \($0.1) dst \($0.0)" } ?? "")),
                    .command(.peer, "Re-establish the connection so pluto re-installs its policies", "\(ctx.cli.down(peerName)); \(ctx.cli.up(peerName))"),
                    .check(.peer, "Look for another IKE daemon or scripts that flush the SPD", "ps -e | grep -E 'charon|racoon|iked'; grep -rn 'xfrm policy flush' /etc 2>/dev/null"),
                    .check(.local, "Confirm the counter stops rising and the pair's Child SA now receives", "grep XfrmInTmplMismatch /proc/net/xfrm_stat; ipsec trafficstatus"),
                ]),
                stage: Self.stage)
        }
    }
}

import DoctorModel

/// Several Child SAs to one peer with one reqid: a manual `reqid=` on a connection with `leftsubnets=` /
/// `rightsubnets=` (ipsec.conf(5): "Manually assigned reqids are all identical"). The kernel finds an
/// outbound SA by the policy template's reqid and the peer address, not by the subnets, so the newest SA of
/// that reqid carries every subnet pair's packets and the others sit idle.
///
/// Real example (lab `fixed-reqid-subnets`, reqid=100 on both ends, both pairs pinged):
///
///     006 #2: "westnet-eastnet/1x0", type=ESP, ..., inBytes=0, outBytes=0, ...
///     006 #3: "westnet-eastnet/2x0", type=ESP, ..., inBytes=336, outBytes=336, ...
///
/// With the same reqid on the peer, its inbound policies take any of them and traffic passes, until the SA
/// carrying it goes away. With one on this end only (lab `fixed-reqid-one-end`), the peer's inbound policy of
/// the other pair requires its own reqid: the field report's XfrmInTmplMismatch, on the peer.
struct SharedReqid: Rule {
    static let code: FindingCode = .sharedReqid
    static let stage: Stage = .reqid
    static let needs: [InputNeed] = [.config]
    static let summary = "A manual reqid= on a connection with several subnet pairs: every Child SA shares it, the newest carries all traffic, and a peer without the same reqid drops the other pairs (XfrmInTmplMismatch on the peer)."
    static let explains: Set<FindingCode> = [.multiSubnetTmplMismatch, .trafficFails, .xfrmCounter]
    static let examples: [RuleExample] = [
        .triggering("fixed-reqid-subnets", cites: "reqid=100"),
        .triggering("fixed-reqid-one-end", cites: "reqid=100"),
        .nonTriggering("multi-subnet-tmpl-mismatch"),
        .nonTriggering("healthy"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            guard let conn = ctx.connection(name), let reqid = conn.reqid, let geo = ctx.geometry(name), geo.pairs.count > 1 else { return nil }
            let manyIsLocal = conn.local.subnets.value.count > 1
            let subnetsLine = (manyIsLocal ? conn.local : conn.remote).subnets.source
            let ts = ctx.local.trafficStatus?.filter { $0.connection == name } ?? []
            let idle = ts.filter { $0.inBytes == 0 && $0.outBytes == 0 }
            let busy = ts.filter { $0.inBytes > 0 || $0.outBytes > 0 }
            let peerConn = ctx.peerConnection(name)
            let peerReqid = peerConn?.reqid?.value
            // Known only with the peer's config; a mismatch fails now, the same manual reqid later.
            let peerDiffers = peerConn != nil && peerReqid != reqid.value
            // The user's pings from one of the pairs' subnets died: failing now, not just fragile.
            let lost = (ctx.local.pings ?? []).filter { p in
                p.received == 0 && p.reportedMTU == nil
                    && p.sourceAddress.flatMap { IPPrefix($0) }.map { s in geo.localSubnets.contains { $0.contains(s) } } == true
            }
            let outSAs = (ctx.local.states ?? []).filter { !$0.isLarval && $0.reqid == UInt32(reqid.value) && $0.dst == geo.remoteAddress }
            var evidence = [reqid.source, subnetsLine].compactMap { $0 }
            evidence += (idle + busy).map(\.source)
            if let p = peerConn { evidence.append(p.reqid?.source ?? p.header) }
            evidence += lost.prefix(2).map(\.source)
            let carrying = busy.count == 1 && !idle.isEmpty
                ? " Here that is #\(busy[0].serial) (in=\(busy[0].inBytes) out=\(busy[0].outBytes)), while \(idle.map { "#\($0.serial)" }.joined(separator: ", ")) carried nothing."
                : ""
            let peerText = peerDiffers
                ? "The peer has \(peerReqid.map { "reqid=\($0)" } ?? "no reqid=, so one reqid per subnet pair"): its inbound policy for every other pair requires that pair's own reqid, and drops what arrives on the shared SA (XfrmInTmplMismatch rises on the peer). That pair's traffic fails now."
                : peerConn != nil
                    ? "The peer uses the same reqid, so its inbound policies accept any of the SAs and traffic passes; it moves at once to another SA whenever the carrying one is rekeyed or deleted, and a change on one end only (a new reqid, a restart with another config) breaks every pair but one."
                    : !lost.isEmpty
                    ? "Pings from \(lost.compactMap(\.sourceAddress).joined(separator: ", ")) die: the peer most likely has no reqid= (one reqid per pair), so its inbound policy for that pair drops what arrives on the shared SA (XfrmInTmplMismatch rises on the peer), the field report's failure; the peer's config and xfrm_stat confirm it."
                    : "If the peer has the same reqid=, traffic passes for now; if it has none (one reqid per pair), its inbound policies for the other pairs drop what arrives on the shared SA (XfrmInTmplMismatch on the peer), the field report's failure."
            let cover = MultiSubnetTmplMismatch.cover(manyIsLocal ? geo.localSubnets : geo.remoteSubnets)
            // With the peer's config in hand, each end's own line: one end's reqid alone still ties its SAs together.
            var steps = [ctx.change(.reqid(nil), on: peerConn == nil ? .both : .local, name, why: "Let pluto assign one reqid per subnet pair")].compactMap { $0 }
            if peerConn?.reqid != nil, let step = ctx.change(.reqid(nil), on: .peer, name, why: "The same on the peer") { steps.append(step) }
            if let cover, subnetsLine != nil,
                let step = ctx.change(manyIsLocal ? .localSubnets([cover]) : .remoteSubnets([cover]), on: .both, name, why: "Or one Child SA for all the subnets, which keeps one reqid usable")
            {
                steps.append(step.instead)
            }
            steps.append(.command(.both, "Reload and re-establish", "\(ctx.cli.replace(name)) && \(ctx.cli.up(name))"))
            steps.append(.check(.both, "Each Child SA now has its own reqid and carries its own pair's traffic", "ip xfrm state | grep reqid; ipsec trafficstatus"))
            return Finding(
                code: Self.code, severity: peerDiffers || !lost.isEmpty ? .error : .warning, connection: name,
                title: "\(geo.pairs.count) subnet pairs share reqid \(reqid.value): one Child SA carries all their traffic",
                explanation: """
                    \(subnetsLine.map { "\($0.text.trimmingCharacters(in: .whitespaces)) makes" } ?? "This connection makes") \
                    one Child SA per subnet pair, and reqid=\(reqid.value) gives them all the same reqid \
                    (ipsec.conf(5): manually assigned reqids are all identical)\(outSAs.count > 1 ? "; the SAD holds \(outSAs.count) outbound SAs of reqid \(reqid.value) to \(geo.remoteAddress ?? "the peer")" : ""). \
                    The kernel picks the outbound SA by the policy template's reqid and the peer's address, not by \
                    the subnets, so the newest SA of that reqid carries every pair's packets.\(carrying) \(peerText)
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Remove reqid= (one reqid per subnet pair), or use one covering subnet.", steps: steps),
                stage: Self.stage)
        }
    }
}

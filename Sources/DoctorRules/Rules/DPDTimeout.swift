import DoctorModel

/// The peer stopped answering liveness (DPD) probes and was declared dead.
struct DPDTimeout: Rule {
    static let code: FindingCode = .dpdTimeout
    static let stage: Stage = .liveness
    static let needs: [InputNeed] = [.ikeStory]
    static let summary = "The peer was declared dead: DPD/liveness probes went unanswered on an established IKE SA."
    static let examples: [RuleExample] = [
        .triggering("dpd-timeout", cites: "ESTABLISHED_IKE_SA"),
        .triggering("ikev1-dpd-timeout", cites: "DPD action - restarting"),
        .nonTriggering("healthy"),
        .nonTriggering("peer-unreachable"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let dpd = ctx.localEvents(.dpdAction, name)
            guard !dpd.isEmpty else { return nil }
            let conn = ctx.connection(name)
            let peer = ctx.peerAddress(name) ?? "the peer"
            var ev = DiagnosisContext.sample(dpd, 3)
            ev += [conn?.dpd.delay, conn?.dpd.timeout, conn?.dpd.action].compactMap { $0?.source }
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "\(peer) stopped answering liveness (DPD) checks and was declared dead",
                explanation: """
                    The tunnel had been established, then the IKE SA's liveness probes (DPD, \
                    dpddelay=\(conn?.dpd.delay?.value ?? "default")) got no answer within the timeout, so pluto \
                    declared the peer dead and acted (dpdaction=\(conn?.dpd.action?.value ?? "hold")). The peer \
                    went down, its IKE daemon restarted, or the path started dropping UDP 500/4500 (NAT mapping \
                    expired, firewall change).
                    """,
                evidence: ev,
                remedy: Remedy(summary: "Restore IKE reachability to \(peer); keep DPD so the tunnel recovers automatically.", steps: [
                    .check(.local, "Check the peer still answers IKE (look for replies)", "tcpdump -ni any 'udp port 500 or udp port 4500' and host \(ctx.peerAddressArgument(name))"),
                    .check(.peer, "Check the peer's daemon and firewall", "systemctl status ipsec; nft list ruleset | grep -nE 'dport (500|4500)'"),
                    ctx.changeOrAdd(.dpdAction("restart"), on: .local, name, why: "Re-establish automatically when the peer is back (IKEv1; IKEv2 revives connections with auto=start)"),
                ]),
                stage: Self.stage)
        }
    }
}

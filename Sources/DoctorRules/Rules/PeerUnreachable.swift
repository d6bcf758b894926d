import DoctorModel

/// No answer at all to the first IKE message (retransmits, then timeout), or ICMP host/network unreachable.
struct PeerUnreachable: Rule {
    static let code = "peer-unreachable"
    static let summary = "The first IKE message gets no answer (retransmits then timeout) or ICMP no route / host unreachable."
    static let examples: [RuleExample] = [
        .triggering("peer-unreachable", cites: "timeout exceeded after 5 retransmits"),
        .nonTriggering("peer-ike-not-running"),
        .nonTriggering("ikev2-ike-proposal-mismatch"),
        .nonTriggering("ike-version-mismatch", withPeer: true),
        .nonTriggering("ike-version-mismatch"),
    ]

    static let firstMessageStates: Set<String> = ["STATE_MAIN_I1", "STATE_AGGR_I1", "STATE_PARENT_I1", "STATE_V2_PARENT_I1", "IKE_SA_INIT_I"]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            if ctx.isUp(name) == true { return nil }
            let icmp = ctx.localEvents(.icmpError, name)
            let unreachable = icmp.filter { ["113", "101", "110"].contains($0.details["errno"] ?? "") || ($0.details["icmpType"] == "3" && ["0", "1"].contains($0.details["icmpCode"] ?? "")) }
            // A timeout line that names no state (the test suite's `retransmit so timing out SA`) counts when
            // nothing shows the exchange got further.
            let progressed = [IKEEventKind.ikeEstablished, .authFailedReceived, .authTimeout, .idRejectedReceived, .childNoProposalReceived]
                .contains { !ctx.localEvents($0, name).isEmpty }
            let timeouts = ctx.localEvents(.timeout, name).filter { Self.firstMessageStates.contains($0.state ?? "") || ($0.state == nil && !progressed) }
            // Any sign the peer answered rules this out.
            let answered = !ctx.localEvents(.ikeNoProposalReceived, name).isEmpty || icmp.contains { $0.details["errno"] == "111" }
                || !ctx.localEvents(.ikeEstablished, name).isEmpty
            let peerSawUs = !ctx.peerEvents(.noSuitableConnection, name).isEmpty || !ctx.peerEvents(.ikev1Dropped, name).isEmpty
                || !ctx.anyEvents(.ikeVersionRefused, name).isEmpty
                || !ctx.peerEvents(.ikeNoProposalLocal, name).isEmpty
            let conn = ctx.config(name)
            let peerAddr = conn?.remote("")?.value ?? unreachable.last?.details["complainant"] ?? "the peer"
            if let last = unreachable.last, !answered {
                return finding(name, peerAddr, "\(last.details["error"] ?? "unreachable"): no route to \(peerAddr)",
                               "The kernel reported ICMP destination unreachable (\(last.details["error"] ?? "errno \(last.details["errno"] ?? "?")")) for IKE packets to \(peerAddr): there is no working route to it, or a router on the way rejects it.",
                               DiagnosisContext.sample(unreachable), routeSteps(peerAddr))
            }
            guard !timeouts.isEmpty, !answered, !peerSawUs else { return nil }
            let ikev1 = Self.isIKEv1(ctx, name, timeouts)
            // With only this end's view, IKEv1 silence is reported as the likelier version refusal (below).
            if ikev1 && ctx.peer == nil { return nil }
            let retrans = ctx.local.events.count(.retransmission, connection: name)
            var why = "The first IKE message to \(peerAddr) was sent\(retrans > 0 ? " \(retrans) more time(s)" : "") without any answer, then pluto gave up. Nothing came back: no IKE reply and no ICMP error. A firewall on the path (or on \(peerAddr)) silently drops UDP 500/4500, or \(peerAddr) is down."
            if let peer = ctx.peer, !peer.logFiles.isEmpty {
                why += " The peer's log (\(peer.logFiles.joined(separator: ", "))) shows no IKE message from this end either, so the packets are lost before pluto on the peer sees them."
            }
            if ikev1 {
                why += " This connection is IKEv1: a Libreswan 5.x peer drops IKEv1 silently by default (ikev1-policy=drop), which looks the same; the peer's log would say `ignoring IKEv1 packet`."
            }
            var f = finding(name, peerAddr, "No answer from \(peerAddr) to the first IKE message", why,
                            DiagnosisContext.sample(timeouts, 1) + DiagnosisContext.sample(ctx.localEvents(.retransmission, name), 1),
                            routeSteps(peerAddr) + HostFirewall(ctx.local).acceptIKE(.local, from: peerAddr)
                                + HostFirewall(ctx.peer).acceptIKE(.peer, from: conn?.local("")?.value ?? "<this gateway's address>"))
            return f
        }
    }

    /// The connection negotiates IKEv1 (its config, or its log's Main Mode states / initiating line).
    static func isIKEv1(_ ctx: DiagnosisContext, _ name: String, _ timeouts: [IKEEvent]) -> Bool {
        let conn = ctx.config(name)
        return conn?.ikeVersion == .v1Only || (conn == nil && timeouts.contains { $0.details["ikeVersion"] == "IKEv1" || ($0.state ?? "").contains("MAIN") })
            || ctx.localEvents(.initiating, name).contains { $0.details["ikeVersion"] == "IKEv1" }
    }

    /// The first IKE message's timeouts when nothing at all came back (no reply, no ICMP, nothing on the
    /// peer's side), else nil.
    static func silence(_ ctx: DiagnosisContext, _ name: String) -> [IKEEvent]? {
        guard ctx.isUp(name) != true else { return nil }
        let icmp = ctx.localEvents(.icmpError, name)
        let progressed = [IKEEventKind.ikeEstablished, .authFailedReceived, .authTimeout, .idRejectedReceived, .childNoProposalReceived]
            .contains { !ctx.localEvents($0, name).isEmpty }
        let timeouts = ctx.localEvents(.timeout, name).filter { firstMessageStates.contains($0.state ?? "") || ($0.state == nil && !progressed) }
        guard !timeouts.isEmpty, icmp.isEmpty, ctx.localEvents(.ikeNoProposalReceived, name).isEmpty,
            ctx.localEvents(.ikeEstablished, name).isEmpty  // it answered once (a DPD timeout's re-initiation)
        else { return nil }
        return timeouts
    }

    func finding(_ name: String, _ peer: String, _ title: String, _ why: String, _ ev: [SourceLine], _ steps: [RemedyStep]) -> Finding {
        Finding(code: Self.code, severity: .error, connection: name, title: title, explanation: why, evidence: ev,
                remedy: Remedy(summary: "Make UDP 500 and 4500 (and ESP, IP protocol 50) pass between both gateways, both ways.", steps: steps),
                rank: Rank.reachability + 1)
    }

    func routeSteps(_ peer: String) -> [RemedyStep] {
        [.check(.local, "Check the route to the peer", "ip route get \(peer)"),
         .check(.both, "Watch IKE on the wire on both ends while retrying", "tcpdump -ni any 'udp port 500 or udp port 4500 or esp' and host \(peer)")]
    }
}

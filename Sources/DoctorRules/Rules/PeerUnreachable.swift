import DoctorModel

/// No answer at all to the first IKE message (retransmits, then timeout), or ICMP host/network unreachable.
struct PeerUnreachable: Rule {
    static let code: FindingCode = .peerUnreachable
    static let stage: Stage = .reachability
    static let needs: [InputNeed] = [.ikeStory]
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
            let conn = ctx.connection(name)
            let peerAddr = ctx.peerAddress(name) ?? "the peer"
            let peerArg = ctx.peerAddressArgument(name)
            // Redirected (RFC 5685) to a gateway that then never answers: the original gateway's answers do not count.
            let before: (IKEEvent, IKEEvent) -> Bool = { ($0.source.file, $0.source.line) < ($1.source.file, $1.source.line) }
            let redirects = ctx.localEvents(.redirected, name)
            if let lost = ctx.localEvents(.timeout, name).first(where: { t in Self.firstMessageStates.contains(t.state ?? "") && redirects.contains { before($0, t) } }),
                let redirect = redirects.last(where: { before($0, lost) }), let gateway = redirect.details["gateway"], !gateway.isEmpty
            {
                let who = peerAddr == "the peer" ? "The peer" : peerAddr
                return finding(name, gateway, "\(who) redirects this end to \(gateway), which does not answer",
                               "\(who) accepted this end and then redirected it (IKEv2 REDIRECT, RFC 5685) to the gateway \(gateway). This end's first IKE message to \(gateway) got no answer and timed out; pluto goes back to \(peerAddr), which redirects it again. \(gateway) is down, unreachable from here, or drops UDP 500/4500; or \(peerAddr)'s redirect list names the wrong gateway.",
                               [redirect.source, lost.source],
                               [.check(.peer, "On \(peerAddr): the gateway(s) it redirects to (redirect-to= / global-redirect-to=)", "ipsec status | grep -i redirect")]
                                   + routeSteps(gateway) + HostFirewall(ctx.local).acceptIKE(.local, from: gateway))
            }
            if let last = unreachable.last, !answered {
                return finding(name, peerAddr, "\(last.details["error"] ?? "unreachable"): no route to \(peerAddr)",
                               "The kernel reported ICMP destination unreachable (\(last.details["error"] ?? "errno \(last.details["errno"] ?? "?")")) for IKE packets to \(peerAddr): there is no working route to it, or a router on the way rejects it.",
                               DiagnosisContext.sample(unreachable), routeSteps(peerArg))
            }
            if timeouts.isEmpty, !answered, !peerSawUs, !progressed, let pending = Self.pendingFirstMessage(ctx, name) {
                return pendingFinding(ctx, name, peerAddr, pending)
            }
            guard !timeouts.isEmpty, !answered, !peerSawUs else { return nil }
            let ikev1 = Self.isIKEv1(ctx, name, timeouts)
            // With only this end's view, IKEv1 silence is reported as the likelier version refusal (below).
            if ikev1 && ctx.peer == nil { return nil }
            // The cited timeout's own count (`after 5 retransmits`): the same retransmissions logged in ipsec-up.txt
            // and pluto.log must not be counted twice.
            let cited = timeouts.first
            let retrans = cited?.details["retransmits"].flatMap { Int($0) }
                ?? ctx.localEvents(.retransmission, name).filter { $0.source.file == cited?.source.file }.count
            var why = "The first IKE message to \(peerAddr) was sent\(retrans > 0 ? " \(retrans) more time(s)" : "") without any answer, then pluto gave up. Nothing came back: no IKE reply and no ICMP error. A firewall on the path (or on \(peerAddr)) silently drops UDP 500/4500, or \(peerAddr) is down."
            if let peer = ctx.peer, !peer.logFiles.isEmpty {
                why += " The peer's log (\(peer.logFiles.joined(separator: ", "))) shows no IKE message from this end either, so the packets are lost before pluto on the peer sees them."
            }
            if ikev1 {
                why += " This connection is IKEv1: a Libreswan 5.x peer drops IKEv1 silently by default (ikev1-policy=drop), which looks the same; the peer's log would say `ignoring IKEv1 packet`."
            }
            var f = finding(name, peerAddr, "No answer from \(peerAddr) to the first IKE message", why,
                            DiagnosisContext.sample(timeouts, 1) + DiagnosisContext.sample(ctx.localEvents(.retransmission, name), 1),
                            routeSteps(peerArg) + HostFirewall(ctx.local).acceptIKE(.local, from: peerArg)
                                + HostFirewall(ctx.peer).acceptIKE(.peer, from: conn?.local.address?.value ?? "<this gateway's address>"))
            return f
        }
    }

    /// `ipsec status` states of NAME still waiting for the answer to the first IKE message, pluto retransmitting,
    /// seen more than once:
    ///
    ///     #1: "westnet-eastnet-ipv4-psk-ikev2":500 sent IKE_SA_INIT request; RETRANSMIT in XXs; idle;                  (5.x)
    ///     000 #1: "westnet-eastnet-ipv4-psk-ikev2":500 STATE_PARENT_I1 (sent v2I1, expected v2R1); EVENT_RETRANSMIT in XXs; idle;   (3.x)
    static func pendingFirstMessage(_ ctx: DiagnosisContext, _ name: String) -> [StatusState]? {
        let firstMessage = ["sent IKE_SA_INIT request", "PARENT_I1", "IKE_SA_INIT_I", "MAIN_I1", "AGGR_I1", "sent v2I1"]
        let pending = (ctx.local.statusStates ?? []).filter { s in
            s.connection == name && s.source.text.contains("RETRANSMIT in") && firstMessage.contains { s.source.text.contains($0) }
        }
        // One status taken seconds after `ipsec up` (`RETRANSMIT in 1s`) is a negotiation under way; the same
        // wait in two status outputs, or a second attempt, is one that gets no answer.
        return Set(pending.map(\.source)).count >= 2 ? pending : nil
    }

    /// Still retransmitting the first message when the status was taken: nothing has answered yet. Whether the
    /// packets are lost on the way or the peer has no IKE daemon listening, this end alone cannot tell (pluto
    /// logs the peer's ICMP port unreachable, if one comes back, only in its log, not in the status).
    func pendingFinding(_ ctx: DiagnosisContext, _ name: String, _ peerAddr: String, _ pending: [StatusState]) -> Finding {
        let serials = Set(pending.map(\.serial)).sorted().map { "#\($0)" }
        let ikev1 = pending.contains { $0.source.text.contains("MAIN_I1") || $0.source.text.contains("AGGR_I1") }
        let peerArg = ctx.peerAddressArgument(name)
        var why = "The status shows \(serials.joined(separator: ", ")) still waiting for an answer to the first IKE message to \(peerAddr), pluto retransmitting it\(serials.count > 1 ? " (more than one attempt)" : ""). Nothing has come back: no IKE reply, and nothing in what was captured shows an ICMP error. Either the packets are lost on the way (a firewall dropping UDP 500/4500, a route, \(peerAddr) down), or \(peerAddr) is up but runs no IKE daemon; from this end alone the two look the same. A pluto log would decide: `asynchronous network error report ... Connection refused` (ICMP port unreachable) means the peer has no pluto listening."
        if ikev1 { why += " This connection is IKEv1: a Libreswan 5.x peer drops IKEv1 silently by default (ikev1-policy=drop), which looks the same." }
        let steps: [RemedyStep] = [
            .check(.peer, "Is pluto running and listening on the peer?", "ipsec status | head -3; ss -ulnp | grep -E ':(500|4500) '"),
            .check(.local, "Did the peer answer with ICMP port unreachable? (pluto logs it as Connection refused)", "journalctl -u ipsec --since -10min --no-pager | grep -E 'asynchronous network error|Connection refused|No route'"),
        ] + routeSteps(peerArg) + HostFirewall(ctx.local).acceptIKE(.local, from: peerArg)
            + HostFirewall(ctx.peer).acceptIKE(.peer, from: ctx.connection(name)?.local.address?.value ?? "<this gateway's address>")
        var candidates = [
            Candidate(code: Self.code, decidedBy: "tcpdump on the peer shows no IKE packet from this end arriving (lost on the path or dropped by a firewall)"),
            Candidate(code: PeerIKENotRunning.code, decidedBy: "the peer's `ipsec status` says Pluto is not running, or this end's log has `Connection refused` (ICMP port unreachable)"),
        ]
        if ikev1 { candidates.append(Candidate(code: IKEVersionMismatch.code, decidedBy: "the peer's log says `ignoring IKEv1 packet` (ikev1-policy=drop)")) }
        return Finding(
            code: Self.code, severity: .error, connection: name,
            title: "No answer from \(peerAddr) to the first IKE message: the peer is unreachable or runs no IKE daemon",
            explanation: why, evidence: pending.prefix(3).map(\.source),
            remedy: Remedy(summary: "Find out whether the peer's pluto is running, then make UDP 500 and 4500 pass between both gateways, both ways.", steps: steps),
            stage: Self.stage, candidates: candidates)
    }

    /// The connection negotiates IKEv1 (its config, or its log's Main Mode states / initiating line).
    static func isIKEv1(_ ctx: DiagnosisContext, _ name: String, _ timeouts: [IKEEvent]) -> Bool {
        let conn = ctx.connection(name)
        return conn?.ikeVersion.value == .v1 || (conn == nil && timeouts.contains { $0.details["ikeVersion"] == "IKEv1" || ($0.state ?? "").contains("MAIN") })
            || ctx.localEvents(.initiating, name).contains { $0.details["ikeVersion"] == "IKEv1" }
    }

    /// The first IKE message's timeouts when nothing at all came back (no reply, no ICMP, nothing on the
    /// peer's side), else nil.
    static func silence(_ ctx: DiagnosisContext, _ name: String) -> [IKEEvent]? {
        guard ctx.isUp(name) != true else { return nil }
        let icmp = ctx.localEvents(.icmpError, name)
        let progressed = [IKEEventKind.ikeEstablished, .authFailedReceived, .authTimeout, .idRejectedReceived, .childNoProposalReceived]
            .contains { !ctx.localEvents($0, name).isEmpty }
        // This end read the peer's answer and refused it (its ID, its certificate): the peer is not silent,
        // whatever timeout follows (IKEv1 Aggressive Mode's initiator times out after refusing the response).
        let refusedAnswer = !ctx.localEvents(.peerIDMismatch, name).isEmpty || !ctx.localEvents(.authMethodMismatch, name).isEmpty
            || ctx.localEvents(.certificateError, name).contains { $0.details["cause"] == CredentialCause.idNotInSAN.rawValue || $0.source.text.contains("peer") }
        guard !refusedAnswer else { return nil }
        let timeouts = ctx.localEvents(.timeout, name).filter { firstMessageStates.contains($0.state ?? "") || ($0.state == nil && !progressed) }
        guard !timeouts.isEmpty, icmp.isEmpty, ctx.localEvents(.ikeNoProposalReceived, name).isEmpty,
            ctx.localEvents(.ikeEstablished, name).isEmpty  // it answered once (a DPD timeout's re-initiation)
        else { return nil }
        return timeouts
    }

    func finding(_ name: String, _ peer: String, _ title: String, _ why: String, _ ev: [SourceLine], _ steps: [RemedyStep]) -> Finding {
        Finding(code: Self.code, severity: .error, connection: name, title: title, explanation: why, evidence: ev,
                remedy: Remedy(summary: "Make UDP 500 and 4500 (and ESP, IP protocol 50) pass between both gateways, both ways.", steps: steps),
                stage: Self.stage)
    }

    func routeSteps(_ peer: String) -> [RemedyStep] {
        [.check(.local, "Check the route to the peer", "ip route get \(peer)"),
         .check(.both, "Watch IKE on the wire on both ends while retrying", "tcpdump -ni any 'udp port 500 or udp port 4500 or esp' and host \(peer)")]
    }
}

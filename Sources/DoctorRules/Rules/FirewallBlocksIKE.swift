import DoctorModel

/// The host firewall of one end drops (or rejects) IKE, NAT-T or ESP from the other gateway.
struct FirewallBlocksIKE: Rule {
    static let code: FindingCode = .firewallBlocksIKE
    static let stage: Stage = .hostFirewall
    static let needs: [InputNeed] = [.config, .firewall]
    static let summary = "An input firewall rule (iptables/nft) or a drop policy on one end discards IKE (UDP 500/4500) or ESP from the other gateway."
    static let explains: Set<FindingCode> = [.peerUnreachable, .dpdTimeout, .tunnelDown]
    static let examples: [RuleExample] = [
        .triggering("peer-unreachable", "east", cites: "udp dport { 500, 4500 } drop"),
        .triggering("peer-unreachable", withPeer: true, cites: "udp dport { 500, 4500 } drop"),
        .triggering("dpd-timeout", "east", cites: "--dport 500 -j DROP"),
        .triggering("ikev1-dpd-timeout", withPeer: true, cites: "-p esp -j DROP"),
        .nonTriggering("mtu-blackhole", "east"),
        .nonTriggering("healthy", withPeer: true),
        .nonTriggering("nat-before-ipsec", withPeer: true),
    ]

    /// What IKE and ESP need to get in.
    static let traffic: [(proto: String, port: Int?, label: String)] = [("udp", 500, "IKE (UDP 500)"), ("udp", 4500, "NAT-T (UDP 4500)"), ("esp", nil, "ESP")]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name -> Finding? in
            guard let conn = ctx.connection(name) else { return nil }
            let me = conn.local.address.flatMap { IPPrefix($0.value) }
            let them = conn.remote.address.flatMap { IPPrefix($0.value) }
            let sides: [(EndpointSnapshot, End, IPPrefix?)] = [(ctx.local, .local, them)] + (ctx.peer.map { [($0, .peer, me)] } ?? [])
            var blocked: [(End, String, SourceLine)] = []
            for (side, end, from) in sides {
                for t in Self.traffic {
                    if let line = Self.blocking(side, proto: t.proto, port: t.port, from: from) { blocked.append((end, t.label, line)) }
                }
            }
            guard !blocked.isEmpty else { return nil }
            let ends = Set(blocked.map(\.0))
            let whose = ends == [.local] ? ctx.localLabel : ends == [.peer] ? ctx.peerLabel : "both ends"
            let what = Array(Set(blocked.map(\.1))).sorted().joined(separator: ", ")
            var evidence: [SourceLine] = []
            for b in blocked where !evidence.contains(b.2) { evidence.append(b.2) }
            evidence += DiagnosisContext.sample(ctx.localEvents(.timeout, name), 1) + DiagnosisContext.sample(ctx.localEvents(.dpdAction, name), 1)
            var steps: [RemedyStep] = []
            for end in [End.local, .peer] where ends.contains(end) {
                let side = end == .local ? ctx.local : ctx.peer
                let from = (end == .local ? conn.remote.address?.value : conn.local.address?.value) ?? "<the other gateway>"
                steps += Self.acceptSteps(side, end: end, from: from, lines: blocked.filter { $0.0 == end }.map(\.2))
            }
            steps.append(.check(.both, "Verify IKE now arrives (replies should follow)", "tcpdump -ni any 'udp port 500 or udp port 4500 or esp'"))
            var f = Finding(
                code: Self.code, severity: .error, connection: name,
                title: "The firewall on \(whose) drops \(what) from the other gateway",
                explanation: """
                    An input filter rule (or the chain's drop policy) on \(whose) discards \(what) coming from the \
                    other gateway, with no accept rule ahead of it. IKE then sees no answer at all: the initiator \
                    retransmits and times out, an established tunnel dies at its next liveness (DPD) check, and \
                    dropped ESP makes an "up" tunnel carry nothing. No ICMP error is sent for DROP, so from the \
                    other end this looks exactly like an unreachable peer.
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Accept UDP 500, UDP 4500 and ESP from the other gateway ahead of the dropping rule.", steps: steps),
                stage: Self.stage)
            // The problem is the peer's own when only its firewall drops (JSON `side`, as for --peer findings).
            if ends == [.peer] { f.side = "peer" }
            return f
        }
    }

    /// The line that drops this traffic: the first unconditional matching rule of an input chain, or the chain's drop policy.
    static func blocking(_ side: EndpointSnapshot, proto: String, port: Int?, from: IPPrefix?) -> SourceLine? {
        let rules = side.filterRules ?? []
        for chain in Set(rules.map(\.chain)).union(Set((side.filterPolicies ?? []).map(\.chain))).sorted() {
            let ordered = rules.filter { $0.chain == chain }.sorted { $0.position < $1.position }
            var verdict: SourceLine?
            var decided = false
            for r in ordered where r.matches(proto: proto, port: port, from: from) {
                if r.conditional {
                    // A conditional accept ahead might let it through: do not claim a block.
                    if r.action == .accept { decided = true; break }
                    continue
                }
                if r.action == .accept { decided = true; break }
                if r.action == .drop || r.action == .reject { verdict = r.source; decided = true; break }
            }
            if let verdict { return verdict }
            if !decided, let p = side.filterPolicies?.first(where: { $0.chain == chain }), p.action == .drop || p.action == .reject {
                return p.source
            }
        }
        return nil
    }

    static func acceptSteps(_ side: EndpointSnapshot?, end: End, from: String, lines: [SourceLine]) -> [RemedyStep] {
        let nftChains = Set((side?.filterRules ?? []).filter { $0.backend == "nft" && lines.contains($0.source) }.map(\.chain))
        let iptables = (side?.filterRules ?? []).contains { $0.backend == "iptables" && lines.contains($0.source) }
            || (side?.filterPolicies ?? []).contains { $0.backend == "iptables" && lines.contains($0.source) }
        var steps: [RemedyStep] = []
        for chain in nftChains.sorted() {
            steps.append(.command(end, "Accept IKE, NAT-T and ESP from \(from) at the top of nft chain \(chain)",
                                  "nft insert rule \(chain) ip saddr \(from) udp dport { 500, 4500 } accept; nft insert rule \(chain) ip saddr \(from) meta l4proto esp accept"))
        }
        if iptables || nftChains.isEmpty {
            steps.append(.command(end, "Accept IKE, NAT-T and ESP from \(from) first in INPUT (iptables)",
                                  "iptables -I INPUT 1 -s \(from) -p esp -j ACCEPT; iptables -I INPUT 1 -s \(from) -p udp -m multiport --dports 500,4500 -j ACCEPT"))
        }
        return steps
    }
}

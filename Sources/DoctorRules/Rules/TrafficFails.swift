import DoctorModel

/// The user's own test through the tunnel loses packets. Whatever else is found, the report cannot say
/// "no problems": this names the loss, tells what it rules in, and what to capture next. A more specific
/// cause (MTU, NAT, a missing SA or policy) takes it as a symptom.
struct TrafficFails: Rule {
    static let code: FindingCode = .trafficFails
    static let stage: Stage = .trafficTest
    static let needs: [InputNeed] = [.trafficTest]
    static let summary = "The captured ping/tracepath through the tunnel loses packets: never reported as healthy; says what the sizes rule in and what to capture next."
    static let examples: [RuleExample] = [
        .triggering("mtu-blackhole", cites: "100% packet loss"),
        .nonTriggering("healthy"),
        .nonTriggering("ikev2-psk-mismatch"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let pings = ctx.local.pings, !pings.isEmpty else { return [] }
        let lost = pings.filter { $0.transmitted > 0 && $0.received < $0.transmitted && $0.reportedMTU == nil }
        guard !lost.isEmpty else { return [] }
        let passed = pings.filter { $0.received > 0 }
        let name = ctx.connectionNames.first { ctx.isUp($0) == true } ?? ctx.connectionNames.first
        let dst = lost[0].destination
        let sizes = lost.map(\.payloadSize).sorted()
        let allLost = passed.isEmpty
        let bigOnly = !allLost && lost.allSatisfy { l in l.dontFragment && passed.allSatisfy { $0.payloadSize < l.payloadSize } }
        var why = "\(lost.count) of \(pings.count) captured ping run(s) to \(dst) lost packets (payload \(sizes.map(String.init).joined(separator: ", ")) bytes)."
        var steps: [RemedyStep] = []
        let sweep = "for s in 1100 1200 1300 1350 1380 1400 1420 1440 1472; do ping -c 1 -W 1 -M do -s $s \(dst) >/dev/null && echo \"$s ok\" || echo \"$s lost\"; done; tracepath -n \(dst)"
        if bigOnly {
            why += " Smaller ones passed with DF set, so the tunnel carries traffic and the size decides: the path MTU between the gateways is below these packets plus the ESP overhead, wherever the narrow link is."
            steps.append(.check(.local, "Find the largest packet that crosses (DF set), and where the path narrows", sweep))
        } else if allLost && lost.allSatisfy({ $0.dontFragment && $0.payloadSize >= 1000 }) {
            why += " Only large packets with DF set were tried, and all were lost: a path MTU below them plus the ESP overhead (the narrow link can be anywhere between the gateways, with both ends' interfaces at 1500) explains it as well as a tunnel that carries nothing. A small ping decides, then the sweep finds the largest size that crosses."
            steps += [
                .check(.local, "Does a small packet cross?", "ping -c 3 -s 56 \(dst)"),
                .check(.local, "Find the largest packet that crosses (DF set), and where the path narrows", sweep),
            ]
        } else if allLost {
            why += " Nothing passed, not even the smallest: the tunnel carries no traffic in at least one direction. Either the SAs do not match the traffic (selectors, a missing or stale SA or policy), a firewall or NAT rule on either end takes the packets before or after ESP, or the replies use another SA (several subnet pairs on one reqid)."
            steps += [
                .check(.both, "Watch the SA byte counters while pinging: the direction that does not grow is the broken one", "watch -n1 'ip -s xfrm state | grep -E \"^src|bytes\"'"),
                .check(.both, "Watch ESP on the wire on both ends", "tcpdump -ni any esp or udp port 4500"),
                .check(.both, "Sample the kernel's IPsec error counters twice, a few seconds apart", "cat /proc/net/xfrm_stat; sleep 5; cat /proc/net/xfrm_stat"),
            ]
        } else {
            why += " Some runs of the same kind passed: the loss is intermittent (rekeying, a congested or lossy path) or depends on the size."
            steps.append(.check(.local, "Repeat with sizes and counts to see what the loss depends on", sweep))
        }
        steps.append(.command(.both, "Capture both ends again during the test for ipsec-doctor", "ip -s xfrm state > ip-xfrm-state.txt; ip -s xfrm policy > ip-xfrm-policy.txt; cat /proc/net/xfrm_stat > xfrm_stat.txt"))
        return [Finding(
            code: Self.code, severity: .error, connection: name,
            title: "Traffic through the tunnel fails: \(lost.count) ping run(s) to \(dst) lost packets",
            explanation: why, evidence: lost.prefix(3).map(\.source) + passed.filter { !lost.contains($0) }.prefix(1).map(\.source),
            remedy: Remedy(summary: "Find which direction and which size loses packets, then the layer that drops them.", steps: steps),
            stage: Self.stage, isSymptom: true)]
    }
}

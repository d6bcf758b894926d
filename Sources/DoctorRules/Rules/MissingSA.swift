import DoctorModel

/// An SPD policy's template names a reqid that no SA in that direction carries.
struct MissingSA: Rule {
    static let code: FindingCode = .missingSA
    static let stage: Stage = .sad
    static let needs: [InputNeed] = [.spd, .sad]
    static let summary = "An SPD policy's template (reqid) has no SA with that reqid in that direction: IKE did not finish or the SA was removed."
    static let examples: [RuleExample] = [
        .triggering("missing-sa", cites: "dir in"),
        .nonTriggering("healthy"),
        .nonTriggering("missing-policy"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let policies = ctx.local.policies, let states = ctx.local.states else { return [] }
        var found: [String?: [(XfrmPolicy, XfrmTemplate)]] = [:]
        // Indexed by reqid: a hub has tens of thousands of policies and SAs.
        let byReqid = Dictionary(grouping: states.filter { !$0.isLarval }, by: \.reqid)
        for p in policies where !p.isSocketPolicy && p.action == "allow" && p.direction != .fwd {
            for t in p.templates where t.reqid != 0 && t.proto == "esp" {
                let has = (byReqid[t.reqid] ?? []).contains { t.mode == "transport" || ($0.src == t.src && $0.dst == t.dst) }
                if !has { found[ctx.connection(covering: p.src, p.dst), default: []].append((p, t)) }
            }
        }
        var out: [Finding] = []
        for (name, items) in found.sorted(by: { ($0.key ?? "") < ($1.key ?? "") }) {
            let up = name.flatMap { ctx.isUp($0) }
            var evidence: [SourceLine] = []
            for (p, _) in items { evidence += p.lines.filter { $0.text.hasPrefix("src") || $0.text.contains("dir ") || $0.text.contains("reqid") } }
            let counterName = items.contains { $0.0.direction == .in } ? "XfrmInNoStates" : "XfrmOutNoStates"
            if let c = ctx.local.xfrmStat?.counter(counterName), c.last > 0 { evidence += c.lines }
            let descr = items.map { "dir \($0.0.direction.rawValue) \($0.0.src) -> \($0.0.dst) wants reqid \($0.1.reqid) (\($0.1.src) -> \($0.1.dst))" }
            out.append(Finding(
                code: Self.code, severity: .error, connection: name,
                title: "SPD policy without an SA: \(descr.joined(separator: "; "))",
                explanation: """
                    The policy template names reqid \(items.map { String($0.1.reqid) }.joined(separator: ", ")), but the SAD \
                    (ip xfrm state) has no SA with that reqid between those gateways. \
                    \(up == true ? "pluto still reports the tunnel as up, so the SA was removed behind its back (manual `ip xfrm state delete`/flush, a kernel/daemon desync): packets matching the policy are dropped (\(counterName))." : "IKE has not (or not yet) installed the Child SA: the failure that prevents it is the root cause.")
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Re-negotiate the Child SA so pluto installs both SAs again.", steps: [
                    .command(.local, "Re-establish the connection", "\(ctx.cli.down(name ?? "CONN")); \(ctx.cli.up(name ?? "CONN"))"),
                    .check(.local, "Verify an SA with the reqid exists in each direction", "ip xfrm state | grep -B1 'reqid \(items.first?.1.reqid ?? 0)'"),
                ]),
                stage: Self.stage, isSymptom: up != true))
        }
        return out
    }

}

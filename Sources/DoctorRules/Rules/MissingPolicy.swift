import DoctorModel

/// The tunnel is up but the SPD lacks a policy for the connection's subnets.
struct MissingPolicy: Rule {
    static let code: FindingCode = .missingPolicy
    static let stage: Stage = .spd
    static let needs: [InputNeed] = [.spd, .tunnelState, .config]
    static let summary = "The tunnel is established but the SPD has no out/in/fwd policy for its subnets: traffic leaves unencrypted or is dropped."
    static let examples: [RuleExample] = [
        .triggering("missing-policy", cites: "westnet-eastnet"),
        .triggering("two-subnets-one-way", "east", cites: "rightsubnets="),
        .nonTriggering("healthy"),
        .nonTriggering("missing-sa"),
    ]

    // On the peer's capture (`--peer`), its missing dir out policy is what this end sees as replies in clear.
    static let explains: Set<FindingCode> = [.repliesInClear, .trafficFails, .xfrmCounter]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let all = ctx.local.policies else { return [] }
        let policies = SPDIndex(all)
        return ctx.connectionNames.compactMap { name in
            guard ctx.isUp(name) == true, let conn = ctx.connection(name), let geo = ctx.geometry(name) else { return nil }
            if conn.mode.value == .passthrough { return nil }
            var missing: [String] = []
            for (l, r) in geo.pairs {
                if policies.covering(src: l, dst: r, .out) == nil { missing.append("dir out \(l) -> \(r)") }
                if policies.covering(src: r, dst: l, .in) == nil { missing.append("dir in \(r) -> \(l)") }
                if policies.covering(src: r, dst: l, .fwd) == nil { missing.append("dir fwd \(r) -> \(l)") }
            }
            guard !missing.isEmpty else { return nil }
            let outMissing = missing.contains { $0.hasPrefix("dir out") }
            var evidence = ctx.local.trafficStatus?.filter { $0.connection == name }.map(\.source) ?? []
            evidence += [conn.local, conn.remote].filter(\.subnetsConfigured).compactMap(\.subnets.source)
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "Tunnel is up but the SPD lacks \(missing.count) policy(ies): \(missing.joined(separator: "; "))",
                explanation: """
                    pluto reports the Child SA as established, but the kernel's Security Policy Database \
                    (\(all.first?.lines.first?.file ?? "ip xfrm policy")) has no policy for \
                    \(missing.joined(separator: ", ")). \
                    \(outMissing ? "Without the out policy the kernel never looks for the SA: traffic to the remote subnet leaves unencrypted (or follows the normal route and is dropped or leaks). " : "")\
                    Without in/fwd policies decrypted packets are dropped (XfrmInNoPols). Something deleted the \
                    policies after pluto installed them (a script running `ip xfrm policy flush`, another IKE \
                    daemon, a network manager).
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Have pluto re-install the policies, then find what removed them.", steps: [
                    .command(.local, "Re-install the connection's SPD entries by re-establishing it", "\(ctx.cli.down(name)); \(ctx.cli.up(name))"),
                    .check(.local, "Verify the policies are back", "ip xfrm policy | grep -A2 -E '\(geo.localSubnets.first?.description ?? "")|\(geo.remoteSubnets.first?.description ?? "")'"),
                    .check(.local, "Look for another IKE daemon or scripts that flush the SPD", "ps -e | grep -E 'charon|racoon|iked'; grep -rn 'xfrm policy flush' /etc 2>/dev/null"),
                ]),
                stage: Self.stage)
        }
    }
}

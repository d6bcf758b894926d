import DoctorModel

/// An SA pluto installed is no longer in the kernel: something deleted it behind pluto's back. The out
/// policy then has no SA, so the next packet is dropped (XfrmOutNoStates) and the kernel asks pluto for a
/// new one (ACQUIRE), which it negotiates on demand: a lost packet or two, and pluto keeps the dead Child
/// SA, whose every kernel query now fails.
///
/// Real example (lab `sa-renegotiated-on-demand`, west's outbound SA deleted with `ip xfrm state delete`):
///
///     Dec  2 18:22:00.892279: "westnet-eastnet" #3: initiating Child SA using IKE SA #1
///     Dec  2 18:22:09.986248: ERROR: "westnet-eastnet" #2: netlink response for Get SA esp.4ef0eaa5@192.0.2.2: No such process (errno 3)
///     XfrmOutNoStates         	1
///     (ip xfrm monitor)  Deleted src 192.0.2.1 dst 192.0.2.2 ... acquire proto esp
///
/// Not triggered by a healthy pair nor by `missing-sa` (an inbound SA deleted: nothing asks for it again, so
/// it stays missing and missing-sa reports it).
struct SAVanished: Rule {
    static let code: FindingCode = .saVanished
    static let stage: Stage = .sad
    static let needs: [InputNeed] = [.ikeStory]
    static let summary = "An SA pluto installed is gone from the kernel (pluto's `Get SA ...: No such process`): packets were dropped (XfrmOutNoStates) until a new Child SA was negotiated on demand; something deletes SAs behind pluto's back."
    static let explains: Set<FindingCode> = [.trafficFails, .xfrmCounter, .missingSA]
    static let examples: [RuleExample] = [
        .triggering("sa-renegotiated-on-demand", cites: "No such process"),
        .nonTriggering("healthy"),
        .nonTriggering("missing-sa"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let gone = ctx.localEvents(.kernelSAGone, name)
            guard !gone.isEmpty else { return nil }
            let children = ctx.localEvents(.childEstablished, name)
            let goneSerials = Set(gone.compactMap(\.serial))
            // A Child SA established after the one whose SA vanished: the on-demand renegotiation.
            let replacement = children.last { c in c.serial.map { s in goneSerials.contains { s > $0 } } ?? false }
            // Still missing, nothing renegotiated (an inbound SA: no ACQUIRE asks for it): missing-sa reports it.
            guard replacement != nil else { return nil }
            let stat = ctx.local.xfrmStat
            let noStates = stat?.counter("XfrmOutNoStates").flatMap { $0.last > 0 ? $0 : nil }
            let lost = (ctx.local.pings ?? []).filter { $0.received < $0.transmitted && $0.reportedMTU == nil }
            let monitor = (ctx.local.monitor ?? []).filter { $0.kind == "acquire" || ($0.kind == "delete" && $0.spi != nil) }
            let sa = gone.first?.details["sa"] ?? "an SA"
            var evidence = DiagnosisContext.sample(gone) + [replacement?.source].compactMap { $0 }
            evidence += noStates?.lines ?? []
            evidence += monitor.prefix(3).map(\.source)
            evidence += lost.prefix(1).map(\.source)
            let deadChild = goneSerials.sorted().map { "#\($0)" }.joined(separator: ", ")
            return Finding(
                code: Self.code, severity: lost.isEmpty ? .warning : .error, connection: name,
                title: "The kernel lost \(sa): \(replacement.flatMap(\.serial).map { "Child SA #\($0) was negotiated on demand to replace it" } ?? "a new Child SA was negotiated on demand")",
                explanation: """
                    pluto asked the kernel about \(sa), which it installed for Child SA \(deadChild), and the kernel \
                    has no such SA (`No such process`): it was deleted behind pluto's back (a script running \
                    `ip xfrm state flush` or `delete`, another IKE daemon, a network manager). \
                    \(noStates.map { "XfrmOutNoStates is \($0.last): packets matched the out policy while it had no SA and were dropped, and the kernel asked pluto for a new one (ACQUIRE). " } ?? "")\
                    \(replacement.flatMap(\.serial).map { "pluto negotiated Child SA #\($0) for it on demand" } ?? "pluto negotiated a new Child SA for it on demand").\
                    \(lost.isEmpty ? "" : " Your ping lost packets while that happened.") It comes back whenever the same thing runs \
                    again, and pluto keeps the dead Child SA (its traffic counters and liveness checks fail) until \
                    the connection is re-established.
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Find what deletes SAs on this host and stop it; re-establish the connection to drop the dead Child SA.", steps: [
                    .check(.local, "Catch the deletion as it happens (leave it running)", "ip xfrm monitor | grep -E --line-buffered 'Deleted|acquire'"),
                    .check(.local, "Look for another IKE daemon or scripts that flush the SAD", "ps -e | grep -E 'charon|racoon|iked'; grep -rn -E 'xfrm (state|policy) (flush|delete)' /etc 2>/dev/null"),
                    .command(.local, "Re-establish the connection so pluto's Child SAs match the kernel again", "\(ctx.cli.down(name)); \(ctx.cli.up(name))"),
                ]),
                stage: Self.stage)
        }
    }
}

import DoctorModel

/// A configured connection has no established Child SA, and nothing more specific explains it.
struct TunnelDown: Rule {
    static let code: FindingCode = .tunnelDown
    static let stage: Stage = .down
    static let needs: [InputNeed] = [.connections, .tunnelState]
    static let summary = "A configured connection has no established Child SA; says what to capture next when nothing more specific explains it."
    static let examples: [RuleExample] = [
        .triggering("tunnel-down", cites: "westnet-eastnet"),
        .nonTriggering("healthy"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            guard ctx.isUp(name) == false else { return nil }
            guard let conn = ctx.connection(name) else { return Self.withoutConfig(name, ctx) }
            let auto = conn.startup?.value ?? "ignore"
            if auto == "ignore" && ctx.local.events.events(.initiating, connection: name).isEmpty && ctx.local.statusConnections?.contains(name) != true { return nil }
            let attempted = !ctx.local.events.events(.initiating, connection: name).isEmpty || !ctx.local.events.events(.retransmission, connection: name).isEmpty
            var evidence = [conn.header]
            if let a = conn.startup?.source { evidence.append(a) }
            // An absence is said, not quoted: no line of the file is cited for a line that is not there.
            let absent = ctx.local.inputs.first(where: { $0.value == .trafficStatus }).map { " \($0.key) has no line for this connection." } ?? ""
            let why = attempted
                ? "Connection \"\(name)\" has no established Child SA and the captured logs do not say why.\(absent)"
                : "Connection \"\(name)\" is loaded (auto=\(auto)) but has no established Child SA, and the logs show no attempt to bring it up: with auto=add pluto waits for the peer or for `\(ctx.cli.up(name))`.\(absent)"
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "\"\(name)\" is down: no established Child SA", explanation: why, evidence: evidence,
                remedy: Remedy(summary: attempted ? "Capture the negotiation: run the up command and the pluto log on both ends." : "Bring it up (or let it start with auto=start), then diagnose what it prints.", steps: [
                    .command(.local, "Bring it up and keep what it prints", "\(ctx.cli.up(name)) 2>&1 | tee ipsec-up.txt"),
                    ctx.changeOrAdd(.startup("start"), on: .local, name, why: "Start the tunnel when pluto starts (and revive it after failures)"),
                    .command(.both, "Capture both ends for ipsec-doctor", "journalctl -u ipsec --since -10min > journal.txt; ipsec trafficstatus > ipsec-trafficstatus.txt"),
                ]),
                stage: Self.stage, isSymptom: true)
        }
    }

    /// A connection known only from logs or status (a transcript, a fragment) that is down: never "no
    /// problems". Said when it was attempted and nothing more specific explains it.
    static func withoutConfig(_ name: String, _ ctx: DiagnosisContext) -> Finding? {
        let attempts = [IKEEventKind.initiating, .retransmission, .timeout, .fatal].flatMap { ctx.localEvents($0, name) }
            .sorted { ($0.source.file, $0.source.line) < ($1.source.file, $1.source.line) }
        let pending = (ctx.local.statusStates ?? []).filter { $0.connection == name && !$0.isEstablishedChild }
        guard !attempts.isEmpty || !pending.isEmpty else { return nil }
        let evidence = DiagnosisContext.sample(attempts, 3) + pending.prefix(2).map(\.source)
        return Finding(
            code: code, severity: .error, connection: name,
            title: "\"\(name)\" is down: no established Child SA",
            explanation: "This capture shows \"\(name)\" being attempted but never established, and its lines do not say why (no notify, no timeout reason). The configuration is not in the capture, so nothing can be compared.",
            evidence: evidence,
            remedy: Remedy(summary: "Capture both ends' logs of one attempt, with the configuration.", steps: [
                .command(.local, "Bring it up and keep what it prints", "\(ctx.cli.up(name)) 2>&1 | tee ipsec-up.txt"),
                .command(.both, "Capture both ends for ipsec-doctor", "journalctl -u ipsec --since -10min > journal.txt; ipsec trafficstatus > ipsec-trafficstatus.txt; cp /etc/ipsec.conf ."),
            ]),
            stage: Self.stage, isSymptom: true)
    }
}

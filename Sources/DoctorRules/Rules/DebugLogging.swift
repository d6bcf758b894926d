import DoctorModel

/// Advice: the capture has no log to decide from; how to get a useful one.
struct DebugLogging: Rule {
    static let code: FindingCode = .debugLogging
    static let stage: Stage = .advice
    static let needs: [InputNeed] = [.tunnelState]
    static let summary = "Advice when logs are too thin to decide: enable plutodebug=all and logfile= as the distribution guide describes."
    static let examples: [RuleExample] = [
        .triggering("no-logs", cites: "westnet-eastnet"),
        .nonTriggering("ikev2-psk-mismatch"),
        .nonTriggering("healthy"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            guard ctx.isUp(name) == false, ctx.local.logFiles.isEmpty || ctx.local.events.linesRead == 0 else { return nil }
            let setup = ctx.local.config?.setup
            let file = ctx.local.config?.files.first
            var remove: [String] = []
            for k in ["plutodebug", "logfile"] { if let v = setup?[k] { remove.append(v.source.text.trimmingCharacters(in: .whitespaces)) } }
            var evidence: [SourceLine] = []
            if let c = ctx.connection(name) { evidence.append(c.header) }
            return Finding(
                code: Self.code, severity: .warning, connection: name,
                title: "No pluto log in the capture: the failure of \"\(name)\" cannot be explained without one",
                explanation: """
                    The tunnel is down, but the capture contains neither pluto's log nor the output of `ipsec up`, \
                    so the negotiation that failed cannot be seen. journald may also rate-limit pluto; a dedicated \
                    log file with full debugging shows every exchange.
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Turn on debug logging to a dedicated file, reproduce, and diagnose again with the log.", steps: [
                    .config(.both, "In the config setup section of ipsec.conf", file: file, connection: "config setup", remove: remove,
                            add: ["plutodebug=all", "logfile=/var/log/pluto.log"]),
                    .command(.both, "Restart and reproduce", "systemctl restart ipsec && \(ctx.cli.up(name)) 2>&1 | tee ipsec-up.txt"),
                    .command(.both, "Or read what journald kept", "journalctl -u ipsec --no-pager > journal.txt").instead,
                ]),
                stage: Self.stage)
        }
    }
}

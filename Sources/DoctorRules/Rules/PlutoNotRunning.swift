import DoctorModel

/// Libreswan is installed but its IKE daemon, pluto, is not running on this host.
struct PlutoNotRunning: Rule {
    static let code = "pluto-not-running"
    static let summary = "Libreswan's IKE daemon (pluto) is not running on this host: no tunnel can come up or answer."
    static let explains: Set<String> = ["tunnel-down", "peer-unreachable", "peer-ike-not-running", "debug-logging"]
    static let examples: [RuleExample] = [
        .triggering("peer-ike-not-running", "east", cites: "Pluto is not running"),
        .triggering("ikev1-peer-ike-not-running", "east", cites: "Pluto is not running"),
        .nonTriggering("peer-ike-not-running"),
        .nonTriggering("healthy"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let line = ctx.local.plutoNotRunning else { return [] }
        let conns = ctx.local.config?.connections ?? []
        let names = conns.map(\.name)
        let started = conns.filter { ["start", "add", "route", "ondemand", "keep"].contains($0["auto"]?.value ?? "") }
        var evidence = [line]
        evidence += started.prefix(3).compactMap { $0["auto"]?.source }
        return [Finding(
            code: Self.code, severity: names.isEmpty ? .warning : .error, connection: names.count == 1 ? names.first : nil,
            title: "pluto, Libreswan's IKE daemon, is not running",
            explanation: """
                `ipsec whack` cannot reach pluto's control socket: the daemon is stopped (or crashed, or runs \
                with another --rundir). \(names.isEmpty ? "No connection is configured either." : "None of the \(names.count) configured connection(s) (\(names.prefix(5).joined(separator: ", "))) can be established or answer the peer; a peer trying to connect gets ICMP port unreachable.")
                """,
            evidence: evidence,
            remedy: Remedy(summary: "Start the daemon, check it stays up, then bring the tunnels up.", steps: [
                .command(.local, "Start Libreswan and enable it at boot", "systemctl enable --now ipsec"),
                .check(.local, "If it does not stay up, read why", "journalctl -u ipsec -n 50 --no-pager; ipsec addconn --checkconfig"),
            ] + names.prefix(1).map { ctx.cli.restart($0, end: .local) }),
            rank: Rank.reachability - 5)]
    }
}

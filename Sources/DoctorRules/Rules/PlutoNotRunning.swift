import DoctorModel

/// This host's IKE daemon cannot serve any tunnel: pluto is not running, aborted at start, does not
/// answer whack, or the `ipsec` here is another daemon's (strongSwan).
struct PlutoNotRunning: Rule {
    static let code: FindingCode = .plutoNotRunning
    static let stage: Stage = .daemon
    static let needs: [InputNeed] = []
    static let summary = "Libreswan's IKE daemon (pluto) is not running on this host (stopped, aborted at start, hung, or another IKE daemon in its place): no tunnel can come up or answer."
    static let explains: Set<FindingCode> = [.tunnelDown, .peerUnreachable, .peerIKENotRunning, .debugLogging]
    static let examples: [RuleExample] = [
        .triggering("peer-ike-not-running", "east", cites: "Pluto is not running"),
        .triggering("ikev1-peer-ike-not-running", "east", cites: "Pluto is not running"),
        .nonTriggering("peer-ike-not-running"),
        .nonTriggering("healthy"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        let conns = ctx.allConnections(peer: false)
        let names = conns.map(\.name)
        let started = conns.filter { ["start", "add", "route", "ondemand", "keep"].contains($0.startup?.value ?? "") }
        // An abort counts unless pluto worked after it (a later start negotiated something).
        // whack's `is Pluto running?` in a log is the not-running case, not an abort.
        let notRunningLine = ctx.local.plutoNotRunning ?? ctx.local.events.events(.plutoAborted).first { $0.details["cause"] == "not-running" }?.source
        let aborted = ctx.local.events.events(.plutoAborted).filter { $0.details["cause"] != "not-running" }.filter { abort in
            ![IKEEventKind.initiating, .ikeEstablished, .childEstablished].contains { kind in
                ctx.local.events.events(kind).contains { $0.source.file == abort.source.file && $0.source.line > abort.source.line }
            }
        }
        let none = names.isEmpty ? "" : " None of the \(names.count) configured connection(s) (\(names.prefix(5).joined(separator: ", "))) can be established or answer the peer."
        var finding: (title: String, why: String, cause: String, evidence: [SourceLine], steps: [RemedyStep])
        if let banner = ctx.local.otherIKEDaemon {
            finding = ("This host runs strongSwan, not Libreswan",
                       "`ipsec --version` answers with another IKE daemon's banner. ipsec-doctor reads Libreswan (pluto) only so far; strongSwan support is planned. Diagnose this end from the strongSwan side (`swanctl --list-sas`, charon's log), or give the Libreswan peer's capture.\(none)",
                       "other-ike-daemon", [banner], [
                           .check(.local, "See which IKE daemon is installed and running", "ipsec --version; systemctl status strongswan strongswan-starter ipsec 2>/dev/null | grep -E 'Loaded|Active'"),
                       ])
        } else if let hung = ctx.local.plutoUnresponsive {
            finding = ("pluto does not answer: `ipsec whack` timed out",
                       "pluto's control socket accepted the request but no answer came before the timeout: the daemon is hung, busy (a hub under load, a slow crypto helper) or stopped mid-way. No state could be read from it.\(none)",
                       "unresponsive", [hung], [
                           .check(.local, "See whether pluto is alive and what it is doing", "systemctl status ipsec --no-pager; timeout 30 ipsec whack --briefstatus"),
                           .check(.local, "Read its last messages", "journalctl -u ipsec -n 100 --no-pager"),
                           .command(.local, "If it stays hung, restart it (every tunnel of this host drops and comes back)", "systemctl restart ipsec"),
                       ])
        } else if let first = aborted.first {
            let cause = aborted.lazy.compactMap { $0.details["cause"] }.first
            let (why, steps) = Self.abortAdvice(cause)
            finding = ("pluto aborted at start\(cause.map { " (\($0))" } ?? "")",
                       "pluto stopped with a fatal error right after starting. \(why)\(none)",
                       "aborted-" + (cause ?? "other"), [first.source] + DiagnosisContext.sample(Array(aborted.dropFirst()), 2), steps)
        } else if let line = notRunningLine, Self.stoppedAfterNegotiating(line, ctx) {
            // A transcript that asks `ipsec status` after stopping pluto: the daemon ran for the negotiation above.
            return [Finding(
                code: Self.code, severity: .info, connection: names.count == 1 ? names.first : nil,
                title: "pluto stopped after the negotiation shown above",
                explanation: "The same capture shows pluto negotiating earlier, then `Pluto is not running` at \(line.file):\(line.line): it was stopped or crashed afterwards. That is not why the negotiation failed; if nobody stopped it, read the journal for a crash.",
                evidence: [line], remedy: Remedy(summary: "Check whether pluto is running now.", steps: [.check(.local, "Is it running, and did it crash?", "systemctl status ipsec --no-pager; journalctl -u ipsec -n 50 --no-pager | grep -i -E 'exit|signal|abort'")]),
                stage: .advice, cause: "stopped-after")]
        } else if let line = notRunningLine {
            finding = ("pluto, Libreswan's IKE daemon, is not running",
                       "`ipsec whack` cannot reach pluto's control socket: the daemon is stopped (or crashed, or runs with another --rundir).\(names.isEmpty ? " No connection is configured either." : none + " A peer trying to connect gets ICMP port unreachable.")",
                       "not-running", [line], [
                           .command(.local, "Start Libreswan and enable it at boot", "systemctl enable --now ipsec"),
                           .check(.local, "If it does not stay up, read why", "journalctl -u ipsec -n 50 --no-pager; ipsec addconn --checkconfig"),
                       ])
        } else {
            return []
        }
        var evidence = finding.evidence
        evidence += started.prefix(3).compactMap { $0.startup?.source }
        return [Finding(
            code: Self.code, severity: .error, connection: names.count == 1 ? names.first : nil,
            title: finding.title, explanation: finding.why, evidence: evidence,
            remedy: Remedy(summary: finding.cause == "other-ike-daemon" ? "Diagnose this end with strongSwan's tools, or install and run Libreswan." : "Get pluto running and answering, then bring the tunnels up.",
                           steps: finding.steps + (finding.cause == "other-ike-daemon" ? [] : names.prefix(1).map { ctx.cli.restart($0, end: .local) })),
            stage: Self.stage, cause: finding.cause)]
    }

    /// True when the not-running line comes after negotiation events of the same file.
    static func stoppedAfterNegotiating(_ line: SourceLine, _ ctx: DiagnosisContext) -> Bool {
        // Any negotiation line earlier in the same file: pluto was running then.
        IKEEventKind.allCases.filter { !$0.isHostWide && $0 != .authMethod }.contains { kind in
            ctx.local.events.events(kind).contains { $0.source.file == line.file && $0.source.line < line.line }
        }
    }

    /// What each class of start-up failure means and how to clear it.
    static func abortAdvice(_ cause: String?) -> (String, [RemedyStep]) {
        let read = RemedyStep.check(.local, "Read the whole start-up", "journalctl -u ipsec -b --no-pager | tail -50")
        switch cause {
        case "nss":
            return ("It could not open its NSS database (certificates and keys): missing, not initialised, wrong permissions or an old Berkeley DB format.", [
                .check(.local, "Check the database (Debian/Ubuntu/Fedora: /var/lib/ipsec/nss; RHEL: /etc/ipsec.d)", "ipsec checknss; ls -l /var/lib/ipsec/nss /etc/ipsec.d 2>/dev/null"),
                .command(.local, "Create it if missing (an existing one is kept), then start again", "ipsec initnss; systemctl restart ipsec"),
                read,
            ])
        case "crypto-self-test":
            return ("Its start-up self-test of the IKE algorithms against NSS failed, and pluto stops when one does: the NSS library does not behave as this Libreswan build expects, typically after an NSS upgrade (NSS 3.52 changed the AEAD interface; libreswan issue #334, fixed in later releases).", [
                .check(.local, "Compare the Libreswan and NSS versions", "ipsec --version; rpm -q nss 2>/dev/null || dpkg -l 'libnss3*' 2>/dev/null | grep ^ii"),
                .command(.local, "Update Libreswan to a release built for this NSS (or go back to the NSS it was built with), then start again", "systemctl restart ipsec"),
                read,
            ])
        case "kernel":
            return ("The kernel refused pluto's XFRM (netlink) interface: XFRM or ESP support is missing (container, minimal kernel, modules not loaded) or pluto lacks CAP_NET_ADMIN.", [
                .check(.local, "Check that the kernel has XFRM and ESP", "ls /proc/net/xfrm_stat; modprobe -n -v esp4 xfrm_user; grep -E 'CONFIG_XFRM_USER|CONFIG_INET_ESP' /boot/config-$(uname -r)"),
                .command(.local, "Load the modules, then start again", "modprobe -a xfrm_user esp4 esp6; systemctl restart ipsec"),
                read,
            ])
        case "lock":
            return ("Another pluto holds the lock (pid file), or a stale pid file was left by a crash.", [
                .check(.local, "Is another pluto running?", "pgrep -a pluto; ls -l /run/pluto/"),
                .command(.local, "If none runs, remove the stale lock and start", "rm -f /run/pluto/pluto.pid; systemctl restart ipsec"),
            ])
        case "socket":
            return ("It could not create or bind its control socket (another instance, a read-only or missing run directory).", [
                .check(.local, "Look at the run directory", "ls -ld /run/pluto; pgrep -a pluto"),
                read,
            ])
        case "config":
            return ("Its configuration could not be loaded.", [
                .check(.local, "Check the configuration the way pluto reads it", "ipsec addconn --checkconfig"),
                read,
            ])
        case "fips":
            return ("FIPS mode is on but the system or NSS is not in FIPS mode (or the reverse).", [
                .check(.local, "Compare the FIPS states", "cat /proc/sys/crypto/fips_enabled; ipsec fipsstatus"),
                read,
            ])
        case "crash":
            return ("The kernel's audit log shows pluto killed by a signal (ANOM_ABEND, sig=6 is an abort): an assertion or a failed start-up self-test, most often after an NSS or Libreswan upgrade that left the two out of step.", [
                .check(.local, "Read pluto's last lines before the abort", "journalctl -u ipsec -b --no-pager | grep -B 20 -E 'ABORT|ASSERTION|passert|FATAL' | tail -40"),
                .check(.local, "Compare the NSS and Libreswan versions with your distribution's advisories", "rpm -q nss libreswan 2>/dev/null || dpkg -l libnss3 libreswan | tail -2"),
                read,
            ])
        default:
            return ("The line above names the reason.", [read])
        }
    }
}

import DoctorModel

/// The peer host answered IKE with ICMP port unreachable: nothing listens on UDP 500/4500 there.
///
/// Triggered by pluto's `asynchronous network error report ... Connection refused [errno 111,
/// origin ICMP type 3 code 3]` (Libreswan logs ICMP errors with `ike-socket-errqueue=yes`, the default).
struct PeerIKENotRunning: Rule {
    static let code: FindingCode = .peerIKENotRunning
    static let stage: Stage = .peerDaemon
    static let needs: [InputNeed] = [.ikeStory]
    static let summary = "The peer answers UDP 500/4500 with ICMP port unreachable: its IKE daemon is not running (or a REJECT rule)."
    static let examples: [RuleExample] = [
        .triggering("peer-ike-not-running", cites: "Connection refused [errno 111"),
        .triggering("ikev1-peer-ike-not-running", cites: "Connection refused [errno 111"),
        .nonTriggering("peer-unreachable"),
        .nonTriggering("ikev2-psk-mismatch"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let refused = ctx.localEvents(.icmpError, name).filter { $0.details["errno"] == "111" || ($0.details["icmpType"] == "3" && $0.details["icmpCode"] == "3") }
            guard let last = refused.last else { return nil }
            if ctx.isUp(name) == true { return nil }
            let peerAddr = last.details["complainant"] ?? ctx.peerAddress(name) ?? "the peer"
            let port = last.source.text.contains(":4500") ? "4500" : "500"
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "\(peerAddr) refuses IKE on UDP \(port): no IKE daemon is listening there",
                explanation: """
                    Each IKE packet to \(peerAddr) came back as ICMP port unreachable ("Connection refused", \
                    errno 111, ICMP type 3 code 3), \(ctx.local.events.count(.icmpError, connection: name)) time(s). \
                    The host is reachable, but nothing listens on UDP \(port): the peer's Libreswan (pluto) is \
                    stopped, listens on another address, or a firewall REJECTs the port.
                    """,
                evidence: DiagnosisContext.sample(refused),
                remedy: Remedy(summary: "Start the IKE daemon on \(peerAddr) and make sure UDP 500 and 4500 are accepted there.", steps: [
                    .command(.peer, "Start Libreswan on the peer", "systemctl start ipsec && ipsec status | head"),
                    .check(.peer, "Check that pluto listens on UDP 500 and 4500", "ss -ulnp 'sport = :500 or sport = :4500'"),
                    .check(.peer, "Look for REJECT rules on UDP 500/4500", "nft list ruleset | grep -nE 'dport (500|4500)|reject'"),
                    .command(.local, "Then retry", ctx.cli.up(name)),
                ]),
                stage: Self.stage)
        }
    }
}

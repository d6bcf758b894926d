import DoctorModel

/// The end that accepted: its IKE SA comes up and the peer tears it down at once, again and again. The
/// peer refused something after this end had said yes (this end's ID or certificate, or its own Child SA
/// install); only the peer's log says which.
struct PeerDeletesIKESA: Rule {
    static let code: FindingCode = .peerDeletesIKESA
    static let stage: Stage = .peerRefusal
    static let needs: [InputNeed] = [.ikeStory]
    static let summary = "This end establishes the IKE SA, then the peer deletes it within seconds, repeatedly: the peer refuses something this end cannot see (its ID, certificate, or the peer's own SA install)."
    static let explains: Set<FindingCode> = [.tunnelDown, .missingPolicy, .missingSA, .xfrmCounter]
    static let examples: [RuleExample] = [
        .triggering("ikev2-initiator-rejects-responder", "east", cites: "responder established IKE SA"),
        .nonTriggering("ikev2-initiator-rejects-responder"),
        .nonTriggering("healthy", "east"),
        .nonTriggering("dpd-timeout", "east"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let deleted = ctx.localEvents(.establishedIKESADeleted, name).filter { $0.details["byPeer"] == "yes" && (Double($0.details["aged"] ?? "") ?? 99) < 10 }
            let established = ctx.localEvents(.ikeEstablished, name)
            // Once can be a restart of the peer; the pattern is the repetition.
            guard ctx.local.events.count(.establishedIKESADeleted, connection: name) >= 2, deleted.count >= 2, !established.isEmpty,
                ctx.localEvents(.dpdAction, name).isEmpty
            else { return nil }
            let signs = ctx.authMethod(name) == "signature"
            let myID = ctx.connection(name).flatMap { $0.local.idConfigured ? $0.local.id?.value : nil } ?? "this end's leftid"
            let candidates: [Candidate]? = ctx.peer == nil ? [
                Candidate(code: IDMismatch.code, decidedBy: "the peer's log says `Peer ID '...' mismatched` right after IKE_AUTH: its rightid is not \(myID)"),
                Candidate(code: AuthFailed.code, cause: "certificate", decidedBy: "the peer's log has an NSS: ERROR or X509 line about this end's certificate"),
                Candidate(code: KernelSAInstallFailed.code, decidedBy: "the peer's log says `netlink response for Add SA ... errno`: its kernel refused the Child SA"),
            ] : nil
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "The peer deletes every IKE SA right after it is established (\(ctx.local.events.count(.establishedIKESADeleted, connection: name)) times)",
                explanation: """
                    This end accepted the peer and established the IKE SA, then the peer deleted it \
                    \(deleted.first?.details["aged"].map { "\($0) s" } ?? "at once") later, without a rekey or a liveness failure, and \
                    tried again. The peer refused something after this end had said yes: most often this end's \
                    identity (\(signs ? "its certificate or ID" : "the ID \(myID)") is not what the peer's rightid expects), or the peer's \
                    own kernel refused the Child SA. This end's log cannot say which: the peer's can.
                    """,
                evidence: DiagnosisContext.sample(established, 1) + DiagnosisContext.sample(deleted, 2),
                remedy: Remedy(summary: "Read why the peer deletes the IKE SA, then fix that on the end it names.", steps: [
                    .check(.peer, "Read the peer's log of one attempt", "journalctl -u ipsec --since -10min --no-pager | grep -E 'mismatched|AUTHENTICATION_FAILED|NSS: ERROR|X509|netlink response|deleting'"),
                    .check(.peer, "On the peer, its remote ID for this tunnel must be \(myID)", "ipsec status | grep -E \"their id|\(ctx.cli.arg(name))\""),
                ]),
                stage: Self.stage, candidates: candidates)
        }
    }
}

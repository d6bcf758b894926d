import DoctorModel

/// The IKE SA (phase 1) algorithms of the two ends have no overlap.
struct IKEProposalMismatch: Rule {
    static let code: FindingCode = .ikeProposalMismatch
    static let stage: Stage = .ikeProposal
    static let needs: [InputNeed] = [.ikeStory]
    static let summary = "IKE SA (phase 1) algorithms have no overlap: NO_PROPOSAL_CHOSEN in IKE_SA_INIT, IKEv1 no acceptable Oakley Transform."
    static let examples: [RuleExample] = [
        .triggering("ikev2-ike-proposal-mismatch", cites: "IKE_SA_INIT message containing NO_PROPOSAL_CHOSEN"),
        .triggering("ikev2-ike-proposal-mismatch", "east", cites: "no local proposal matches remote proposals"),
        .triggering("ikev1-ike-proposal-mismatch", cites: "NO_PROPOSAL_CHOSEN"),
        .triggering("ikev1-ike-proposal-mismatch", "east", cites: "no acceptable Oakley Transform"),
        // One end on Libreswan's default proposals, the other explicit and outside them.
        .triggering("ike-default-proposal-mismatch", withPeer: true, cites: "no local proposal matches remote proposals"),
        .nonTriggering("ike-defaults-overlap", withPeer: true),
        .nonTriggering("ikev2-esp-proposal-mismatch", withPeer: true),
        .nonTriggering("ikev1-esp-proposal-mismatch", withPeer: true),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let received = ctx.localEvents(.ikeNoProposalReceived, name)
            // A refused transform counts only when no IKE SA came up (another transform may have been accepted).
            let established = !ctx.localEvents(.ikeEstablished, name).isEmpty
            let localReject = ctx.localEvents(.ikeNoProposalLocal, name).filter { $0.details["partial"] == nil || !established }
            let peerReject = ctx.peerEvents(.ikeNoProposalLocal, name)
            guard !(received.isEmpty && localReject.isEmpty) else { return nil }
            if !ctx.localEvents(.ikeEstablished, name).isEmpty && localReject.isEmpty && ctx.isUp(name) == true { return nil }
            let mine = ctx.connection(name)
            let theirs = ctx.peerConnection(name)
            let offered = (localReject + peerReject).compactMap { $0.details["remoteProposals"] }.first
            // The conclusive lines (`no acceptable Oakley Transform`) before the per-transform refusals.
            let conclusive = localReject.filter { $0.details["partial"] == nil }
            var evidence = DiagnosisContext.sample(received) + DiagnosisContext.sample(conclusive.isEmpty ? localReject : conclusive)
                + DiagnosisContext.sample(localReject.filter { $0.details["partial"] != nil }, 1)
                + DiagnosisContext.sample(peerReject.filter { $0.details["partial"] == nil }.isEmpty ? peerReject : peerReject.filter { $0.details["partial"] == nil }, 1)
            evidence += [mine?.ike.source, theirs?.ike.source].compactMap { $0 }
            let common = Proposals.common(local: LibreswanAdapter.written(mine?.ike.source), peer: LibreswanAdapter.written(theirs?.ike.source), phase1: true)
            // Each end's proposals as the typed model expands them (an absent ike= is the version's defaults).
            let mineText = mine.map { LibreswanAdapter.describe($0.ike, .ike, version: ctx.local.libreswanVersion) } ?? "Libreswan's default ike= list"
            let theirsText = theirs.map { LibreswanAdapter.describe($0.ike, .ike, version: ctx.peer?.libreswanVersion) } ?? "unknown (add --peer to compare)"
            var why = """
                The two ends share no IKE SA proposal (encryption, integrity/PRF and DH group must all match one \
                combination). This end offers \(mineText); the peer accepts \(theirsText).
                """
            if let offered { why += " The responder received: \(offered)." }
            if !received.isEmpty { why += " The NO_PROPOSAL_CHOSEN notify in IKE_SA_INIT is unauthenticated, so pluto ignores it and retransmits until it times out." }
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "IKE (phase 1) proposals do not overlap", explanation: why, evidence: evidence,
                remedy: Remedy(summary: "Configure the same ike= proposal on both ends: ike=\(common)", steps: [
                    ctx.changeOrAdd(.ike(common), on: .local, name, why: "Offer a proposal the peer accepts"),
                    ctx.changeOrAdd(.ike(common), on: .peer, name, why: "Accept the same proposal on the peer"),
                    ctx.cli.restart(name, end: .both),
                ]),
                stage: Self.stage)
        }
    }
}

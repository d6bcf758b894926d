import DoctorModel

/// The Child SA (phase 2, ESP) algorithms have no overlap.
struct ESPProposalMismatch: Rule {
    static let code: FindingCode = .espProposalMismatch
    static let stage: Stage = .childProposal
    static let needs: [InputNeed] = [.ikeStory]
    static let summary = "Child SA (phase 2, ESP) algorithms have no overlap: NO_PROPOSAL_CHOSEN in IKE_AUTH/CREATE_CHILD_SA/Quick Mode."
    static let examples: [RuleExample] = [
        .triggering("ikev2-esp-proposal-mismatch", cites: "rejected Child SA with NO_PROPOSAL_CHOSEN"),
        .triggering("ikev2-esp-proposal-mismatch", "east", cites: "no local proposal matches remote proposals 1:ESP"),
        .triggering("ikev1-esp-proposal-mismatch", cites: "NO_PROPOSAL_CHOSEN"),
        .triggering("ikev1-esp-proposal-mismatch", "east", cites: "no acceptable Proposal in IPsec SA"),
        .triggering("two-connections", cites: "CREATE_CHILD_SA failed with error notification NO_PROPOSAL_CHOSEN"),
        .nonTriggering("ikev2-ike-proposal-mismatch", withPeer: true),
        .nonTriggering("ikev1-ts-mismatch", withPeer: true),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let received = ctx.localEvents(.childNoProposalReceived, name)
            let localReject = ctx.localEvents(.childNoProposalLocal, name)
            let peerReject = ctx.peerEvents(.childNoProposalLocal, name)
            guard !(received.isEmpty && localReject.isEmpty) else { return nil }
            let mine = ctx.connection(name)
            let theirs = ctx.peerConnection(name)
            // The key as this end writes it (esp= or 3.x's phase2alg=).
            let key = mine?.esp.source.flatMap { $0.text.trimmingCharacters(in: .whitespaces).hasPrefix("phase2alg") ? "phase2alg" : nil } ?? "esp"
            var evidence = DiagnosisContext.sample(received) + DiagnosisContext.sample(localReject) + DiagnosisContext.sample(peerReject, 1)
            evidence += DiagnosisContext.sample(ctx.localEvents(.quickModeNoProposalTimeout, name), 1)
            evidence += [mine?.esp.source, theirs?.esp.source].compactMap { $0 }
            let common = Proposals.common(local: LibreswanAdapter.written(mine?.esp.source), peer: LibreswanAdapter.written(theirs?.esp.source), phase1: false)
            let offered = (localReject + peerReject).compactMap { $0.details["remoteProposals"] }.first
            // Each end's proposals as the typed model expands them (an absent esp= is the version's defaults).
            let mineText = mine.map { LibreswanAdapter.describe($0.esp, .esp, version: ctx.local.libreswanVersion) } ?? "Libreswan's default ESP list"
            let theirsText = theirs.map { LibreswanAdapter.describe($0.esp, .esp, version: ctx.peer?.libreswanVersion) } ?? "unknown (add --peer to compare)"
            var why = """
                The IKE SA was established, but the Child SA (ESP, phase 2) proposals share no algorithm, so the \
                responder rejected the Child SA with NO_PROPOSAL_CHOSEN. This end offers \(mineText); the peer \
                accepts \(theirsText).
                """
            if let offered { why += " The responder received: \(offered)." }
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "ESP (phase 2) proposals do not overlap", explanation: why, evidence: evidence,
                remedy: Remedy(summary: "Configure the same \(key)= proposal on both ends: \(key)=\(common)", steps: [
                    ctx.changeOrAdd(.esp(common), on: .local, name, why: "Offer an ESP proposal the peer accepts"),
                    ctx.changeOrAdd(.esp(common), on: .peer, name, why: "Accept the same ESP proposal on the peer"),
                    ctx.cli.restart(name, end: .both),
                ]),
                stage: Self.stage)
        }
    }
}

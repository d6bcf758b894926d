import DoctorModel

/// The two ends' subnets (traffic selectors) do not mirror each other.
struct TSMismatch: Rule {
    static let code: FindingCode = .tsMismatch
    static let stage: Stage = .trafficSelectors
    static let needs: [InputNeed] = [.ikeStory]
    static let summary = "Subnets do not mirror: IKEv2 TS_UNACCEPTABLE, IKEv1 INVALID_ID_INFORMATION or the Quick Mode 'perhaps peer likes no proposal' timeout."
    static let examples: [RuleExample] = [
        .triggering("ikev2-ts-mismatch", cites: "TS_UNACCEPTABLE"),
        .triggering("ikev2-ts-mismatch", withPeer: true, cites: "compatible Traffic Selectors"),
        .triggering("ikev2-ts-mismatch", "east", cites: "compatible Traffic Selectors"),
        .triggering("ikev1-ts-mismatch", cites: "INVALID_ID_INFORMATION"),
        .triggering("ikev1-ts-mismatch", "east", cites: "cannot respond to IPsec SA request"),
        .nonTriggering("host-kernel-no-esp", withPeer: true),
        .nonTriggering("ikev1-esp-proposal-mismatch"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let tsReceived = ctx.localEvents(.tsUnacceptableReceived, name)
            // The line that says why (no connection for the proposed subnets) before the notify that answers it.
            let tsLocal = ctx.localEvents(.ikev1NoConnectionForQuickMode, name) + ctx.localEvents(.tsNoMatchLocal, name)
            let tsPeer = ctx.peerEvents(.ikev1NoConnectionForQuickMode, name) + ctx.peerEvents(.tsNoMatchLocal, name)
            let invalidID = ctx.localEvents(.invalidIDReceived, name)
            let qmTimeout = ctx.localEvents(.quickModeNoProposalTimeout, name)
            let espRejected = !ctx.localEvents(.childNoProposalReceived, name).isEmpty
            let ikev1Ambiguous = !qmTimeout.isEmpty && !espRejected && invalidID.isEmpty
            guard !tsReceived.isEmpty || !tsLocal.isEmpty || !invalidID.isEmpty || ikev1Ambiguous else { return nil }
            // A responder that failed to install its SA also answers TS_UNACCEPTABLE: the kernel rule owns that case.
            let peerKernel = ctx.peerEvents(.kernelSAInstallFailed, name)
            if tsLocal.isEmpty && tsPeer.isEmpty && !peerKernel.isEmpty { return nil }
            let mine = ctx.connection(name)
            let theirs = ctx.peerConnection(name)
            // The subnets each end configures (none: host to host).
            let configured = { (e: EffectiveConnection.Endpoint?) in e.map { $0.subnetsConfigured ? $0.subnets.value : [] } ?? [] }
            let myLocal = configured(mine?.local), myRemote = configured(mine?.remote)
            let theirLocal = configured(theirs?.local), theirRemote = configured(theirs?.remote)
            let words = { (list: [IPPrefix]) in list.map(\.description).joined(separator: ",") }
            var evidence = DiagnosisContext.sample(tsReceived) + DiagnosisContext.sample(invalidID) + DiagnosisContext.sample(tsLocal)
                + DiagnosisContext.sample(tsPeer, 1) + DiagnosisContext.sample(qmTimeout, 1)
            for c in [mine, theirs].compactMap({ $0 }) {
                for e in [c.local, c.remote] where e.subnetsConfigured { if let s = e.subnets.source { evidence.append(s) } }
            }
            var why = "The traffic selectors (leftsubnet/rightsubnet) of the two ends must mirror each other: this end's local subnet is the peer's remote one and vice versa."
            if !myLocal.isEmpty || !myRemote.isEmpty {
                why += " This end: local \(words(myLocal)) <-> remote \(words(myRemote))."
            }
            if theirs != nil { why += " Peer: local \(words(theirLocal)) <-> remote \(words(theirRemote))." }
            if ikev1Ambiguous && tsLocal.isEmpty && tsPeer.isEmpty {
                why += " IKEv1 only shows a Quick Mode timeout here: an ESP proposal mismatch ends the same way. The peer's log decides: `cannot respond to IPsec SA request because no connection is known` means subnets, `no acceptable Proposal in IPsec SA` means ESP algorithms."
            }
            if !tsReceived.isEmpty && tsLocal.isEmpty && tsPeer.isEmpty {
                why += " Note: a responder that fails to install its SA in the kernel also answers TS_UNACCEPTABLE; the peer's log (`netlink response for Add SA`) would show that."
            }
            var steps: [RemedyStep] = []
            if theirs != nil, theirLocal != myRemote, !theirLocal.isEmpty {
                steps += [ctx.change(.remoteSubnets(theirLocal), on: .local, name, why: "Either: ask for the subnet the peer actually offers")].compactMap { $0 }
                if !myRemote.isEmpty, let or = ctx.change(.localSubnets(myRemote), on: .peer, name, why: "Or: make the peer offer the subnet this end asks for") {
                    steps.append(or.instead)
                }
            }
            if theirs != nil, !theirRemote.isEmpty, theirRemote != myLocal, !myLocal.isEmpty,
                let step = ctx.change(.remoteSubnets(myLocal), on: .peer, name, why: "Make the peer's remote subnet equal this end's local subnet")
            {
                steps.append(step)
            }
            if steps.isEmpty {
                steps.append(.check(.peer, "Compare the peer's subnets with this end's: its leftsubnet must be \(words(myRemote)) and its rightsubnet \(words(myLocal))", "ipsec status | grep '\(name)'"))
            }
            steps.append(ctx.cli.restart(name, end: .both))
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "Traffic selectors (subnets) do not match between the two ends", explanation: why, evidence: evidence,
                remedy: Remedy(summary: "Make leftsubnet/rightsubnet mirror each other on both ends.", steps: steps),
                stage: Self.stage)
        }
    }
}

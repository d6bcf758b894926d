import DoctorModel

/// leftid/rightid disagree: the peer does not recognise the identity this end presents.
struct IDMismatch: Rule {
    static let code: FindingCode = .idMismatch
    static let stage: Stage = .identity
    static let needs: [InputNeed] = [.ikeStoryOrConfig]
    static let summary = "leftid/rightid disagree (`Peer ID ... mismatched`, no connection for the peer's ID)."
    static let examples: [RuleExample] = [
        .triggering("ikev2-id-mismatch", withPeer: true, cites: "Peer ID '@west' mismatched"),
        .triggering("ikev2-id-mismatch", "east", cites: "mismatched on first found connection"),
        .triggering("ikev1-id-mismatch", cites: "INVALID_ID_INFORMATION"),
        .triggering("ikev1-id-mismatch", "east", cites: "Peer ID '@west' mismatched"),
        .nonTriggering("ikev1-ts-mismatch", withPeer: true),
        .nonTriggering("ikev2-psk-mismatch", withPeer: true),
    ]

    /// This end signed with a certificate, sent an IP address as its ID (no leftid, or leftid=%defaultroute-like)
    /// and the peer refused it (IKEv2 AUTHENTICATION_FAILED, IKEv1 Main Mode INVALID_ID_INFORMATION):
    /// certificates seldom hold IP-address SANs, and Libreswan checks the ID against the SAN, so that is the
    /// likeliest refusal. Only this end's view; the event that shows the ID sent: 5.x's `sent IKE_AUTH request
    /// ... and IPV4_ADDR '...'`, the status's `our idtype:`, or pluto's payload dump when every ID type in it
    /// is an address (it shows the IDs sent and received alike).
    static func certificateWithIPID(_ ctx: DiagnosisContext, _ name: String) -> IKEEvent? {
        guard ctx.peer == nil, ctx.authMethod(name) == "signature", refusal(ctx, name) != nil else { return nil }
        let ip: (IKEEvent) -> Bool = { ["IPV4_ADDR", "IPV6_ADDR"].contains($0.details["idType"] ?? "") }
        if let sent = ctx.localEvents(.authMethod, name).last(where: ip) { return sent }
        let ids = ctx.localEvents(.ourID, name)
        if let status = ids.last(where: { $0.details["id"] != nil }) { return ip(status) ? status : nil }
        return !ids.isEmpty && ids.allSatisfy(ip) ? ids.last : nil
    }

    /// The peer's refusal of this end's authentication: AUTHENTICATION_FAILED, or IKEv1's INVALID_ID_INFORMATION.
    static func refusal(_ ctx: DiagnosisContext, _ name: String) -> IKEEvent? {
        ctx.localEvents(.authFailedReceived, name).first ?? ctx.localEvents(.idRejectedReceived, name).first
    }

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            if ctx.isUp(name) != true, let sent = Self.certificateWithIPID(ctx, name),
                ctx.anyEvents(.certificateError, name).isEmpty, ctx.anyEvents(.peerIDMismatch, name).isEmpty
            {
                return ipIDRefused(ctx, name, sent)
            }
            let mismatch = ctx.anyEvents(.peerIDMismatch, name)
            let refused = ctx.localEvents(.idRejectedReceived, name)
            let notInSAN = ctx.anyEvents(.certificateError, name).filter { $0.details["cause"] == CredentialCause.idNotInSAN.rawValue }
            let mine = ctx.config(name)
            let theirs = ctx.peerConfig(name)
            let myID = mine?.local("id")?.value ?? mine?.local("")?.value
            let theyExpect = theirs?.remote("id")?.value ?? theirs?.remote("")?.value
            let theirID = theirs?.local("id")?.value ?? theirs?.local("")?.value
            let iExpect = mine?.remote("id")?.value ?? mine?.remote("")?.value
            let configMismatch = theirs != nil && mine != nil && (myID != theyExpect || theirID != iExpect)
            guard !mismatch.isEmpty || !refused.isEmpty || !notInSAN.isEmpty || configMismatch else { return nil }
            // A signing end's refused ID in Main Mode is its certificate refused: AuthFailed leads, with this as a candidate.
            if mismatch.isEmpty && notInSAN.isEmpty && !configMismatch && ctx.authMethod(name) == "signature" && ctx.peer == nil { return nil }
            if ctx.isUp(name) == true { return nil }
            var evidence = DiagnosisContext.sample(ctx.localEvents(.authFailedReceived, name), 1) + DiagnosisContext.sample(refused, 1)
                + DiagnosisContext.sample(mismatch) + DiagnosisContext.sample(notInSAN)
            for (c, k) in [(mine, "id"), (theirs, "id")] {
                guard let c else { continue }
                if let v = c.local(k) { evidence.append(v.source) }
                if let v = c.remote(k) { evidence.append(v.source) }
            }
            let presented = mismatch.first?.details["peerID"] ?? myID ?? "?"
            var steps: [RemedyStep] = []
            if let theirs, myID != theyExpect, let myID {
                steps.append(RemedyBuilder.setKey(theirs.remoteKey("id"), to: myID, in: theirs, connectionName: theirs.name, end: .peer, why: "Expect the ID this end actually presents"))
            } else if theirs == nil {
                steps.append(.check(.peer, "On the peer, the remote ID of this tunnel must be \(presented)", "ipsec status | grep -E 'their id|\(name)'"))
            }
            if let mine, theirs != nil, theirID != iExpect, let theirID {
                steps.append(RemedyBuilder.setKey(mine.remoteKey("id"), to: theirID, in: mine, connectionName: name, end: .local, why: "Expect the ID the peer actually presents"))
            }
            steps.append(.command(.both, "If the PSK is keyed by ID, update ipsec.secrets to the same IDs and reload", ctx.cli.rereadSecrets))
            steps.append(ctx.cli.restart(name, end: .both))
            if !notInSAN.isEmpty {
                let onPeer = !notInSAN.contains { ctx.localEvents(.certificateError, name).contains($0) }
                // The end that checked the SAN is not the one whose certificate lacks it.
                let steps = CredentialCause.idNotInSAN.steps(onPeer ? .local : .peer, nickname: mine?.local("cert")?.value, cli: ctx.cli)
                    + [ctx.cli.restart(name, end: .both)]
                let checked = notInSAN.first.map { String($0.source.text) } ?? ""
                let sanID = checked.range(of: "does not match ").map { String(checked[$0.upperBound...]) }
                return Finding(
                    code: Self.code, severity: .error, connection: name,
                    title: "The ID \(sanID ?? "configured") is not in the certificate's subjectAltName",
                    explanation: CredentialCause.idNotInSAN.why + " The end that logged it checked the other end's certificate against the ID it expects (its rightid) or the ID the other end sent.",
                    evidence: evidence,
                    remedy: Remedy(summary: "Use an ID the certificate holds on both ends (a SAN or %fromcert), or reissue the certificate with that SAN.", steps: steps),
                    stage: Self.stage, cause: CredentialCause.idNotInSAN.rawValue)
            }
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "The peer does not accept this end's ID \(presented)",
                explanation: """
                    This end presents ID \(presented); the peer's connection expects \(theyExpect ?? "a different ID"). \
                    The responder found no connection for that ID and refused it (IKEv2: AUTHENTICATION_FAILED, \
                    which the initiator cannot tell apart from a PSK mismatch; IKEv1 Main Mode: \
                    INVALID_ID_INFORMATION, then silence until the initiator times out in MAIN_I3).
                    """,
                evidence: evidence,
                remedy: Remedy(summary: "Make each end's rightid equal the other end's leftid.", steps: steps),
                stage: Self.stage)
        }
    }

    func ipIDRefused(_ ctx: DiagnosisContext, _ name: String, _ sent: IKEEvent) -> Finding {
        let id = sent.details["id"].map { "the IP address \($0)" } ?? "an IP address"
        let refused = Self.refusal(ctx, name)
        let answer = refused?.kind == .idRejectedReceived ? "INVALID_ID_INFORMATION (IKEv1 Main Mode's answer to a refused ID or certificate)" : "AUTHENTICATION_FAILED"
        let mine = ctx.config(name)
        let cert = mine?.local("cert")?.value
        var steps = [RemedyStep.check(.peer, "Read why the peer refused this end's certificate (the line decides)",
                                      "journalctl -u ipsec --since -1h --no-pager | grep -E 'subjectAltName|mismatched|NSS: ERROR|X509|no suitable connection'")]
        steps += CredentialCause.idNotInSAN.steps(.local, nickname: cert, cli: ctx.cli)
        steps.append(ctx.cli.restart(name, end: .both))
        return Finding(
            code: Self.code, severity: .error, connection: name,
            title: "The peer refused this end's certificate; the ID it sent, \(id), is most likely not in the certificate's subjectAltName",
            explanation: """
                This end authenticates with a certificate and sent \(id) as its ID (that is what \
                Libreswan sends when leftid= is not set). The peer answered \(answer). The peer \
                accepts a certificate only when the ID sent is one of its subjectAltNames, and certificates seldom \
                carry an IP-address SAN, so that is the likeliest reason; an unknown CA, an expired or revoked \
                certificate, or a rightid on the peer that expects another ID give the same answer. The peer's log \
                decides (`subjectAltName ... does not match` / `Peer ID ... mismatched` for the ID).
                """,
            evidence: [refused?.source, sent.source].compactMap { $0 } + [mine?.local("id")?.source, mine?.local("cert")?.source].compactMap { $0 },
            remedy: Remedy(summary: "Send an ID the certificate holds (leftid=%fromcert, or a SAN of it) and have the peer expect it, or reissue the certificate with the IP as a SAN.", steps: steps),
            stage: Self.stage, cause: CredentialCause.idNotInSAN.rawValue,
            candidates: [
                Candidate(code: Self.code, cause: CredentialCause.idNotInSAN.rawValue, decidedBy: "the peer's log says `subjectAltName ... does not match` or `Peer ID ... mismatched`"),
                Candidate(code: AuthFailed.code, cause: "unknown-ca", decidedBy: "the peer's log has `SEC_ERROR_UNKNOWN_ISSUER`: it lacks this end's CA"),
                Candidate(code: AuthFailed.code, cause: "certificate-expired", decidedBy: "the peer's log has `SEC_ERROR_EXPIRED_CERTIFICATE` (or a clock far off on either end)"),
                Candidate(code: AuthFailed.code, cause: "certificate-revoked", decidedBy: "the peer's log has `SEC_ERROR_REVOKED_CERTIFICATE` (CRL/OCSP)"),
            ])
    }
}

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

    /// This end signed with a certificate, sent an ID that is not the certificate's subject DN (an IP address,
    /// which Libreswan sends when leftid= is not set; or an explicit leftid= FQDN or e-mail address) and the peer
    /// refused it (IKEv2 AUTHENTICATION_FAILED, IKEv1 Main Mode INVALID_ID_INFORMATION). Such an ID is trusted
    /// only when it is one of the certificate's subjectAltNames, and Libreswan checks exactly that, so it is the
    /// likeliest refusal; a DN is the certificate's own subject and cannot miss. Only this end's view; the event
    /// that shows the ID sent: 5.x's `sent IKE_AUTH request ... and USER_FQDN '...'`, the status's `our idtype:`,
    /// or pluto's payload dump when no ID type in it is a DN (it shows the IDs sent and received alike).
    static func certificateWithExplicitID(_ ctx: DiagnosisContext, _ name: String) -> IKEEvent? {
        guard ctx.peer == nil, ctx.authMethod(name) == "signature", refusal(ctx, name) != nil else { return nil }
        let explicit: (IKEEvent) -> Bool = { explicitIDTypes.contains($0.details["idType"] ?? "") }
        if let sent = ctx.localEvents(.authMethod, name).last(where: { $0.details["idType"] != nil }) { return explicit(sent) ? sent : nil }
        let ids = ctx.localEvents(.ourID, name)
        if let status = ids.last(where: { $0.details["id"] != nil }) { return explicit(status) ? status : nil }
        return !ids.isEmpty && ids.allSatisfy(explicit) ? ids.last : nil
    }

    /// ID types a certificate must carry as a subjectAltName to be trusted with them.
    static let explicitIDTypes: Set<String> = ["IPV4_ADDR", "IPV6_ADDR", "FQDN", "USER_FQDN"]

    /// The peer's refusal of this end's authentication: AUTHENTICATION_FAILED, or IKEv1's INVALID_ID_INFORMATION.
    static func refusal(_ ctx: DiagnosisContext, _ name: String) -> IKEEvent? {
        ctx.localEvents(.authFailedReceived, name).first ?? ctx.localEvents(.idRejectedReceived, name).first
    }

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            if ctx.isUp(name) != true, let sent = Self.certificateWithExplicitID(ctx, name),
                ctx.anyEvents(.certificateError, name).isEmpty, ctx.anyEvents(.peerIDMismatch, name).isEmpty
            {
                return explicitIDRefused(ctx, name, sent)
            }
            let mismatch = ctx.anyEvents(.peerIDMismatch, name)
            let refused = ctx.localEvents(.idRejectedReceived, name)
            // `no certificate matched ... and 'ID'` after the CA is missing (or the certificate expired) is the
            // trust failure, not the ID: no certificate was usable for any ID.
            let certErrors = ctx.anyEvents(.certificateError, name)
            let trustFailed = certErrors.contains { [CredentialCause.unknownCA, .certificateExpired, .certificateRevoked, .certificateNotYetValid].map(\.rawValue).contains($0.details["cause"] ?? "") }
            let notInSAN = certErrors.filter { $0.details["cause"] == CredentialCause.idNotInSAN.rawValue && !(trustFailed && $0.source.text.contains("no certificate matched")) }
            let mine = ctx.connection(name)
            let theirs = ctx.peerConnection(name)
            // The ID each end sends (its own, else its address) and the one it expects of the other.
            let myID = mine?.local.id?.value, iExpect = mine?.remote.id?.value
            let theirID = theirs?.local.id?.value, theyExpect = theirs?.remote.id?.value
            let configMismatch = theirs != nil && mine != nil && (myID != theyExpect || theirID != iExpect)
            guard !mismatch.isEmpty || !refused.isEmpty || !notInSAN.isEmpty || configMismatch else { return nil }
            // A signing end's refused ID in Main Mode is its certificate refused: AuthFailed leads, with this as a candidate.
            if mismatch.isEmpty && notInSAN.isEmpty && !configMismatch && ctx.authMethod(name) == "signature" && ctx.peer == nil { return nil }
            if ctx.isUp(name) == true { return nil }
            var evidence = DiagnosisContext.sample(ctx.localEvents(.authFailedReceived, name), 1) + DiagnosisContext.sample(refused, 1)
                + DiagnosisContext.sample(mismatch) + DiagnosisContext.sample(notInSAN)
            for c in [mine, theirs].compactMap({ $0 }) {
                for e in [c.local, c.remote] where e.idConfigured { if let s = e.id?.source { evidence.append(s) } }
            }
            let presented = mismatch.first?.details["peerID"] ?? myID ?? "?"
            // This end's own log refused the other end's ID: the refusal is this end's.
            let refusedHere = ctx.peer == nil && !mismatch.isEmpty && mismatch.allSatisfy { ctx.localEvents(.peerIDMismatch, name).contains($0) }
                && refused.isEmpty && ctx.localEvents(.authFailedReceived, name).isEmpty
            var steps: [RemedyStep] = []
            if refusedHere, theirs == nil, let declared = mismatch.first?.details["peerID"] {
                if let step = ctx.change(.remoteID(declared), on: .local, name, why: "Expect the ID the peer sends (or set the peer's leftid to the ID this end expects)") {
                    steps.append(step)
                } else {
                    steps.append(.check(.local, "This end's rightid must be the ID the peer sends, \(declared), or the peer's leftid the ID this end expects", "ipsec status | grep -E 'their id'"))
                }
            } else if refusedHere, theirs == nil {
                steps.append(.check(.both, "Compare the ID each end sends (leftid) with the ID the other expects (rightid)", "ipsec status | grep -E 'our id|their id'"))
            } else if theirs != nil, myID != theyExpect, let myID {
                steps += [ctx.change(.remoteID(myID), on: .peer, name, why: "Expect the ID this end actually presents")].compactMap { $0 }
                if let old = theyExpect { steps += ctx.rekeyedSecret(on: .peer, name, from: old, to: myID) }
            } else if theirs == nil {
                steps.append(.check(.peer, "On the peer, the remote ID of this tunnel must be \(presented)", "ipsec status | grep -E 'their id|\(name)'"))
            }
            if mine != nil, theirs != nil, theirID != iExpect, let theirID {
                steps += [ctx.change(.remoteID(theirID), on: .local, name, why: "Expect the ID the peer actually presents")].compactMap { $0 }
                if let old = iExpect { steps += ctx.rekeyedSecret(on: .local, name, from: old, to: theirID) }
            }
            steps.append(.command(.both, "If the PSK is keyed by ID, update ipsec.secrets to the same IDs and reload", ctx.cli.rereadSecrets))
            steps.append(ctx.cli.restart(name, end: .both))
            if !notInSAN.isEmpty {
                let onPeer = !notInSAN.contains { ctx.localEvents(.certificateError, name).contains($0) }
                // The end that checked the SAN is not the one whose certificate lacks it.
                let steps = CredentialCause.idNotInSAN.steps(onPeer ? .local : .peer, nickname: mine?.local.certificate?.value, cli: ctx.cli)
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
            let title = refusedHere
                ? (mismatch.first?.details["peerID"].map { "This end does not accept the peer's ID \($0)" } ?? "The ID one end sends is not the ID the other expects")
                : presented == "?" ? "The ID one end sends is not the ID the other expects" : "The peer does not accept this end's ID \(presented)"
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: title,
                explanation: refusedHere ? """
                    The peer identified itself as \(mismatch.first?.details["peerID"] ?? "an ID") and this end's connection \
                    expects another (its rightid, or the ID the peer's IDr names for this end), so this end refuses it: \
                    no connection of this end is for that pair of IDs. The peer sees AUTHENTICATION_FAILED (IKEv2) or \
                    INVALID_ID_INFORMATION (IKEv1), which it cannot tell apart from a PSK mismatch.
                    """ : """
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

    func explicitIDRefused(_ ctx: DiagnosisContext, _ name: String, _ sent: IKEEvent) -> Finding {
        let type = sent.details["idType"] ?? "IPV4_ADDR"
        let isIP = type.hasSuffix("_ADDR")
        let kind = isIP ? "the IP address" : type == "USER_FQDN" ? "the e-mail address" : "the name"
        let id = sent.details["id"].map { "\(kind) \($0)" } ?? (isIP ? "an IP address" : type == "USER_FQDN" ? "an e-mail address" : "a name")
        let whySent = isIP ? "that is what Libreswan sends when leftid= is not set" : "its leftid=, not the certificate's subject DN"
        let seldom = isIP ? ", and certificates seldom carry an IP-address SAN" : ""
        let refused = Self.refusal(ctx, name)
        let answer = refused?.kind == .idRejectedReceived ? "INVALID_ID_INFORMATION (IKEv1 Main Mode's answer to a refused ID or certificate)" : "AUTHENTICATION_FAILED"
        let mine = ctx.connection(name)
        let cert = mine?.local.certificate?.value
        var steps = [RemedyStep.check(.peer, "Read why the peer refused this end's certificate (the line decides)",
                                      "journalctl -u ipsec --since -1h --no-pager | grep -E 'subjectAltName|mismatched|NSS: ERROR|X509|no suitable connection'")]
        steps += CredentialCause.idNotInSAN.steps(.local, nickname: cert, cli: ctx.cli)
        steps.append(ctx.cli.restart(name, end: .both))
        return Finding(
            code: Self.code, severity: .error, connection: name,
            title: "The peer refused this end's certificate; the ID it sent, \(id), is most likely not in the certificate's subjectAltName",
            explanation: """
                This end authenticates with a certificate and sent \(id) as its ID (\(whySent)). The peer \
                answered \(answer). The peer accepts a certificate with such an ID only when the ID is one of its \
                subjectAltNames\(seldom), so that is the likeliest reason; an unknown CA, an expired or revoked \
                certificate, or a rightid on the peer that expects another ID give the same answer. The peer's log \
                decides (`subjectAltName ... does not match` / `Peer ID ... mismatched` for the ID).
                """,
            evidence: [refused?.source, sent.source].compactMap { $0 } + [mine?.local.idConfigured == true ? mine?.local.id?.source : nil, mine?.local.certificate?.source].compactMap { $0 },
            remedy: Remedy(summary: "Send an ID the certificate holds (leftid=%fromcert, or a SAN of it) and have the peer expect it, or reissue the certificate with \(isIP ? "the IP" : "that ID") as a SAN.", steps: steps),
            stage: Self.stage, cause: CredentialCause.idNotInSAN.rawValue,
            candidates: [
                Candidate(code: Self.code, cause: CredentialCause.idNotInSAN.rawValue, decidedBy: "the peer's log says `subjectAltName ... does not match` or `Peer ID ... mismatched`"),
                Candidate(code: AuthFailed.code, cause: "unknown-ca", decidedBy: "the peer's log has `SEC_ERROR_UNKNOWN_ISSUER`: it lacks this end's CA"),
                Candidate(code: AuthFailed.code, cause: "certificate-expired", decidedBy: "the peer's log has `SEC_ERROR_EXPIRED_CERTIFICATE` (or a clock far off on either end)"),
                Candidate(code: AuthFailed.code, cause: "certificate-revoked", decidedBy: "the peer's log has `SEC_ERROR_REVOKED_CERTIFICATE` (CRL/OCSP)"),
            ])
    }
}

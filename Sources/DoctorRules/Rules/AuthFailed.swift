import DoctorModel
import Foundation

/// Authentication failed for a reason other than the PSK: authby disagreement, certificates, missing keys.
struct AuthFailed: Rule {
    static let code: FindingCode = .authFailed
    static let stage: Stage = .credentials
    static let needs: [InputNeed] = [.ikeStoryOrConfig]
    static let summary = "Authentication failures that are not a PSK mismatch: authby disagreement, certificate errors, no key found."
    static let examples: [RuleExample] = [
        .triggering("ikev2-authby-mismatch", withPeer: true, cites: "peer attempted PSK authentication but we want"),
        .triggering("ikev2-authby-mismatch", "east", cites: "peer attempted PSK authentication"),
        .triggering("ikev1-authby-mismatch", "east", cites: "no connection has been authorized with authby=PSK"),
        .triggering("ikev1-authby-mismatch", withPeer: true, cites: "authby"),
        .nonTriggering("ikev2-psk-mismatch", withPeer: true),
        .nonTriggering("ike-version-mismatch", withPeer: true),
        .nonTriggering("ikev2-id-mismatch", withPeer: true),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let method = ctx.anyEvents(.authMethodMismatch, name)
            // An ID outside the certificate's SAN is an id-mismatch (IDMismatch reports it).
            let cert = ctx.anyEvents(.certificateError, name).filter { $0.details["cause"] != CredentialCause.idNotInSAN.rawValue }
            let noKey = ctx.anyEvents(.noPSKFound, name)
            let cause = CredentialCause.of(cert + noKey)
            // IKEv1 Main Mode answers a refused certificate with INVALID_ID_INFORMATION.
            let signs = ctx.authMethod(name) == "signature"
            // IKEv2's IKE_AUTH request timing out "Possible authentication failure": 3.x responders answer a
            // failed authentication with silence. A PSK end's is PSKMismatch's.
            let method0 = ctx.authMethod(name)
            let authSilence = method0 == "psk" ? [] : ctx.localEvents(.authTimeout, name).filter { e in
                ["PARENT_I2", "IKE_AUTH_I"].contains { (e.state ?? "").contains($0) }
            }
            let rejected = ctx.localEvents(.authFailedReceived, name) + (signs ? ctx.localEvents(.idRejectedReceived, name) : []) + authSilence
            // IKEv1 responder: "no connection has been authorized with authby=PSK" while a connection of the
            // same IKE version exists, i.e. the method, not the version, is what no connection accepts.
            let unauthorized = ctx.anyEvents(.noSuitableConnection, name).filter { e in
                guard let r = e.source.text.range(of: "authby=") else { return false }
                let offered = e.source.text[r.upperBound...].prefix(while: { $0 != " " && $0 != "," }).lowercased()
                let conns = ctx.allConnections(peer: !ctx.localEvents(.noSuitableConnection, name).contains(e))
                let sameVersion = conns.contains { $0.ikeVersion.value.rawValue == e.details["ikeVersion"] }
                // What the initiator offered, against what each connection expects of its peer.
                let methodAccepted = conns.contains { $0.remote.auth.value == LibreswanAdapter.auth(offered) }
                return sameVersion && !methodAccepted
            }
            let mine = ctx.connection(name)
            let theirs = ctx.peerConnection(name)
            // Each end authenticates the way the other expects it to.
            let authbyDiffers = mine.flatMap { m in theirs.map { m.local.auth.value != $0.remote.auth.value || m.remote.auth.value != $0.local.auth.value } } ?? false
            let nonPSKReject = !rejected.isEmpty && (method0.map { $0 != "psk" } == true || !authSilence.isEmpty)
            guard !method.isEmpty || !unauthorized.isEmpty || !cert.isEmpty || !noKey.isEmpty || authbyDiffers || nonPSKReject else { return nil }
            if ctx.isUp(name) == true { return nil }
            var evidence = DiagnosisContext.sample(rejected, 1) + DiagnosisContext.sample(method) + DiagnosisContext.sample(unauthorized)
                + DiagnosisContext.sample(cert) + DiagnosisContext.sample(noKey)
            for c in [mine, theirs].compactMap({ $0 }) { evidence.append(c.local.auth.source ?? c.header) }
            var why = "Authentication failed, and not because of the PSK value."
            var steps: [RemedyStep] = []
            if !method.isEmpty || !unauthorized.isEmpty || authbyDiffers {
                why += " The ends disagree on the authentication method: this end uses \(ctx.describeAuth(mine)), the peer \(theirs.map { ctx.describeAuth($0) } ?? "a different method (see its log)")."
                let target = mine?.local.auth.value ?? .psk
                steps.append(ctx.change(.auth(target), on: .peer, name, why: "Use the same authentication method as this end")
                    ?? .check(.peer, "Use the same authentication method as this end: authby=\(LibreswanAdapter.keyword(target)) in the peer's connection", "ipsec status | grep -E 'our auth|policy:'"))
            }
            if let cause {
                // The end whose log names the credential problem is the one to act on.
                let onPeer = !(cert + noKey).contains { ctx.localEvents($0.kind, name).contains($0) }
                why += " " + cause.why
                steps += cause.steps(onPeer ? .peer : .local, nickname: (cert + noKey).first?.details["certificate"] ?? mine?.local.certificate?.value, cli: ctx.cli)
            } else if !cert.isEmpty {
                why += " A certificate was rejected (see the NSS/X509 lines): check validity dates, the CA chain in the NSS database, and that the certificate's subject/SAN matches the configured ID."
            }
            // Only this end's word that the peer refused its signature: the peer's log names the reason.
            let refusedBlind = nonPSKReject && cert.isEmpty && noKey.isEmpty && method.isEmpty && unauthorized.isEmpty && !authbyDiffers
            // A certificate refused after an IP-address ID is reported by IDMismatch, with these as candidates.
            if refusedBlind && IDMismatch.certificateWithExplicitID(ctx, name) != nil { return nil }
            let silent = refusedBlind && rejected.allSatisfy { authSilence.contains($0) }
            if silent {
                why += " The peer never answered this end's IKE_AUTH request (pluto: `Possible authentication failure`): older responders (3.x) drop an exchange whose authentication fails instead of answering AUTHENTICATION_FAILED. \(method0 == nil ? "The capture does not say how this end authenticates: a PSK that differs, a certificate the peer refuses, an ID it does not expect and an authby it does not take all end this way." : "This end signs; a certificate the peer refuses, an ID it does not expect or an authby it does not take end this way.") The peer's log names it."
                steps.insert(.check(.peer, "Read why the peer dropped this end's IKE_AUTH",
                                    "journalctl -u ipsec --since -1h --no-pager | grep -E 'NSS: ERROR|X509|subjectAltName|mismatched|we want|hash does not match|no suitable connection'"), at: 0)
            } else if refusedBlind {
                why += " The peer rejected this end's signature (certificate) authentication with AUTHENTICATION_FAILED. From this end alone the reason cannot be told: the peer's log names it (an NSS: ERROR line for an expired, revoked or untrusted certificate, a subjectAltName line for an ID the certificate does not hold, `we want` for another authby)."
                steps.insert(.check(.peer, "Read why the peer refused this end's certificate",
                                    "journalctl -u ipsec --since -1h --no-pager | grep -E 'NSS: ERROR|X509|subjectAltName|mismatched|we want|no suitable connection'"), at: 0)
            }
            let candidates: [Candidate]? = refusedBlind && ctx.peer == nil ? (silent && method0 == nil ? [
                Candidate(code: Self.code, cause: "authby-mismatch", decidedBy: "the peer's log says `peer attempted ... authentication but we want ...`"),
                Candidate(code: PSKMismatch.code, decidedBy: "this end uses authby=secret and the peer's log says `computed hash does not match` / `AUTH mismatch`"),
                Candidate(code: IDMismatch.code, decidedBy: "the peer's log says `Peer ID ... mismatched` or `no suitable connection` for this end's ID"),
            ] : []) + [
                Candidate(code: Self.code, cause: "certificate-expired", decidedBy: "the peer's log has `SEC_ERROR_EXPIRED_CERTIFICATE` (or a clock far off on either end)"),
                Candidate(code: Self.code, cause: "certificate-revoked", decidedBy: "the peer's log has `SEC_ERROR_REVOKED_CERTIFICATE` (CRL/OCSP)"),
                Candidate(code: Self.code, cause: "unknown-ca", decidedBy: "the peer's log has `SEC_ERROR_UNKNOWN_ISSUER`: it lacks this end's CA"),
                Candidate(code: IDMismatch.code, cause: "id-not-in-san", decidedBy: "the peer's log says `subjectAltName ... does not match` or `Peer ID ... mismatched`"),
            ] : nil
            if !noKey.isEmpty && cause == nil { why += " One end has no key for this pair of IDs: add the PSK to ipsec.secrets or import the certificate/private key." }
            if !cert.isEmpty { steps.append(.check(.both, "List certificates and CAs known to pluto", ctx.cli.listAll)) }
            steps.append(ctx.cli.restart(name, end: .both))
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: !method.isEmpty || !unauthorized.isEmpty || authbyDiffers ? "The ends use different authentication methods (authby)" : cause?.title ?? (silent ? "The peer dropped this end's authentication (IKE_AUTH got no answer)" : refusedBlind ? "The peer rejected this end's certificate" : "Authentication failed (certificate or key)"),
                explanation: why, evidence: evidence,
                remedy: Remedy(summary: "Use the same authentication method and matching credentials on both ends.", steps: steps),
                stage: Self.stage,
                cause: !method.isEmpty || !unauthorized.isEmpty || authbyDiffers ? "authby-mismatch" : cause?.rawValue, candidates: candidates)
        }
    }
}

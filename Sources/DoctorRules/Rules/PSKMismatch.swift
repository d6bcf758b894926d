import DoctorModel

/// The two ends hold different pre-shared keys.
struct PSKMismatch: Rule {
    static let code: FindingCode = .pskMismatch
    static let stage: Stage = .sharedSecret
    static let needs: [InputNeed] = [.ikeStoryOrSecrets]
    static let summary = "Pre-shared keys differ: IKEv2 AUTHENTICATION_FAILED with authby=secret, IKEv1 hash mismatch or a Main Mode I3 timeout."
    static let examples: [RuleExample] = [
        .triggering("ikev2-psk-mismatch", cites: "AUTHENTICATION_FAILED"),
        .triggering("ikev2-psk-mismatch", withPeer: true, cites: "computed hash does not match"),
        .triggering("ikev2-psk-mismatch", "east", cites: "computed hash does not match"),
        .triggering("ikev1-psk-mismatch", cites: "STATE_MAIN_I3"),
        .triggering("ikev1-psk-mismatch", "east", cites: "mismatch of preshared secrets"),
        .nonTriggering("ikev2-id-mismatch", withPeer: true),
        .nonTriggering("ikev1-id-mismatch"),
        .nonTriggering("ikev2-authby-mismatch", withPeer: true),
        .nonTriggering("healthy", withPeer: true),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            let mine = ctx.connection(name)
            let theirs = ctx.peerConnection(name)
            let hash = ctx.anyEvents(.pskHashMismatch, name) + ctx.anyEvents(.ikev1HashMismatch, name)
            let rejected = ctx.localEvents(.authFailedReceived, name)
            let authTimeouts = ctx.localEvents(.authTimeout, name).filter { ($0.state ?? "").contains("MAIN_I3") || ($0.state ?? "").contains("AGGR") || mine?.ikeVersion.value == .v1 }
            // Other causes the peer's log names take precedence.
            let otherCause = !ctx.anyEvents(.peerIDMismatch, name).isEmpty || !ctx.localEvents(.idRejectedReceived, name).isEmpty || !ctx.anyEvents(.authMethodMismatch, name).isEmpty
                || !ctx.anyEvents(.certificateError, name).isEmpty || !ctx.anyEvents(.noPSKFound, name).isEmpty
            if otherCause && hash.isEmpty { return nil }
            let psk = (mine ?? theirs).map { $0.local.auth.value == .psk } ?? ctx.authMethod(name).map { $0 == "psk" } ?? true
            let secretsDiffer = Self.secretsDiffer(ctx, mine: mine, theirs: theirs)
            let confirmed = !hash.isEmpty || secretsDiffer == true
            guard confirmed || (psk && (!rejected.isEmpty || !authTimeouts.isEmpty)) else { return nil }
            if ctx.isUp(name) == true && hash.isEmpty { return nil }
            var evidence = DiagnosisContext.sample(rejected) + DiagnosisContext.sample(authTimeouts, 1) + DiagnosisContext.sample(hash)
            let mySecret = ctx.localPSKs.entry(for: mine)
            let theirSecret = ctx.peerPSKs.entry(for: theirs)
            if let s = mySecret { evidence.append(s.source) }
            if let s = theirSecret { evidence.append(s.source) }
            if let a = mine?.local.auth.source { evidence.append(a) }
            var why: String
            if confirmed {
                why = "The pre-shared keys of the two ends differ."
                if !hash.isEmpty { why += " The responder computed a different authentication hash than the one it received, which is what a different PSK produces." }
                if secretsDiffer == true { why += " The two ipsec.secrets entries for this pair of IDs hold different secrets (compared by fingerprint; neither is shown)." }
            } else if !rejected.isEmpty {
                let uses = mine?.local.auth.value == .psk ? "the connection uses authby=secret" : theirs?.local.auth.value == .psk ? "the peer's connection uses authby=secret" : "no configuration says which method is used"
                why = """
                    The peer rejected this end's authentication (AUTHENTICATION_FAILED), and \(uses). That is a PSK, ID \
                    or authby mismatch; the initiator cannot tell which, so the PSK (the most common) is only the \
                    most likely. The peer's log decides: `computed hash does not match` confirms a PSK mismatch, \
                    `Peer ID ... mismatched` or `no suitable connection` an ID mismatch, `peer attempted PSK \
                    authentication but we want` an authby mismatch, an NSS/X509 line a certificate.
                    """
            } else {
                why = """
                    IKEv1 Main Mode timed out waiting for the answer to the first encrypted message (MAIN_I3). The \
                    PSK is part of the key that encrypts it: with different PSKs the peer cannot decrypt it and \
                    stays silent. An ID mismatch ends the same way; the peer's log says `probable authentication \
                    failure (mismatch of preshared secrets?)` for a PSK mismatch.
                    """
            }
            // Only this end's word that the peer said no: name the rivals and the check that decides.
            let ambiguous = !confirmed && !rejected.isEmpty && ctx.peer == nil
            let candidates: [Candidate]? = ambiguous ? [
                Candidate(code: Self.code, decidedBy: "the peer's log says `computed hash does not match` (IKEv2) or `mismatch of preshared secrets` (IKEv1)"),
                Candidate(code: IDMismatch.code, decidedBy: "the peer's log says `Peer ID '...' mismatched` or `no suitable connection for peer`: its rightid is not this end's leftid"),
                Candidate(code: AuthFailed.code, cause: "authby-mismatch", decidedBy: "the peer's log says `peer attempted PSK authentication but we want ...`, or its connection has another authby="),
                Candidate(code: AuthFailed.code, cause: "no-psk", decidedBy: "the peer's log says `no PSK found for ...`: its ipsec.secrets has no entry for this pair of IDs"),
                Candidate(code: AuthFailed.code, cause: "certificate", decidedBy: "this end signs with a certificate after all (`our auth:rsasig` in `ipsec status`) and the peer's log has an NSS: ERROR or X509 line"),
            ] : nil
            let ids = [mine?.local, mine?.remote].compactMap { e in e.flatMap { $0.idConfigured ? $0.id?.value : nil } }.joined(separator: " ")
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: confirmed ? "Pre-shared keys differ between the two ends" : "Authentication rejected: most likely the pre-shared keys differ",
                explanation: why, evidence: evidence,
                remedy: Remedy(summary: ambiguous ? "First read the peer's log for this attempt; if it confirms the PSK, put the same PSK on both ends." : "Put the same PSK on both ends, then reload secrets and retry.", steps: (ambiguous ? [
                    .check(.peer, "Read why the peer refused: the line decides between PSK, ID and authby",
                           "journalctl -u ipsec --since -1h --no-pager | grep -E 'computed hash|mismatch of preshared|mismatched|no suitable connection|we want|NSS|X509'"),
                ] : [RemedyStep]()) + [
                    .config(.both, "Use one secret for this pair of IDs in ipsec.secrets on both ends (same value both sides)",
                            file: mySecret?.source.file ?? "/etc/ipsec.secrets", connection: nil,
                            remove: [mySecret?.source.text].compactMap { $0 },
                            add: ["\(ids.isEmpty ? "%any" : ids) : PSK \"<the same secret on both ends>\""]),
                    .command(.both, "Reload the secrets", ctx.cli.rereadSecrets),
                    .command(.local, "Retry", ctx.cli.up(name)),
                ]),
                stage: Self.stage, candidates: candidates)
        }
    }

    static func secretsDiffer(_ ctx: DiagnosisContext, mine: EffectiveConnection?, theirs: EffectiveConnection?) -> Bool? {
        guard let a = ctx.localPSKs.entry(for: mine)?.fingerprint,
            let b = ctx.peerPSKs.entry(for: theirs)?.fingerprint
        else { return nil }
        return a != b
    }
}

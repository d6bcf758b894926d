import DoctorModel

/// One end speaks only IKEv1, the other only IKEv2.
struct IKEVersionMismatch: Rule {
    static let code = "ike-version-mismatch"
    static let summary = "One end is IKEv1-only and the other IKEv2-only (ikev2= / keyexchange= disagree)."
    static let examples: [RuleExample] = [
        .triggering("ike-version-mismatch", withPeer: true, cites: "no connection has been authorized"),
        .triggering("ike-version-mismatch", "east", cites: "initial Main Mode message received"),
        .nonTriggering("ikev1-psk-mismatch", withPeer: true),
        .nonTriggering("peer-unreachable", withPeer: true),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            if ctx.isUp(name) == true { return nil }
            let mine = ctx.config(name)
            let theirs = ctx.peerConfig(name)
            // The responder's own view: a message of a version none of its connections accepts.
            let wrongVersion = ctx.anyEvents(.noSuitableConnection, name).filter { e in
                guard let v = e.details["ikeVersion"] else { return false }
                let side = ctx.localEvents(.noSuitableConnection, name).contains(e) ? ctx.local : ctx.peer
                let versions = Set(side?.config?.connections.map { $0.ikeVersion.rawValue } ?? [])
                return !versions.isEmpty && !versions.contains(v)
            }
            let dropped = ctx.anyEvents(.ikev1Dropped, name) + ctx.anyEvents(.ikeVersionRefused, name)
            var evidence: [SourceLine] = DiagnosisContext.sample(wrongVersion + dropped)
            let configDiffers = mine.flatMap { m in theirs.map { m.ikeVersion != $0.ikeVersion } } ?? false
            guard configDiffers || !evidence.isEmpty else { return nil }
            let myV = mine?.ikeVersion
            let theirV = theirs?.ikeVersion ?? (myV == .v1Only ? .v2Only : myV == .v2Only ? .v1Only : nil)
            for c in [mine, theirs].compactMap({ $0 }) {
                if let v = c["ikev2"] ?? c["keyexchange"] { evidence.append(v.source) } else { evidence.append(c.header) }
            }
            var steps: [RemedyStep] = []
            // Prefer IKEv2 on both ends: change the IKEv1 end.
            if myV == .v1Only {
                steps.append(RemedyBuilder.setKey("ikev2", to: "insist", in: mine, connectionName: name, end: .local, why: "Make this end speak IKEv2 like the peer (Libreswan 4.x; on 5.x write keyexchange=ikev2)"))
            } else if theirV == .v1Only || theirs == nil {
                steps.append(RemedyBuilder.setKey("ikev2", to: "insist", in: theirs, connectionName: theirs?.name ?? name, end: .peer, why: "Make the peer speak IKEv2 like this end (Libreswan 4.x; on 5.x write keyexchange=ikev2)"))
            }
            steps.append(.config(.both, "Only if IKEv1 must stay: set ikev2=no on both ends and allow IKEv1 globally (5.x drops it by default)", file: nil, connection: "config setup", remove: [], add: ["ikev1-policy=accept"]))
            steps.append(ctx.cli.restart(name, end: .both))
            return Finding(
                code: Self.code, severity: .error, connection: name,
                title: "IKE version mismatch: this end uses \(myV?.rawValue ?? "?"), the peer \(theirV?.rawValue ?? "the other version")",
                explanation: """
                    Both ends must speak the same IKE version. \(myV.map { "This end's connection is \($0.rawValue)-only" } ?? "This end") \
                    and \(theirV.map { "the peer accepts only \($0.rawValue)" } ?? "the peer does not accept its version"): \
                    the responder finds no connection for the version it receives, and the initiator only sees \
                    retransmissions and a timeout in its first exchange.
                    """,
                evidence: evidence, remedy: Remedy(summary: "Use the same IKE version on both ends (IKEv2 recommended).", steps: steps),
                rank: Rank.ikeVersion)
        }
    }
}

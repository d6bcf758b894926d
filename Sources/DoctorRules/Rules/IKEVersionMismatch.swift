import DoctorModel

/// One end speaks only IKEv1, the other only IKEv2.
struct IKEVersionMismatch: Rule {
    static let code: FindingCode = .ikeVersionMismatch
    static let stage: Stage = .ikeVersion
    static let needs: [InputNeed] = [.ikeStoryOrConfig]
    static let summary = "One end is IKEv1-only and the other IKEv2-only (ikev2= / keyexchange= disagree), or an IKEv1 initiator gets no answer at all (a peer that drops IKEv1; named with the other causes of silence)."
    static let examples: [RuleExample] = [
        .triggering("ike-version-mismatch", withPeer: true, cites: "no connection has been authorized"),
        .triggering("ike-version-mismatch", "east", cites: "initial Main Mode message received"),
        .triggering("ike-version-mismatch", cites: "STATE_MAIN_I1"),  // west alone: IKEv1 silence
        .nonTriggering("ikev1-dpd-timeout"),
        .nonTriggering("ikev1-psk-mismatch", withPeer: true),
        .nonTriggering("peer-unreachable", withPeer: true),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        ctx.connectionNames.compactMap { name in
            if ctx.isUp(name) == true { return nil }
            let mine = ctx.connection(name)
            let theirs = ctx.peerConnection(name)
            // The responder's own view: a message of a version none of its connections accepts.
            let wrongVersion = ctx.anyEvents(.noSuitableConnection, name).filter { e in
                guard let v = e.details["ikeVersion"] else { return false }
                let versions = Set(ctx.allConnections(peer: !ctx.localEvents(.noSuitableConnection, name).contains(e)).map { $0.ikeVersion.value.rawValue })
                return !versions.isEmpty && !versions.contains(v)
            }
            let dropped = ctx.anyEvents(.ikev1Dropped, name) + ctx.anyEvents(.ikeVersionRefused, name)
            var evidence: [SourceLine] = DiagnosisContext.sample(wrongVersion + dropped)
            let configDiffers = mine.flatMap { m in theirs.map { m.ikeVersion.value != $0.ikeVersion.value } } ?? false
            if !configDiffers && evidence.isEmpty, ctx.peer == nil, let timeouts = PeerUnreachable.silence(ctx, name),
                PeerUnreachable.isIKEv1(ctx, name, timeouts)
            {
                return ikev1Silence(ctx, name, timeouts)
            }
            guard configDiffers || !evidence.isEmpty else { return nil }
            let myV = mine?.ikeVersion.value
            let theirV = theirs?.ikeVersion.value ?? (myV == .v1 ? .v2 : myV == .v2 ? .v1 : nil)
            for c in [mine, theirs].compactMap({ $0 }) { evidence.append(c.ikeVersion.source ?? c.header) }
            var steps: [RemedyStep] = []
            // Prefer IKEv2 on both ends: change the IKEv1 end (in its version's words: keyexchange= on 5.x).
            if myV == .v1 {
                steps.append(ctx.changeOrAdd(.ikeVersion(.v2), on: .local, name, why: "Make this end speak IKEv2 like the peer"))
            } else if theirV == .v1 || theirs == nil {
                steps.append(ctx.changeOrAdd(.ikeVersion(.v2), on: .peer, name, why: "Make the peer speak IKEv2 like this end (Libreswan 4.x; on 5.x write keyexchange=ikev2)"))
            }
            steps.append(.config(.both, "Only if IKEv1 must stay: set ikev2=no on both ends and allow IKEv1 globally (5.x drops it by default)", file: nil, connection: "config setup", remove: [], add: ["ikev1-policy=accept"]).instead)
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
                stage: Self.stage)
        }
    }

    /// An IKEv1 initiator whose first message gets no answer at all, seen from its end only. A peer that
    /// does not take IKEv1 says nothing back (Libreswan 5 drops it by default, `ikev1-policy=drop`; builds
    /// without IKEv1, IKEv2-only connections), and a path that loses UDP 500 looks the same: the peer's log
    /// decides. The version is named first because it is the commoner cause today, and the move to IKEv2
    /// is the fix either way.
    func ikev1Silence(_ ctx: DiagnosisContext, _ name: String, _ timeouts: [IKEEvent]) -> Finding {
        let mine = ctx.connection(name)
        let peerAddr = ctx.peerAddress(name) ?? "the peer"
        let retrans = ctx.localEvents(.retransmission, name)
        var steps: [RemedyStep] = [
            .check(.peer, "Read what the peer did with the IKEv1 packet (the line decides between the version, the authby and the path)",
                   "journalctl -u ipsec --since -1h --no-pager | grep -E 'ignoring IKEv1|IKEv1 .*(drop|reject)|initial Main Mode message received|no connection has been authorized'"),
            .check(.both, "If the peer's log has nothing: watch UDP 500 on the wire on both ends while retrying", "tcpdump -ni any 'udp port 500 or udp port 4500' and host \(ctx.peerAddressArgument(name))"),
        ]
        steps.append(ctx.changeOrAdd(.ikeVersion(.v2), on: .both, name, why: "Move the tunnel to IKEv2 on both ends (Libreswan 4.x; on 5.x write keyexchange=ikev2)"))
        steps.append(.config(.peer, "Only if IKEv1 must stay: allow it on the peer (5.x drops it by default)", file: nil, connection: "config setup", remove: [], add: ["ikev1-policy=accept"]).instead)
        return Finding(
            code: Self.code, severity: .error, connection: name,
            title: "No answer to IKEv1 from \(peerAddr): the peer most likely does not accept IKEv1",
            explanation: """
                This end speaks IKEv1 and its first message to \(peerAddr) was sent\(retrans.isEmpty ? "" : " again and again") without any \
                answer, no IKE reply and no ICMP error. A peer that does not take IKEv1 answers nothing: Libreswan \
                5.x drops IKEv1 silently by default (ikev1-policy=drop), many builds have no IKEv1 at all, and a \
                peer whose connections are IKEv2-only ignores it. A firewall that drops UDP 500, or a peer that is \
                down, looks the same from here, and so does a Main Mode whose authby the peer's connection does not \
                take (it is ignored, not refused); the peer's log decides (`ignoring IKEv1 packet` for the version).
                """,
            evidence: DiagnosisContext.sample(timeouts, 1) + DiagnosisContext.sample(retrans, 1) + [mine?.header].compactMap { $0 },
            remedy: Remedy(summary: "Check the peer's log for the refused IKEv1 packet; move both ends to IKEv2.", steps: steps),
            stage: Self.stage,
            candidates: [
                Candidate(code: Self.code, decidedBy: "the peer's log says `ignoring IKEv1 packet as policy is set to silently drop` or its connection is IKEv2-only"),
                Candidate(code: AuthFailed.code, cause: "authby-mismatch", decidedBy: "the peer's log says `no connection has been authorized with authby=...`: IKEv1 Main Mode is ignored, not refused, when the authby differs"),
                Candidate(code: PeerUnreachable.code, decidedBy: "the peer's log shows nothing from this end, and tcpdump on the peer shows no UDP 500 from it"),
                Candidate(code: PeerIKENotRunning.code, decidedBy: "the peer has no pluto running (its firewall drops the ICMP port unreachable)"),
            ])
    }
}

import DoctorModel

/// `ipsec-doctor compare LEFT RIGHT`: the failure a tunnel will have, predicted from the two ends'
/// configurations before anyone runs `ipsec up`, with the codes `diagnose` gives after the negotiation.
/// The connections that will talk to each other are paired (same name, or mirrored addresses), each end's
/// connection is read into the daemon-neutral model (LibreswanAdapter), and the checks run in the order the
/// negotiation meets them: IKE version, IKE proposals, authentication method, IDs, the PSK, Child SA
/// proposals, traffic selectors, then the several-Child-SA risks. The first failing check is the verdict.
public struct ConfigComparison: Sendable {
    public struct Pair: Sendable {
        /// This end's connection name, and the peer's.
        public var local: String
        public var peer: String
        /// `ok`, or the code of the first check the pair fails.
        public var verdict: String
        public var findings: [Finding]
        public var ike: ProposalsCompared
        public var esp: ProposalsCompared
    }

    /// Both ends' proposals in algparse's notation, and what they have in common (empty: no agreement).
    public struct ProposalsCompared: Sendable, Codable {
        public var local: [String]
        public var peer: [String]
        public var common: [String]
    }

    public struct Unpaired: Sendable, Codable {
        /// `local` or `peer`: whose configuration holds it.
        public var end: String
        public var connection: String
        public var reason: String
    }

    public var pairs: [Pair] = []
    public var unpaired: [Unpaired] = []
    public var problems: [InputDiagnostic] = []

    public static func compare(_ left: EndpointSnapshot, _ right: EndpointSnapshot) -> ConfigComparison {
        var out = ConfigComparison()
        let ctx = DiagnosisContext(local: left, peer: right)
        let majors = (LibreswanAdapter.major(left.libreswanVersion), LibreswanAdapter.major(right.libreswanVersion))
        var pairedPeer: Set<String> = []
        for conn in left.config?.connections ?? [] where !conn.name.hasPrefix("%") && conn["auto"]?.value.lowercased() != "ignore" {
            guard let theirs = ctx.peerConfig(conn.name) else {
                out.unpaired.append(Unpaired(end: "local", connection: conn.name, reason: "no connection of the peer has this name or mirrors its addresses (\(conn.local("")?.value ?? "?") <-> \(conn.remote("")?.value ?? "?"))"))
                continue
            }
            pairedPeer.insert(theirs.name)
            // The peer's own end is the side that holds this end's remote address (a copied symmetric config
            // describes both gateways the same way round).
            let myLocal = conn.local("")?.value
            let theirsIsLeft =
                myLocal != nil && theirs["left"]?.value == myLocal ? false : myLocal != nil && theirs["right"]?.value == myLocal ? true : theirs.localIsLeft
            let (mine, p1) = LibreswanAdapter.effective(conn, localIsLeft: conn.localIsLeft, major: majors.0)
            let (peer, p2) = LibreswanAdapter.effective(theirs, localIsLeft: theirsIsLeft, major: majors.1)
            out.problems += p1 + p2
            out.pairs.append(pair(mine, peer, conn: conn, theirs: theirs, ctx: ctx))
        }
        for conn in right.config?.connections ?? [] where !conn.name.hasPrefix("%") && !pairedPeer.contains(conn.name) && conn["auto"]?.value.lowercased() != "ignore" {
            out.unpaired.append(Unpaired(end: "peer", connection: conn.name, reason: "no connection of this end pairs with it"))
        }
        return out
    }

    static func pair(_ a: EffectiveConnection, _ b: EffectiveConnection, conn: ConnectionConfig, theirs: ConnectionConfig, ctx: DiagnosisContext) -> Pair {
        let name = a.name
        let cli = IpsecCLI(version: ctx.local.libreswanVersion)
        var findings: [Finding] = []
        func finding(_ code: FindingCode, _ severity: Severity, _ title: String, _ why: String, _ evidence: [SourceLine?], _ steps: [RemedyStep], cause: String? = nil) {
            findings.append(Finding(
                code: code, severity: severity, connection: name, title: title, explanation: why,
                evidence: evidence.compactMap { $0 } + (evidence.allSatisfy { $0 == nil } ? [a.header, b.header] : []),
                remedy: Remedy(summary: steps.first?.summary ?? "", steps: steps + [cli.restart(name, end: .both)]), stage: RuleCatalog.stage[code] ?? .down, cause: cause))
        }
        let ikeCommon = commonProposals(a.ike.value, b.ike.value, dh: true)
        let espCommon = commonProposals(a.esp.value, b.esp.value, dh: false)

        // 1. IKE version. The IKEv1-only end moves to IKEv2 (Libreswan 5 replaced ikev2= with keyexchange=).
        let v1Version = a.ikeVersion.value == .v1 ? ctx.local.libreswanVersion : ctx.peer?.libreswanVersion
        let v2Key = LibreswanAdapter.major(v1Version) >= 5 ? (key: "keyexchange", value: "ikev2") : (key: "ikev2", value: "insist")
        if a.ikeVersion.value != b.ikeVersion.value {
            finding(.ikeVersionMismatch, .error, "One end speaks only \(a.ikeVersion.value.rawValue), the other only \(b.ikeVersion.value.rawValue)",
                    "This end's connection uses \(a.ikeVersion.value.rawValue)\(a.ikeVersion.source == nil ? " (the default)" : ""), the peer's \(b.ikeVersion.value.rawValue)\(b.ikeVersion.source == nil ? " (the default)" : ""): the initiator's first message is of a version the responder does not answer for this connection.",
                    [a.ikeVersion.source, b.ikeVersion.source],
                    [RemedyBuilder.setKey(v2Key.key, to: v2Key.value, in: a.ikeVersion.value == .v1 ? conn : theirs, connectionName: a.ikeVersion.value == .v1 ? name : theirs.name, end: a.ikeVersion.value == .v1 ? .local : .peer,
                                          why: "Use IKEv2 on the end that is IKEv1-only (or set both ends to the same version)")])
        } else if !a.ike.value.isEmpty, !b.ike.value.isEmpty, ikeCommon.isEmpty {
            // 2. IKE SA proposals.
            let value = Proposals.common(local: conn["ike"]?.value, peer: theirs["ike"]?.value, phase1: true)
            finding(.ikeProposalMismatch, .error, "The IKE SA proposals have nothing in common",
                    "This end offers \(list(a.ike)), the peer \(list(b.ike)): no proposal of one matches one of the other in every transform (encryption, PRF, DH group), so the responder answers NO_PROPOSAL_CHOSEN\(a.ikeVersion.value == .v1 ? " (IKEv1: no acceptable Oakley Transform)" : "").",
                    [a.ike.source, b.ike.source],
                    [RemedyBuilder.setKey("ike", to: value, in: conn, connectionName: name, end: .local, why: "Give both ends one IKE proposal"),
                     RemedyBuilder.setKey("ike", to: value, in: theirs, connectionName: theirs.name, end: .peer, why: "The same on the peer")])
        }
        // 3. Authentication method, 4. IDs, 5. the PSK.
        if a.local.auth.value != b.remote.auth.value || b.local.auth.value != a.remote.auth.value {
            let cause = "authby-mismatch"
            finding(.authFailed, .error, "The two ends authenticate differently (\(a.local.auth.value.rawValue) here, \(b.local.auth.value.rawValue) on the peer)",
                    "This end authenticates with \(a.local.auth.value.rawValue) and expects the peer to use \(a.remote.auth.value.rawValue); the peer authenticates with \(b.local.auth.value.rawValue). The responder refuses the method it does not expect (`peer attempted PSK authentication but we want RSASIG` and the like): AUTHENTICATION_FAILED.",
                    [a.local.auth.source, b.local.auth.source],
                    [RemedyBuilder.setKey("authby", to: conn.authby, in: theirs, connectionName: theirs.name, end: .peer, why: "Use the same authby= on both ends")], cause: cause)
        } else {
            for (expecting, sending, end, cfg) in [(a, b, End.local, conn), (b, a, End.peer, theirs)] {
                guard let want = expecting.remote.id?.value, let sent = sending.local.id?.value, !["%any", "%fromcert"].contains(want), want != sent else { continue }
                finding(.idMismatch, .error, "\(end == .local ? "This end" : "The peer") expects the ID \(want), the other end sends \(sent)",
                        "The connection expects the other end to identify as \(want); that end's configuration makes it send \(sent) (its \(sending.local.id?.source == sending.local.address?.source ? "address, as it sets no id=" : "id=")). The responder finds no connection for the ID it receives (`no suitable connection` / `Peer ID ... mismatched`).",
                        [expecting.remote.id?.source, sending.local.id?.source],
                        [RemedyBuilder.setKey(cfg.remoteKey("id"), to: sent, in: cfg, connectionName: cfg.name, end: end, why: "Expect the ID the other end sends")]
                            + RemedyBuilder.rekeyedSecret(end == .local ? ctx.localPSKs : ctx.peerPSKs, cfg, from: want, to: sent, end: end))
            }
            if findings.isEmpty, a.local.auth.value == .psk {
                let mine = ctx.localPSKs.entry(for: conn), peers = ctx.peerPSKs.entry(for: theirs)
                if let m = mine, let p = peers, let x = m.fingerprint, let y = p.fingerprint, x != y {
                    finding(.pskMismatch, .error, "The pre-shared keys of the two ends differ",
                            "Both ends authenticate with a PSK, and their ipsec.secrets entries for this pair of IDs hold different secrets (compared by fingerprint; neither is shown). The responder's check of the initiator's authentication fails: \(a.ikeVersion.value == .v1 ? "IKEv1 `probable authentication failure (mismatch of preshared secrets?)`, the initiator times out in Main Mode" : "`computed hash does not match`, AUTHENTICATION_FAILED").",
                            [m.source, p.source],
                            [.config(.both, "Use one secret for this pair of IDs in ipsec.secrets on both ends", file: m.source.file, connection: nil,
                                     remove: [m.source.text.trimmingCharacters(in: .whitespaces)], add: [m.source.text.replacingOccurrences(of: "<redacted>", with: "<the same secret on both ends>").trimmingCharacters(in: .whitespaces)]),
                             .command(.both, "Reload the secrets", cli.rereadSecrets)])
                } else if mine == nil || peers == nil, !(ctx.local.secrets ?? []).isEmpty || !(ctx.peer?.secrets ?? []).isEmpty {
                    finding(.authFailed, .error, "\(mine == nil ? "This end" : "The peer") has no PSK for this pair of IDs",
                            "The connection uses authby=secret, but \(mine == nil ? "this end's" : "the peer's") ipsec.secrets has no entry matching \(a.local.id?.value ?? "?") and \(a.remote.id?.value ?? "?"): pluto reports `no PSK found` and fails the exchange.",
                            [mine?.source ?? conn.header, peers?.source ?? theirs.header],
                            [.check(mine == nil ? .local : .peer, "Add an ipsec.secrets entry for both IDs, with the same secret as the other end")], cause: "no-psk")
                }
            }
        }
        // 6. Child SA proposals.
        if findings.isEmpty, !a.esp.value.isEmpty, !b.esp.value.isEmpty, espCommon.isEmpty {
            let key = conn["esp"] != nil || theirs["esp"] != nil ? "esp" : "phase2alg"
            let value = Proposals.common(local: (conn["esp"] ?? conn["phase2alg"])?.value, peer: (theirs["esp"] ?? theirs["phase2alg"])?.value, phase1: false)
            finding(.espProposalMismatch, .error, "The Child SA (ESP) proposals have nothing in common",
                    "This end offers \(list(a.esp)), the peer \(list(b.esp)): no encryption and integrity pair is in both, so the Child SA fails with NO_PROPOSAL_CHOSEN\(a.ikeVersion.value == .v1 ? " (IKEv1 Quick Mode)" : " in IKE_AUTH") while the IKE SA comes up.",
                    [a.esp.source, b.esp.source],
                    [RemedyBuilder.setKey(key, to: value, in: conn, connectionName: name, end: .local, why: "Give both ends one ESP proposal"),
                     RemedyBuilder.setKey(key, to: value, in: theirs, connectionName: theirs.name, end: .peer, why: "The same on the peer")])
        }
        // 7. Traffic selectors: each end's subnets are the other's remote subnets.
        if findings.isEmpty {
            let here = Set(a.local.subnets.value.map(\.network)), there = Set(b.remote.subnets.value.map(\.network))
            let theirs_ = Set(b.local.subnets.value.map(\.network)), mineRemote = Set(a.remote.subnets.value.map(\.network))
            // The end that describes the other's subnets changes: each end knows its own.
            let checks: [(own: Set<IPPrefix>, seen: Set<IPPrefix>, ownSource: SourceLine?, seenSource: SourceLine?, what: String, fixing: ConnectionConfig, end: End)] = [
                (here, there, a.local.subnets.source, b.remote.subnets.source, "this end's", theirs, .peer),
                (theirs_, mineRemote, b.local.subnets.source, a.remote.subnets.source, "the peer's", conn, .local),
            ]
            for c in checks where c.own != c.seen {
                let fmt = { (s: Set<IPPrefix>) in s.map(\.description).sorted().joined(separator: ", ") }
                let own = c.own.map(\.description).sorted()
                let key = c.fixing.remoteKey(own.count > 1 ? "subnets" : "subnet")
                let value = own.count > 1 ? "{\(own.joined(separator: ","))}" : own.first ?? ""
                finding(.tsMismatch, .error, "The subnets do not mirror: \(c.what) subnets are \(fmt(c.own)) in its own configuration, \(fmt(c.seen)) in the other's",
                        "One end's leftsubnet(s) must be the other's rightsubnet(s). \(c.what.prefix(1).uppercased() + c.what.dropFirst()) own configuration puts \(fmt(c.own)) behind it; the other end's expects \(fmt(c.seen)). The responder finds no connection for the proposed traffic selectors (IKEv2 TS_UNACCEPTABLE, IKEv1 INVALID_ID_INFORMATION).",
                        [c.ownSource, c.seenSource],
                        [.config(c.end, "Expect the subnets the other end puts behind itself", file: c.seenSource?.file ?? c.fixing.header.file, connection: c.fixing.name,
                                 remove: c.seenSource.map { [$0.text.trimmingCharacters(in: .whitespaces)] } ?? [], add: ["\(key)=\(value)"])])
                break
            }
        }
        // 8. Several Child SAs to one peer: with a fixed reqid they share it (the newest carries everything);
        // without, the field report's template mismatch is a risk to watch.
        if findings.isEmpty, max(a.childSAs, b.childSAs) > 1 {
            if let fixed = a.reqid ?? b.reqid {
                finding(.sharedReqid, .error, "A fixed reqid= with \(max(a.childSAs, b.childSAs)) Child SAs: they all share reqid \(fixed.value)",
                        "Each subnet pair gets its own Child SA, but reqid= gives them one reqid: the kernel templates match only the newest SA, and the peer drops the other pairs' traffic (XfrmInTmplMismatch).",
                        [fixed.source, a.local.subnets.source ?? a.remote.subnets.source],
                        // Off on every end that fixes it: one end's reqid alone still ties its Child SAs together.
                        [(a.reqid, End.local, name), (b.reqid, End.peer, theirs.name)].compactMap { r, end, conn in
                            r?.source.map { s in RemedyStep.config(end, "Remove the fixed reqid", file: s.file, connection: conn, remove: [s.text.trimmingCharacters(in: .whitespaces)], add: []) }
                        })
            } else {
                finding(.multiSubnetTmplMismatch, .warning, "\(max(a.childSAs, b.childSAs)) Child SAs to one peer: replies can arrive on another pair's SA",
                        "leftsubnets=/rightsubnets= make one Child SA per subnet pair, each with its own reqid and SPD templates. When the two ends' pairs are set up differently (a pair missing on one end, an SA renegotiated on one side), replies arrive on an SA whose template does not match and the kernel drops them (XfrmInTmplMismatch rising). One Child SA with a covering subnet avoids it.",
                        [a.local.subnets.source, a.remote.subnets.source, b.local.subnets.source, b.remote.subnets.source],
                        [])
            }
        }
        return Pair(
            local: name, peer: b.name, verdict: findings.first?.code.rawValue ?? "ok", findings: findings,
            ike: ProposalsCompared(local: a.ike.value.map(\.description), peer: b.ike.value.map(\.description), common: ikeCommon.map(\.description)),
            esp: ProposalsCompared(local: a.esp.value.map(\.description), peer: b.esp.value.map(\.description), common: espCommon.map(\.description)))
    }

    /// The PSK entry keyed by the ID a fix replaces, keyed by the new one (the secret stays as it is).
    /// Every agreement of a proposal of one end with one of the other (DH checked for IKE only: the first
    /// Child SA has no key exchange of its own).
    static func commonProposals(_ a: [Proposal], _ b: [Proposal], dh: Bool) -> [Proposal] {
        var out: [Proposal] = []
        for x in a { for y in b { if let c = x.common(with: y, checkDH: dh), !out.contains(c) { out.append(c) } } }
        return out
    }

    static func list(_ p: Sourced<[Proposal]>) -> String {
        (p.source == nil ? "the defaults " : "") + p.value.map(\.description).joined(separator: ", ")
    }
}

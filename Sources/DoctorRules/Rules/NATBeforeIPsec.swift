import DoctorModel

/// A NAT rule in nat POSTROUTING rewrites subnet-to-subnet traffic before IPsec sees it.
struct NATBeforeIPsec: Rule {
    static let code: FindingCode = .natBeforeIPsec
    static let stage: Stage = .natBeforeIPsec
    static let needs: [InputNeed] = [.natRules, .config]
    static let summary = "A masquerade/SNAT rule in nat POSTROUTING rewrites subnet-to-subnet traffic, with no exemption ahead of it."
    static let examples: [RuleExample] = [
        .triggering("nat-before-ipsec", cites: "MASQUERADE"),
        .triggering("nat-before-ipsec-nft", cites: "masquerade"),
        .nonTriggering("healthy"),
        .nonTriggering("ikev2-psk-mismatch"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let rules = ctx.local.natRules, !rules.isEmpty else { return [] }
        let chains = Dictionary(grouping: rules) { "\($0.backend) \($0.family ?? "") \($0.table ?? "") \($0.chain)" }
        return ctx.connectionNames.compactMap { name in
            guard let conn = ctx.connection(name), let geo = ctx.geometry(name), conn.local.subnetsConfigured else { return nil }
            let egress = egressInterface(to: geo.remoteAddress, ctx)
            for (_, chainRules) in chains.sorted(by: { $0.key < $1.key }) {
                for (l, r) in geo.pairs {
                    let ordered = chainRules.sorted { $0.position < $1.position }
                    guard let hit = ordered.first(where: { applies($0, l, r, egress) }) else { continue }
                    guard hit.action == .masquerade || hit.action == .snat, !hit.matchesIPsecPolicy, !hit.excludesIPsecPolicy else { continue }
                    return finding(name, conn, hit, l, r, ctx)
                }
            }
            return nil
        }
    }

    func applies(_ rule: NatRule, _ l: IPPrefix, _ r: IPPrefix, _ egress: String?) -> Bool {
        if let oif = rule.outInterface, let egress, oif != egress, !oif.hasSuffix("*") && !oif.hasSuffix("+") { return false }
        return rule.matches(src: l, dst: r)
    }

    /// The interface that carries traffic to the peer gateway (from ip route / ip addr).
    func egressInterface(to peer: String?, _ ctx: DiagnosisContext) -> String? {
        guard let peer, let p = IPPrefix(peer) else { return nil }
        if let routes = ctx.local.routes {
            let best = routes.compactMap { r -> (Int, String)? in
                guard let dev = r.device else { return nil }
                if r.destination == "default" { return (0, dev) }
                guard let pre = IPPrefix(r.destination), pre.contains(p) else { return nil }
                return (pre.length, dev)
            }.max { $0.0 < $1.0 }
            if let best { return best.1 }
        }
        return ctx.local.interfaces?.first { $0.addresses.contains { $0.contains(p) } }?.name
    }

    func finding(_ name: String, _ conn: EffectiveConnection, _ rule: NatRule, _ l: IPPrefix, _ r: IPPrefix, _ ctx: DiagnosisContext) -> Finding {
        let command: String
        let persistent: String
        let whereTo: String
        // The persistent line is exactly what the loader accepts (no trailing comment: iptables-restore rejects
        // one); where it goes and which file the distribution loads is said in the step's summary.
        if rule.backend == "nft" {
            let fam = rule.family ?? "ip"
            let table = rule.table ?? "nat"
            let match = !l.isIPv4 ? "ip6 saddr \(l) ip6 daddr \(r)" : "ip saddr \(l) ip daddr \(r)"
            command = "nft insert rule \(fam) \(table) \(rule.chain) \(match) return"
            persistent = "\(match) return"
            whereTo = """
                Make it persistent: write this line as the first rule of chain \(rule.chain) in table \(fam) \(table) of \
                the ruleset loaded at boot (/etc/nftables.conf on Debian and Ubuntu, /etc/sysconfig/nftables.conf on \
                RHEL; `systemctl cat nftables` shows which file)
                """
        } else {
            let tool = !l.isIPv4 ? "ip6tables" : "iptables"
            command = "\(tool) -t nat -I POSTROUTING 1 -s \(l) -d \(r) -j RETURN"
            persistent = "-A POSTROUTING -s \(l) -d \(r) -j RETURN"
            whereTo = """
                Make it persistent: in the *nat section of the rules \(tool)-restore loads at boot, put this line before \
                the MASQUERADE/SNAT line (/etc/iptables/rules.\(!l.isIPv4 ? "v6" : "v4") with Debian's \
                iptables-persistent, /etc/sysconfig/\(tool) on RHEL; `systemctl cat netfilter-persistent \(tool)` \
                shows which), or save the running rules after the insert (`\(tool)-save`, into that file)
                """
        }
        var evidence = [rule.source]
        evidence += [conn.local, conn.remote].filter(\.subnetsConfigured).compactMap(\.subnets.source)
        if let c = ctx.local.xfrmStat?.counter("XfrmOutNoStates"), c.last > 0 { evidence += c.lines }
        if let ts = ctx.local.trafficStatus?.first(where: { $0.connection == name }) { evidence.append(ts.source) }
        return Finding(
            code: Self.code, severity: .error, connection: name,
            title: "NAT rewrites \(l) -> \(r) before IPsec: the traffic no longer matches the tunnel's policy",
            explanation: """
                The \(rule.backend) rule `\(rule.source.text.trimmingCharacters(in: .whitespaces))` in nat POSTROUTING \
                matches packets from \(l) to \(r) and rewrites their source address. NAT runs before the IPsec \
                policy lookup is repeated for the rewritten packet, so its new source no longer matches the \
                policy \(l) -> \(r): it leaves unencrypted or is dropped. No rule ahead of it exempts the \
                tunnel's subnets (`return`/`accept`, or an IPsec policy match).
                """,
            evidence: evidence,
            remedy: Remedy(summary: "Exempt subnet-to-subnet traffic from NAT with a rule placed before the NAT rule.", steps: [
                .command(.local, "Insert the exemption at the start of the chain", command),
                .config(.local, whereTo, file: nil, connection: nil, remove: [], add: [persistent]),
                .check(.local, "Verify the counters/bytes of the tunnel now grow", "ipsec trafficstatus"),
            ]),
            stage: Self.stage)
    }
}

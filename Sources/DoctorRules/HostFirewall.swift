import DoctorModel

/// The firewall one end's capture shows, so that a remedy's rule is written for it: into an nft chain that
/// exists, as iptables when the host uses iptables, and as both (saying so) only when the capture does not
/// tell. A rule for a table the host does not have fails when pasted.
struct HostFirewall {
    enum Kind: Equatable {
        /// nftables; the input chain (`inet filter input`) when the ruleset has one.
        case nft(inputChain: String?)
        case iptables
        /// Neither ruleset was captured.
        case unknown
    }

    let kind: Kind

    init(_ side: EndpointSnapshot?) {
        guard let side else {
            kind = .unknown
            return
        }
        let captured = Set(side.inputs.values)
        let rules = side.filterRules ?? [], policies = side.filterPolicies ?? [], nat = side.natRules ?? []
        let nftChain = rules.first { $0.backend == "nft" }?.chain ?? policies.first { $0.backend == "nft" }?.chain
        let usesIptables = rules.contains { $0.backend == "iptables" } || policies.contains { $0.backend == "iptables" }
            || nat.contains { $0.backend == "iptables" }
        let usesNft = nftChain != nil || nat.contains { $0.backend == "nft" }
        if usesNft && !usesIptables {
            kind = .nft(inputChain: nftChain)
        } else if usesIptables {
            kind = .iptables
        } else if captured.contains(.nftRuleset) || captured.contains(.nftJSON) {
            kind = .nft(inputChain: nil)
        } else if captured.contains(.iptablesSave) {
            kind = .iptables
        } else {
            kind = .unknown
        }
    }

    /// Steps that accept IKE, NAT-T and ESP from `from` on `end`.
    func acceptIKE(_ end: End, from: String) -> [RemedyStep] {
        let ipt = RemedyStep.command(end, "Accept IKE, NAT-T and ESP from \(from) first in INPUT (iptables)",
                                     "iptables -I INPUT 1 -s \(from) -p esp -j ACCEPT; iptables -I INPUT 1 -s \(from) -p udp -m multiport --dports 500,4500 -j ACCEPT")
        switch kind {
        case .nft(let chain?):
            return [.command(end, "Accept IKE, NAT-T and ESP from \(from) at the top of nft chain \(chain)",
                             "nft insert rule \(chain) ip saddr \(from) udp dport { 500, 4500 } accept; nft insert rule \(chain) ip saddr \(from) meta l4proto esp accept")]
        case .nft(nil):
            // No input chain in the ruleset: nothing there filters input, so there is no rule to add.
            return [.check(end, "The captured nftables ruleset has no input chain; if another firewall (firewalld, a cloud security group) filters, accept UDP 500/4500 and ESP from \(from) there",
                           "nft list ruleset | grep -E 'hook input'; firewall-cmd --state 2>/dev/null")]
        case .iptables:
            return [ipt]
        case .unknown:
            return [.command(end, "Accept IKE, NAT-T and ESP from \(from) (nftables; no ruleset was captured for this end: use the chain `nft list ruleset` shows with `hook input`)",
                             "nft insert rule inet filter input ip saddr \(from) udp dport { 500, 4500 } accept; nft insert rule inet filter input ip saddr \(from) meta l4proto esp accept"),
                    .command(end, "or, on an iptables host", ipt.command ?? "")]
        }
    }

    /// Steps that clamp TCP MSS to `mss` for `l` -> `r` on `end`.
    func clampMSS(_ end: End, from l: String, to r: String, mss: Int, ipv6: Bool) -> [RemedyStep] {
        let fam = ipv6 ? "ip6" : "ip"
        // A table of its own: works whatever tables the host has, and is removed with one command.
        let nft = RemedyStep.command(end, "Clamp TCP MSS for the tunnel's traffic (nftables, in a table of its own: `nft delete table inet ipsec_mss` undoes it)",
                                     "nft add table inet ipsec_mss; nft add chain inet ipsec_mss forward '{ type filter hook forward priority mangle; }'; nft add rule inet ipsec_mss forward \(fam) saddr \(l) \(fam) daddr \(r) tcp flags syn tcp option maxseg size set \(mss)")
        let tool = ipv6 ? "ip6tables" : "iptables"
        let ipt = RemedyStep.command(end, "Clamp TCP MSS for the tunnel's traffic (\(tool))",
                                     "\(tool) -t mangle -A FORWARD -s \(l) -d \(r) -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss \(mss)")
        switch kind {
        case .nft: return [nft]
        case .iptables: return [ipt]
        case .unknown:
            var other = ipt
            other.summary = "or, on an iptables host (\(tool))"
            return [nft, other]
        }
    }
}

import DoctorModel
import Foundation

/// Reads the host firewall's input chains for what decides whether IKE and ESP get in.
///
/// iptables-save (a real lab capture):
///
///     *filter
///     :INPUT ACCEPT [0:0]
///     -A INPUT -p udp -m udp --dport 500 -j DROP
///     -A INPUT -p esp -j DROP
///
/// nft list ruleset:
///
///     table inet filter {
///         chain input {
///             type filter hook input priority filter; policy accept;
///             udp dport { 500, 4500 } drop
///         }
///     }
public enum FilterRuleParser {
    /// Matches that make a rule apply only sometimes; such rules are not taken as "blocks IKE".
    static let conditionalTokens: Set<String> = [
        "-m", "--length", "--state", "--ctstate", "-i", "--in-interface", "length", "ct", "limit", "meter", "iifname",
        "iif", "--limit", "recent", "--seconds", "--hitcount",
    ]

    public static func parseIptablesSave(_ document: RawDocument) -> ([FilterRule], [FilterPolicy]) {
        let (saved, chainPolicies, _) = IptablesSaveText.read(document)
        let policies = chainPolicies.filter { $0.table == "filter" && $0.chain == "INPUT" }
            .map { FilterPolicy(backend: "iptables", chain: "INPUT", action: action($0.policy), source: $0.source) }
        let rules = saved.filter { $0.table == "filter" && $0.chain == "INPUT" }.map { rule -> FilterRule in
            let w = rule.words
            var proto: String?, ports: [Int] = [], saddr: IPPrefix?, target = "", conditional = false
            var i = 0
            while i < w.count {
                let next = i + 1 < w.count ? w[i + 1] : ""
                switch w[i] {
                case "-p", "--protocol": proto = next.lowercased(); i += 1
                case "--dport", "--dports", "--destination-port":
                    ports = next.split(separator: ",").compactMap { Int($0) }; i += 1
                case "-s", "--source": saddr = IPPrefix(next); i += 1
                case "-j": target = next; i += 1
                case "-m" where next == "udp" || next == "multiport" || next == "esp": i += 1  // protocol modules, not conditions
                case "!": conditional = true
                default:
                    if conditionalTokens.contains(w[i]) { conditional = true }
                }
                i += 1
            }
            return FilterRule(backend: "iptables", chain: "INPUT", position: rule.position, proto: proto == "50" ? "esp" : proto,
                              dports: ports, saddr: saddr, conditional: conditional, action: action(target), source: rule.source)
        }
        return (rules, policies)
    }

    public static func parseNft(_ document: RawDocument) -> ([FilterRule], [FilterPolicy]) {
        let (chains, _) = NftText.read(document)
        var rules: [FilterRule] = []
        var policies: [FilterPolicy] = []
        for c in chains where c.hooks("filter", "input") {
            // Kept as "family table chain": exactly what `nft insert rule` needs.
            let chain = "\(c.family) \(c.table) \(c.name)"
            if let p = c.policy, let src = c.typeSource { policies.append(FilterPolicy(backend: "nft", chain: chain, action: action(p), source: src)) }
            for (pos, (n, raw)) in c.rules.enumerated() {
                let t = raw.trimmingCharacters(in: .whitespaces)
                let w = t.split(separator: " ").map(String.init)
                var proto: String?, ports: [Int] = []
                if let i = w.firstIndex(where: { $0 == "udp" || $0 == "tcp" }), i + 2 < w.count, w[i + 1] == "dport" {
                    proto = w[i]
                    if w[i + 2] == "{" {
                        var j = i + 3
                        while j < w.count, w[j] != "}" { if let p = Int(w[j].trimmingCharacters(in: CharacterSet(charactersIn: ","))) { ports.append(p) }; j += 1 }
                    } else if let p = Int(w[i + 2]) {
                        ports = [p]
                    }
                } else if t.contains("l4proto esp") || t.contains("ip protocol esp") || t.contains("l4proto 50") {
                    proto = "esp"
                } else if w.contains("udp") || w.contains("tcp") {
                    proto = w.contains("udp") ? "udp" : "tcp"
                }
                let saddr = w.firstIndex(of: "saddr").flatMap { $0 + 1 < w.count ? IPPrefix(w[$0 + 1]) : nil }
                let conditional = w.contains { conditionalTokens.contains($0) } || t.contains("!=")
                rules.append(FilterRule(backend: "nft", chain: chain, position: pos, proto: proto, dports: ports, saddr: saddr,
                                        conditional: conditional, action: action(w.last ?? ""), source: SourceLine(file: document.name, line: n, text: raw)))
            }
        }
        return (rules, policies)
    }

    static func action(_ s: String) -> FilterRule.Action {
        switch s.uppercased() {
        case "ACCEPT": .accept
        case "DROP": .drop
        case "REJECT": .reject
        default: .other
        }
    }
}

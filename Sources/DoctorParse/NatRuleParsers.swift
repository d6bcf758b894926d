import DoctorModel
import Foundation

/// Parses `nft list ruleset` (text) for the rules of nat chains hooked at postrouting.
///
///     table ip nat {
///         chain postrouting {
///             type nat hook postrouting priority srcnat; policy accept;
///             ip saddr 10.1.0.0/24 ip daddr 10.2.0.0/24 return
///             oifname "vw" masquerade
///         }
///     }
public enum NftRulesetParser {
    public static func parse(_ document: RawDocument) -> ([NatRule], [InputDiagnostic]) {
        let (chains, unreadable) = NftText.read(document)
        if let unreadable { return ([], [unreadable]) }
        var rules: [NatRule] = []
        for chain in chains where chain.hooks("nat", "postrouting") {
            var pos = 0
            for (n, line) in chain.rules {
                let parsed = parseRule(line, file: document.name, line: n, family: chain.family, table: chain.table, chain: chain.name, position: pos)
                rules += parsed
                if !parsed.isEmpty { pos += 1 }
            }
        }
        return (rules, [])
    }

    static func parseRule(_ raw: String, file: String, line: Int, family: String?, table: String?, chain: String, position: Int) -> [NatRule] {
        var t = raw.trimmingCharacters(in: .whitespaces)
        if let c = t.range(of: " # handle") { t = String(t[..<c.lowerBound]) }
        let w = t.split(separator: " ").map(String.init)
        func prefixes(after key: [String]) -> ([IPPrefix], Bool) {
            guard let i = indexOf(key, in: w) else { return ([], false) }
            var j = i + key.count
            var neg = false
            if j < w.count, w[j] == "!=" { neg = true; j += 1 }
            guard j < w.count else { return ([], neg) }
            if w[j] == "{" {
                var out: [IPPrefix] = []
                j += 1
                while j < w.count, w[j] != "}" {
                    if let p = IPPrefix(w[j].trimmingCharacters(in: CharacterSet(charactersIn: ","))) { out.append(p) }
                    j += 1
                }
                return (out, neg)
            }
            return (IPPrefix(w[j]).map { [$0] } ?? [], neg)
        }
        let (saddrs, sneg) = prefixes(after: ["ip", "saddr"])
        let (daddrs, dneg) = prefixes(after: ["ip", "daddr"])
        let oif = indexOf(["oifname"], in: w).flatMap { $0 + 1 < w.count ? w[$0 + 1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : nil }
        let ipsec = t.contains("ipsec out") || t.contains("ipsec exists") || t.contains("meta secpath exists") || t.contains("rt ipsec")
        let noIpsec = t.contains("ipsec missing") || t.contains("secpath missing")
        let action: NatRule.Action
        if w.contains("masquerade") { action = .masquerade }
        else if w.contains("snat") { action = .snat }
        else if w.last == "accept" { action = .accept }
        else if w.last == "return" { action = .return }
        else { action = .other }
        let source = SourceLine(file: file, line: line, text: raw)
        var out: [NatRule] = []
        for s in saddrs.isEmpty ? [nil] : saddrs.map({ Optional($0) }) {
            for d in daddrs.isEmpty ? [nil] : daddrs.map({ Optional($0) }) {
                out.append(NatRule(
                    backend: "nft", chain: chain, position: position, saddr: s, daddr: d, saddrNegated: sneg,
                    daddrNegated: dneg, outInterface: oif, matchesIPsecPolicy: ipsec, excludesIPsecPolicy: noIpsec,
                    action: action, family: family, table: table, source: source))
            }
        }
        return out
    }

    static func indexOf(_ seq: [String], in w: [String]) -> Int? {
        guard w.count >= seq.count else { return nil }
        for i in 0...(w.count - seq.count) where Array(w[i..<(i + seq.count)]) == seq { return i }
        return nil
    }
}

/// Parses `nft -j list ruleset` (JSON) for nat postrouting rules.
public enum NftJSONParser {
    public static func parse(_ document: RawDocument) -> ([NatRule], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        let text = lines.map(\.1).joined(separator: "\n")
        guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let items = obj["nftables"] as? [[String: Any]]
        else {
            return ([], [InputDiagnostic(file: document.name, line: 1, message: "not valid nft JSON (expected {\"nftables\": [...]})")])
        }
        var natChains: Set<String> = []
        for item in items {
            if let c = item["chain"] as? [String: Any], c["type"] as? String == "nat", c["hook"] as? String == "postrouting" {
                natChains.insert("\(c["family"] ?? "")/\(c["table"] ?? "")/\(c["name"] ?? "")")
            }
        }
        var out: [NatRule] = []
        var positions: [String: Int] = [:]
        for item in items {
            guard let r = item["rule"] as? [String: Any] else { continue }
            let key = "\(r["family"] ?? "")/\(r["table"] ?? "")/\(r["chain"] ?? "")"
            guard natChains.contains(key), let exprs = r["expr"] as? [[String: Any]] else { continue }
            var saddr: IPPrefix?, daddr: IPPrefix?, sneg = false, dneg = false, oif: String?, ipsec = false
            var action: NatRule.Action = .other
            for e in exprs {
                if let m = e["match"] as? [String: Any] {
                    let op = m["op"] as? String ?? "=="
                    let left = m["left"] as? [String: Any]
                    if let p = left?["payload"] as? [String: Any], let field = p["field"] as? String {
                        let prefix = Self.prefix(m["right"])
                        if field == "saddr" { saddr = prefix; sneg = op == "!=" }
                        if field == "daddr" { daddr = prefix; dneg = op == "!=" }
                    }
                    if let meta = left?["meta"] as? [String: Any], meta["key"] as? String == "oifname" { oif = m["right"] as? String }
                    if left?["ipsec"] != nil || (left?["meta"] as? [String: Any])?["key"] as? String == "secpath" { ipsec = true }
                }
                if e["masquerade"] != nil { action = .masquerade }
                if e["snat"] != nil { action = .snat }
                if e["accept"] != nil { action = .accept }
                if e["return"] != nil { action = .return }
            }
            let pos = positions[key, default: 0]
            positions[key] = pos + 1
            let line = Self.lineNumber(ofHandle: r["handle"] as? Int, in: lines) ?? 1
            out.append(NatRule(
                backend: "nft", chain: r["chain"] as? String ?? "?", position: pos, saddr: saddr, daddr: daddr,
                saddrNegated: sneg, daddrNegated: dneg, outInterface: oif, matchesIPsecPolicy: ipsec,
                excludesIPsecPolicy: false, action: action, family: r["family"] as? String, table: r["table"] as? String,
                source: SourceLine(file: document.name, line: line, text: "(nft JSON: rule handle \(r["handle"] ?? "?") in chain \(key): \(Self.describe(exprs)))")))
        }
        return (out, [])
    }

    /// A short nft-like rendering of a rule's expressions, for evidence.
    static func describe(_ exprs: [[String: Any]]) -> String {
        exprs.map { e in
            if let m = e["match"] as? [String: Any] {
                let left = (m["left"] as? [String: Any]).map { l -> String in
                    if let p = l["payload"] as? [String: Any] { return "\(p["protocol"] ?? "") \(p["field"] ?? "")" }
                    if let meta = l["meta"] as? [String: Any] { return "\(meta["key"] ?? "")" }
                    return l.keys.sorted().joined(separator: " ")
                } ?? "?"
                let right = prefix(m["right"])?.description ?? (m["right"] as? String).map { "\"\($0)\"" } ?? "..."
                return (m["op"] as? String ?? "==") == "==" ? "\(left) \(right)" : "\(left) \(m["op"] ?? "") \(right)"
            }
            return e.keys.sorted().joined(separator: " ")
        }.joined(separator: " ")
    }

    static func prefix(_ right: Any?) -> IPPrefix? {
        if let s = right as? String { return IPPrefix(s) }
        if let d = right as? [String: Any], let p = d["prefix"] as? [String: Any], let a = p["addr"] as? String, let l = p["len"] as? Int {
            return IPPrefix("\(a)/\(l)")
        }
        return nil
    }

    static func lineNumber(ofHandle h: Int?, in lines: [(Int, String)]) -> Int? {
        guard let h else { return nil }
        return lines.first { $0.1.contains("\"handle\": \(h)") || $0.1.contains("\"handle\":\(h)") }?.0
    }
}

/// Parses `iptables-save` for the nat table's POSTROUTING chain.
///
///     *nat
///     :POSTROUTING ACCEPT [0:0]
///     -A POSTROUTING -s 10.1.0.0/24 -d 10.2.0.0/24 -m policy --dir out --pol ipsec -j ACCEPT
///     -A POSTROUTING -o vw -j MASQUERADE
///     COMMIT
public enum IptablesSaveParser {
    public static func parse(_ document: RawDocument) -> ([NatRule], [InputDiagnostic]) {
        let (saved, _, unreadable) = IptablesSaveText.read(document)
        if let unreadable { return ([], [unreadable]) }
        var out: [NatRule] = []
        for rule in saved where rule.table == "nat" && rule.chain == "POSTROUTING" {
            let w = rule.words
            var saddr: IPPrefix?, daddr: IPPrefix?, sneg = false, dneg = false, oif: String?
            var i = 0
            var negateNext = false
            var polIPsec = false, polNone = false, dirOut = false
            var target = ""
            while i < w.count {
                let tok = w[i]
                let next = i + 1 < w.count ? w[i + 1] : ""
                switch tok {
                case "!": negateNext = true; i += 1; continue
                case "-s", "--source": saddr = IPPrefix(next); sneg = negateNext; i += 1
                case "-d", "--destination": daddr = IPPrefix(next); dneg = negateNext; i += 1
                case "-o", "--out-interface": oif = next; i += 1
                case "--pol": polIPsec = next == "ipsec"; polNone = next == "none"; i += 1
                case "--dir": dirOut = next == "out"; i += 1
                case "-j": target = next; i += 1
                default: break
                }
                negateNext = false
                i += 1
            }
            let action: NatRule.Action = switch target {
            case "MASQUERADE": .masquerade
            case "SNAT": .snat
            case "ACCEPT": .accept
            case "RETURN": .return
            default: .other
            }
            out.append(NatRule(
                backend: "iptables", chain: "POSTROUTING", position: rule.position, saddr: saddr, daddr: daddr, saddrNegated: sneg,
                daddrNegated: dneg, outInterface: oif, matchesIPsecPolicy: polIPsec && dirOut, excludesIPsecPolicy: polNone,
                action: action, family: "ip", table: "nat", source: rule.source))
        }
        return (out, [])
    }
}

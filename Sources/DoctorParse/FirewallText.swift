import DoctorModel
import Foundation

/// `iptables-save` read once into its tables' policy and rule lines; the NAT and the input-filter
/// parsers both take what they need from it.
///
///     *nat
///     :POSTROUTING ACCEPT [0:0]
///     -A POSTROUTING -o vw -j MASQUERADE
///     COMMIT
enum IptablesSaveText {
    struct Rule {
        var table: String
        var chain: String
        /// Order within the chain (0 first).
        var position: Int
        var source: SourceLine
        /// The words after `-A CHAIN`.
        var words: [String]
    }

    struct Policy {
        var table: String
        var chain: String
        /// `ACCEPT`, `DROP`, `-` (user chains)
        var policy: String
        var source: SourceLine
    }

    static func read(_ document: RawDocument) -> (rules: [Rule], policies: [Policy], unreadable: InputDiagnostic?) {
        let (lines, unreadable) = LineSource.lines(of: document)
        var rules: [Rule] = []
        var policies: [Policy] = []
        var table = ""
        var positions: [String: Int] = [:]
        for (n, raw) in lines {
            let t = raw.trimmingCharacters(in: .whitespaces)
            let source = SourceLine(file: document.name, line: n, text: raw)
            if t.hasPrefix("*") {
                table = String(t.dropFirst())
            } else if t.hasPrefix(":") {
                let w = t.dropFirst().split(separator: " ").map(String.init)
                if w.count >= 2 { policies.append(Policy(table: table, chain: w[0], policy: w[1], source: source)) }
            } else if t.hasPrefix("-A ") {
                let w = t.split(separator: " ").map(String.init)
                guard w.count >= 2 else { continue }
                let key = "\(table)/\(w[1])"
                rules.append(Rule(table: table, chain: w[1], position: positions[key, default: 0], source: source, words: Array(w.dropFirst(2))))
                positions[key, default: 0] += 1
            }
        }
        return (rules, policies, unreadable)
    }
}

/// `nft list ruleset` (text) read once into chains: family, table, name, the `type ... hook ...` line and
/// the rule lines. Sets, maps and other blocks inside a table are skipped whole.
///
///     table ip nat {
///         chain postrouting {
///             type nat hook postrouting priority srcnat; policy accept;
///             oifname "vw" masquerade
///         }
///     }
enum NftText {
    struct Chain {
        var family: String
        var table: String
        var name: String
        /// Words of the `type` line (`type`, `nat`, `hook`, `postrouting`, ...); empty for a regular chain.
        var typeWords: [String]
        var typeSource: SourceLine?
        var rules: [(Int, String)]

        func hooks(_ type: String, _ hook: String) -> Bool { typeWords.contains(type) && typeWords.contains(hook) }

        /// `policy drop;` of a base chain.
        var policy: String? {
            guard let i = typeWords.firstIndex(of: "policy"), i + 1 < typeWords.count else { return nil }
            return typeWords[i + 1].trimmingCharacters(in: CharacterSet(charactersIn: ";"))
        }
    }

    static func read(_ document: RawDocument) -> (chains: [Chain], unreadable: InputDiagnostic?) {
        let (lines, unreadable) = LineSource.lines(of: document)
        var chains: [Chain] = []
        var family = "", table = ""
        var current: Chain?
        var depth = 0
        var skipping = false  // inside a set/map/flowtable block
        for (n, raw) in lines {
            let t = raw.trimmingCharacters(in: .whitespaces)
            let w = t.split(separator: " ").map(String.init)
            if t == "}" || t.hasPrefix("}") {
                if depth == 2 {
                    if let c = current { chains.append(c) }
                    current = nil
                    skipping = false
                }
                depth = max(0, depth - 1)
                continue
            }
            if depth == 0, w.first == "table", w.count >= 3 {
                family = w[1]; table = w[2]; depth = 1
                continue
            }
            if depth == 1, t.hasSuffix("{") {
                depth = 2
                if w.first == "chain", w.count >= 2 {
                    current = Chain(family: family, table: table, name: w[1], typeWords: [], typeSource: nil, rules: [])
                } else {
                    skipping = true
                }
                continue
            }
            guard depth == 2, !skipping, !t.isEmpty, current != nil else { continue }
            if w.first == "type" {
                current?.typeWords = w
                current?.typeSource = SourceLine(file: document.name, line: n, text: raw)
            } else {
                current?.rules.append((n, raw))
            }
        }
        return (chains, unreadable)
    }
}

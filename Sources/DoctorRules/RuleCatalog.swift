import Foundation

/// Every rule, in ladder order. Adding a rule = adding its file and one line here;
/// the catalog test then runs its examples.
public enum RuleCatalog {
    public static let all: [any Rule.Type] = [
        PlutoNotRunning.self, FirewallBlocksIKE.self, PeerDeletesIKESA.self, PeerIKENotRunning.self, PeerUnreachable.self, IKEVersionMismatch.self, IKEProposalMismatch.self,
        IDMismatch.self, PSKMismatch.self, AuthFailed.self, ESPProposalMismatch.self, TSMismatch.self,
        KernelSAInstallFailed.self, SAVanished.self, MissingPolicy.self, MissingSA.self, TrafficFails.self, NATBeforeIPsec.self,
        MultiSubnetTmplMismatch.self, RepliesInClear.self, SharedReqid.self, MTUBlackhole.self, DPDTimeout.self, XfrmCounter.self, TunnelDown.self,
        DebugLogging.self,
    ]

    /// code -> codes that follow from it (from each rule's `explains`).
    public static let explains: [String: Set<String>] = Dictionary(uniqueKeysWithValues: all.map { ($0.code, $0.explains) })
}

extension RuleCatalog {
    /// The code table of docs/findings.md (`ipsec-doctor codes --markdown`); a test keeps the file equal to it.
    public static func markdownTable() -> String {
        var out = "| code | what it finds | lab scenarios that produce it |\n|---|---|---|\n"
        for rule in all {
            let scenarios = Set(rule.examples.filter(\.triggers).map(\.scenario)).sorted().map { "`\($0)`" }.joined(separator: ", ")
            out += "| `\(rule.code)` | \(rule.summary.replacingOccurrences(of: "|", with: "\\|")) | \(scenarios) |\n"
        }
        return out
    }
}

extension RuleCatalog {
    /// One code as `codes --format json` prints it (docs/schema/codes.schema.json).
    public struct CodeEntry: Encodable, Sendable {
        public var code: String
        public var summary: String
        /// Codes attached to this one as symptoms when both are found on a connection.
        public var explains: [String]
        /// Codes that, found on the same connection, take this one as their symptom.
        public var explainedBy: [String]
        /// Lab captures (`examples/<scenario>/<side>`) that produce it, with a line it cites there.
        public var examples: [Example]
    }

    public struct Example: Encodable, Sendable {
        public var capture: String
        public var withPeer: Bool
        public var cites: String?
    }

    public static func entry(_ rule: any Rule.Type) -> CodeEntry {
        CodeEntry(
            code: rule.code, summary: rule.summary, explains: rule.explains.sorted(),
            explainedBy: all.filter { $0.explains.contains(rule.code) }.map { $0.code },
            examples: rule.examples.filter(\.triggers).map {
                Example(capture: "examples/\($0.scenario)/\($0.side)", withPeer: $0.withPeer, cites: $0.cites)
            })
    }

    /// `codes --format json`.
    public static func json(toolVersion: String) -> String {
        struct Document: Encodable {
            var schemaVersion = 1
            var tool = "ipsec-doctor"
            var toolVersion: String
            var codes: [CodeEntry]
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? enc.encode(Document(toolVersion: toolVersion, codes: all.map(entry)))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// `codes --explain CODE`: what the code means, where it sits among the others, and where to see it.
    public static func explain(_ code: String) -> String? {
        guard let rule = all.first(where: { $0.code == code }) else { return nil }
        let e = entry(rule)
        var out = "\(e.code): \(e.summary)\n"
        if !e.explains.isEmpty { out += "\nFound with it on the same connection, these follow from it (listed under it as symptoms): \(e.explains.joined(separator: ", "))\n" }
        if !e.explainedBy.isEmpty { out += "\nIt follows from (and is listed under) any of: \(e.explainedBy.joined(separator: ", "))\n" }
        if !e.examples.isEmpty {
            out += "\nSeen in the project's lab captures (diagnose them to see the full finding):\n"
            for x in e.examples {
                out += "  ipsec-doctor diagnose \(x.capture)\(x.withPeer ? " --peer \(x.capture.dropLast(4))\(x.capture.hasSuffix("west") ? "east" : "west")" : "")"
                out += x.cites.map { "\n      cites a line with: \($0)\n" } ?? "\n"
            }
        }
        return out
    }

    /// The catalog code nearest to a mistyped one (edit distance at most 3), for the usage error.
    public static func nearest(_ word: String) -> String? {
        let scored = all.map { ($0.code, editDistance($0.code, word)) }.filter { $0.1 <= 3 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var prev = row[0]
            row[0] = i
            for j in 1...b.count {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}

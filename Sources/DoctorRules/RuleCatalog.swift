import DoctorModel
import Foundation

/// Every rule, in ladder order. Adding a rule = adding its file and one line here;
/// the catalog test then runs its examples.
public enum RuleCatalog {
    public static let all: [any Rule.Type] = [
        PlutoNotRunning.self, FirewallBlocksIKE.self, PeerIKENotRunning.self, PeerUnreachable.self, IKEVersionMismatch.self,
        IKEProposalMismatch.self, IDMismatch.self, PSKMismatch.self, AuthFailed.self, PeerDeletesIKESA.self,
        ESPProposalMismatch.self, TSMismatch.self, KernelSAInstallFailed.self, MissingPolicy.self, MissingSA.self,
        SAVanished.self, SharedReqid.self, MultiSubnetTmplMismatch.self, NATBeforeIPsec.self, RepliesInClear.self,
        MTUBlackhole.self, DPDTimeout.self, XfrmCounter.self, TrafficFails.self, TunnelDown.self, DebugLogging.self,
    ]

    /// code -> codes that follow from it (from each rule's `explains`).
    public static let explains: [FindingCode: Set<FindingCode>] = Dictionary(uniqueKeysWithValues: all.map { ($0.code, $0.explains) })

    /// code -> the rung its rule sits on (`compare` files its predictions on the same rungs).
    public static let stage: [FindingCode: Stage] = Dictionary(uniqueKeysWithValues: all.map { ($0.code, $0.stage) })
}

extension RuleCatalog {
    /// The code table of docs/findings.md (`ipsec-doctor codes --markdown`); a test keeps the file equal to it.
    public static func markdownTable() -> String {
        var out = "| code | stage | what it finds | needs (any kind of each) | lab scenarios that produce it |\n|---|---|---|---|---|\n"
        for rule in all {
            let scenarios = Set(rule.examples.filter(\.triggers).map(\.scenario)).sorted().map { "`\($0)`" }.joined(separator: ", ")
            let needs = rule.needs.isEmpty ? "-" : rule.needs.map { $0.kinds.map { "`\($0.id)`" }.joined(separator: " / ") }.joined(separator: "; ")
            out += "| `\(rule.code)` | \(rule.stage.rawValue) | \(rule.summary.replacingOccurrences(of: "|", with: "\\|")) | \(needs) | \(scenarios) |\n"
        }
        return out
    }
}

extension RuleCatalog {
    /// One code as `codes --format json` prints it (docs/schema/codes.schema.json).
    public struct CodeEntry: Encodable, Sendable {
        public var code: FindingCode
        public var summary: String
        public var stage: Stage
        /// What it cannot do without (any kind of each).
        public var needs: [Need]
        /// Codes attached to this one as symptoms when both are found on a connection.
        public var explains: [FindingCode]
        /// Codes that, found on the same connection, take this one as their symptom.
        public var explainedBy: [FindingCode]
        /// Lab captures (`examples/<scenario>/<side>`) that produce it, with a line it cites there.
        public var examples: [Example]
    }

    public struct Need: Encodable, Sendable {
        public var what: String
        public var kinds: [String]
    }

    public struct Example: Encodable, Sendable {
        public var capture: String
        public var withPeer: Bool
        public var cites: String?
    }

    public static func entry(_ rule: any Rule.Type) -> CodeEntry {
        CodeEntry(
            code: rule.code, summary: rule.summary, stage: rule.stage,
            needs: rule.needs.map { Need(what: $0.what, kinds: $0.kinds.map(\.id)) }, explains: rule.explains.sorted(),
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
        guard let rule = all.first(where: { $0.code.rawValue == code }) else { return nil }
        let e = entry(rule)
        var out = "\(e.code): \(e.summary)\n"
        out += "\nStage: \(e.stage.rawValue) (rung \(e.stage.position + 1) of \(Stage.allCases.count) on the root-cause ladder)\n"
        out += rule.needs.isEmpty ? "Needs: nothing in particular (it reads whatever the capture holds)\n"
            : "Needs (any one kind of each; without one it is not checked): \(rule.needs.map(\.description).joined(separator: "; "))\n"
        if !e.explains.isEmpty { out += "\nFound with it on the same connection, these follow from it (listed under it as symptoms): \(e.explains.map(\.rawValue).joined(separator: ", "))\n" }
        if !e.explainedBy.isEmpty { out += "\nIt follows from (and is listed under) any of: \(e.explainedBy.map(\.rawValue).joined(separator: ", "))\n" }
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
        let scored = all.map { ($0.code.rawValue, editDistance($0.code.rawValue, word)) }.filter { $0.1 <= 3 }
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

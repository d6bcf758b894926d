import DoctorModel
import DoctorRules
import Foundation

/// The renderings of `compare` (text, and JSON: docs/schema/compare.schema.json).
public enum CompareReport {
    public static let schemaVersion = 1

    struct Document: Encodable {
        var schemaVersion: Int
        var tool = "ipsec-doctor"
        var toolVersion: String
        var local: String
        var peer: String
        var exitStatus: Int32
        var pairs: [PairDoc]
        var unpaired: [ConfigComparison.Unpaired]
        var inputWarnings: [InputDiagnostic]
    }

    struct PairDoc: Encodable {
        var local: String
        var peer: String
        var verdict: String
        var findings: [Finding]
        var ike: ConfigComparison.ProposalsCompared
        var esp: ConfigComparison.ProposalsCompared
    }

    /// 0 when every pair is `ok`, 1 when a pair has a finding, 2 when nothing was paired.
    public static func exitStatus(_ c: ConfigComparison) -> Int32 {
        if c.pairs.contains(where: { !$0.findings.isEmpty }) { return 1 }
        return c.pairs.isEmpty ? 2 : 0
    }

    public static func json(_ c: ConfigComparison, local: String, peer: String, toolVersion: String) -> String {
        let doc = Document(
            schemaVersion: schemaVersion, toolVersion: toolVersion, local: local, peer: peer, exitStatus: exitStatus(c),
            pairs: c.pairs.map { PairDoc(local: $0.local, peer: $0.peer, verdict: $0.verdict, findings: $0.findings, ike: $0.ike, esp: $0.esp) },
            unpaired: c.unpaired, inputWarnings: c.problems)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(doc) else { return "{\"schemaVersion\":\(schemaVersion),\"error\":\"encoding failed\"}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// One block per pair, the verdict first (`error[ike-proposal-mismatch] "office" <-> "office": ...`), then
    /// the findings in the text report's form, then both ends' proposals and their agreement.
    public static func text(_ c: ConfigComparison, local: String, peer: String, report: TextReport) -> String {
        var out: [String] = []
        for p in c.pairs {
            let names = p.local == p.peer ? "\"\(p.local)\"" : "\"\(p.local)\" <-> \"\(p.peer)\""
            if p.findings.isEmpty {
                out.append("ok \(names): the two configurations agree (IKE version, proposals, authentication, IDs, PSK, subnets)")
            } else {
                for (i, f) in p.findings.enumerated() { out += report.renderFinding(f, index: i, lead: i == 0) }
            }
            for (what, pc) in [("IKE", p.ike), ("ESP", p.esp)] {
                out.append("  \(what) proposals:")
                out.append("    \(local): " + pc.local.joined(separator: ", "))
                out.append("    \(peer): " + pc.peer.joined(separator: ", "))
                out.append("    in common: " + (pc.common.isEmpty ? "none" : pc.common.joined(separator: ", ")))
            }
            out.append("")
        }
        for u in c.unpaired { out.append("not paired: \"\(u.connection)\" (\(u.end == "local" ? local : peer)): \(u.reason)") }
        let errors = c.pairs.flatMap(\.findings).filter { $0.severity == .error }.count
        let warnings = c.pairs.flatMap(\.findings).filter { $0.severity == .warning }.count
        out.append("compared \(local) with \(peer): \(c.pairs.count) pair(s), \(c.unpaired.count) unpaired; \(errors) error(s), \(warnings) warning(s); exit status \(exitStatus(c))")
        let text = out.joined(separator: "\n")
        return report.color ? TextReport.keepingColours(text) : text.escapingControlCharacters
    }
}

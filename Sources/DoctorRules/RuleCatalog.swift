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

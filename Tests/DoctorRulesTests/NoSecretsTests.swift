import DoctorModel
import DoctorReport
import Foundation
import Testing

@testable import DoctorRules

/// The PSKs of every capture's ipsec.secrets and the key hex of every ip xfrm state
/// must never reach any output format, whatever the scenario.
@Suite("No secret reaches any output")
struct NoSecretsTests {
    /// Secrets read straight from the captures, the way an attacker would look for them.
    static func secrets() -> Set<String> {
        var out: Set<String> = []
        for scenario in Repo.scenarios {
            for side in ["west", "east"] {
                let dir = "\(Repo.examples)/\(scenario)/\(side)"
                if let s = try? String(contentsOfFile: dir + "/ipsec.secrets", encoding: .utf8) {
                    for line in s.split(separator: "\n") {
                        let parts = line.split(separator: "\"")
                        if parts.count >= 2 { out.insert(String(parts[1])) }
                    }
                }
                if let st = try? String(contentsOfFile: dir + "/ip-xfrm-state.txt", encoding: .utf8) {
                    for word in st.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) where word.hasPrefix("0x") && word.count > 18 {
                        out.insert(String(word.dropFirst(2).prefix(24)))
                    }
                }
            }
        }
        return out
    }

    @Test("text and JSON of every scenario, alone and with its peer")
    func noSecrets() throws {
        let secrets = Self.secrets()
        try #require(secrets.count > 10, "expected lab PSKs and keys to test against")
        for scenario in Repo.scenarios {
            for (side, withPeer) in [("west", false), ("east", false), ("west", true)] {
                guard FileManager.default.fileExists(atPath: "\(Repo.examples)/\(scenario)/\(side)") else { continue }
                let ctx = Repo.context(scenario, side, withPeer: withPeer)
                let findings = DiagnosisEngine().diagnose(ctx)
                let d = Diagnosis(local: side, peer: nil, connections: [], findings: findings, skipped: ctx.local.skipped,
                                  diagnostics: ctx.local.diagnostics, inputs: ctx.local.inputs, libreswanVersion: nil)
                let outputs = [TextReport(color: false).render(d), JSONReport.render(d)]
                for out in outputs {
                    for s in secrets { #expect(!out.contains(s), "\(scenario)/\(side): a secret leaked") }
                }
            }
        }
    }
}

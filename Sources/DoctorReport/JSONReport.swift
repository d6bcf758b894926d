import DoctorModel
import DoctorRules
import Foundation

/// `--format json`: the stable machine interface (docs/json-schema.md). Field names are API.
public enum JSONReport {
    public static let schemaVersion = 2
    /// The release, for `--version` and the JSON report (bumped with each release; schemaVersion only when the
    /// JSON changes incompatibly).
    public static let toolVersion = "0.8.0"

    struct Document: Encodable {
        var schemaVersion: Int
        var tool: String
        var toolVersion: String
        var local: String
        var peer: String?
        var libreswanVersion: String?
        var exitStatus: Int32
        var connections: [Diagnosis.ConnectionStatus]
        var findings: [Finding]
        var skipped: [SkippedInput]
        var notChecked: [NotChecked]
        var inputWarnings: [InputDiagnostic]
        var inputs: [Input]
    }

    struct Input: Encodable {
        var file: String
        var kind: String
        /// `local` or `peer` (the capture given with --peer).
        var side: String
    }

    public static func render(_ d: Diagnosis) -> String {
        let doc = Document(
            schemaVersion: schemaVersion, tool: "ipsec-doctor", toolVersion: toolVersion, local: d.local, peer: d.peer, libreswanVersion: d.libreswanVersion,
            exitStatus: d.exitStatus.rawValue, connections: d.connections, findings: d.findings, skipped: d.skipped,
            notChecked: d.notChecked, inputWarnings: d.diagnostics,
            inputs: d.inputs.sorted { $0.key < $1.key }.map { Input(file: $0.key, kind: $0.value.id, side: "local") }
                + d.peerInputs.sorted { $0.key < $1.key }.map { Input(file: $0.key, kind: $0.value.id, side: "peer") })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(doc) else { return "{\"schemaVersion\":\(schemaVersion),\"error\":\"encoding failed\"}" }
        return String(decoding: data, as: UTF8.self)
    }
}

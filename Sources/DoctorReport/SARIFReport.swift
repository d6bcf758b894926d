import DoctorModel
import Foundation

/// `--format sarif`: SARIF 2.1.0 (OASIS), so CI systems that lint a repository of gateway configurations
/// can annotate the offending lines. Each finding is a result whose primary location is the ipsec.conf
/// line to change when the finding cites one, else its first cited line; its other cited lines are related
/// locations. Input warnings are tool notifications. The rules are the whole catalog, in ladder order.
public enum SARIFReport {
    /// A catalog entry, as the driver's rules list it.
    public struct RuleDescriptor: Sendable {
        public var code: String
        public var summary: String

        public init(code: String, summary: String) {
            self.code = code
            self.summary = summary
        }
    }

    struct Log: Encodable {
        var schema = "https://json.schemastore.org/sarif-2.1.0.json"
        var version = "2.1.0"
        var runs: [Run]

        enum CodingKeys: String, CodingKey {
            case schema = "$schema"
            case version, runs
        }
    }

    struct Run: Encodable {
        var tool: Tool
        var invocations: [Invocation]
        var results: [Result]
    }

    struct Tool: Encodable {
        var driver: Driver
    }

    struct Driver: Encodable {
        var name = "ipsec-doctor"
        var version: String
        var semanticVersion: String
        var rules: [Rule]
    }

    struct Rule: Encodable {
        var id: String
        var name: String
        var shortDescription: Message
        var fullDescription: Message
    }

    struct Message: Encodable {
        var text: String
    }

    struct Invocation: Encodable {
        var executionSuccessful: Bool
        var exitCode: Int32
        var toolExecutionNotifications: [Notification]
    }

    struct Notification: Encodable {
        var level: String
        var message: Message
        var locations: [Location]?
    }

    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int?
        var level: String
        var message: Message
        var locations: [Location]?
        var relatedLocations: [Location]?
        var partialFingerprints: [String: String]
        var properties: Properties
    }

    struct Properties: Encodable {
        var connection: String?
        var isSymptom: Bool
        var side: String?
        var cause: String?
        var stage: Stage
        var rank: Int
        var remedy: Remedy
    }

    struct Location: Encodable {
        var id: Int?
        var physicalLocation: PhysicalLocation
    }

    struct PhysicalLocation: Encodable {
        var artifactLocation: ArtifactLocation
        var region: Region?
    }

    struct ArtifactLocation: Encodable {
        var uri: String
    }

    struct Region: Encodable {
        var startLine: Int
        var snippet: Message?
    }

    public static func render(_ d: Diagnosis, rules: [RuleDescriptor], toolVersion: String) -> String {
        let index = Dictionary(rules.enumerated().map { ($1.code, $0) }, uniquingKeysWith: { a, _ in a })
        let configs = Set((d.inputs.merging(d.peerInputs) { a, _ in a }).filter { $0.value == .ipsecConf }.map(\.key))
        // Leads, then each one's symptoms (they are findings of their own for an annotating CI).
        let all = d.findings.flatMap { [$0] + $0.symptoms }
        let results = all.map { f -> Result in
            // The line to annotate: a cited line a config step replaces (ipsec.conf, ipsec.secrets), else any
            // cited ipsec.conf line, else the first cited line.
            let removed = Set(f.remedy.steps.flatMap(\.remove).map { $0.trimmingCharacters(in: .whitespaces) })
            let primary = f.evidence.first { removed.contains($0.text.trimmingCharacters(in: .whitespaces)) }
                ?? f.evidence.first { configs.contains($0.file) } ?? f.evidence.first
            let related = f.evidence.filter { $0 != primary }.enumerated().map { location($1, id: $0 + 1) }
            var text = (f.connection.map { "\"\($0)\": " } ?? "") + f.title + ". " + f.explanation
            if !f.remedy.summary.isEmpty { text += "\nRemedy: " + f.remedy.summary }
            for s in f.remedy.steps {
                text += "\n- [\(s.end.rawValue)] \(s.summary)"
                if let c = s.command { text += ": \(c)" }
                for l in s.remove { text += "\n    - \(l)" }
                for l in s.add { text += "\n    + \(l)" }
            }
            return Result(
                ruleId: f.code.rawValue, ruleIndex: index[f.code.rawValue], level: level(f.severity), message: Message(text: text),
                locations: primary.map { [location($0, id: nil)] }, relatedLocations: related.isEmpty ? nil : related,
                partialFingerprints: ["ipsecDoctorFinding/v1": fingerprint([f.code.rawValue, f.connection ?? "", f.cause ?? "", f.side ?? "", primary?.file ?? ""])],
                properties: Properties(connection: f.connection, isSymptom: f.isSymptom, side: f.side, cause: f.cause, stage: f.stage, rank: f.stage.position, remedy: f.remedy))
        }
        let notes = d.diagnostics.map { w in
            Notification(
                level: "warning", message: Message(text: w.message.escapingControlCharacters),
                locations: [Location(id: nil, physicalLocation: PhysicalLocation(artifactLocation: ArtifactLocation(uri: uri(w.file)), region: w.line.map { Region(startLine: $0, snippet: nil) }))])
        } + d.skipped.map { Notification(level: "note", message: Message(text: "not read: \($0.input): \($0.reason)"), locations: nil) }
        let run = Run(
            tool: Tool(driver: Driver(version: toolVersion, semanticVersion: toolVersion, rules: rules.map {
                Rule(id: $0.code, name: $0.code, shortDescription: Message(text: $0.summary), fullDescription: Message(text: $0.summary))
            })),
            invocations: [Invocation(executionSuccessful: d.exitStatus != .couldNotDiagnose, exitCode: d.exitStatus.rawValue, toolExecutionNotifications: notes)],
            results: results)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(Log(runs: [run])) else { return "{\"version\":\"2.1.0\",\"runs\":[]}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func level(_ s: Severity) -> String {
        switch s {
        case .error: "error"
        case .warning: "warning"
        case .info: "note"
        }
    }

    static func location(_ l: SourceLine, id: Int?) -> Location {
        Location(id: id, physicalLocation: PhysicalLocation(
            artifactLocation: ArtifactLocation(uri: uri(l.file)), region: Region(startLine: l.line, snippet: Message(text: l.text))))
    }

    /// A relative path stays relative (CI tools resolve it against the checkout); an absolute one becomes a
    /// file URI; a command name (live mode: `ip -s xfrm state`) is percent-encoded like any path.
    static func uri(_ file: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":")
        let encoded = file.addingPercentEncoding(withAllowedCharacters: allowed) ?? file
        return file.hasPrefix("/") ? "file://" + encoded : encoded
    }

    /// FNV-1a 64, hex: stable across runs and machines, so a CI system tracks one problem across commits.
    static func fingerprint(_ parts: [String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in parts.joined(separator: "\u{1f}").utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return String(h, radix: 16)
    }
}

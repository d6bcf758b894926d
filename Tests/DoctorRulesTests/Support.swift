import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorRules
import Foundation

enum Repo {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var examples: String { root + "/examples" }

    static func snapshot(_ scenario: String, _ side: String) -> EndpointSnapshot {
        SnapshotBuilder.build(SnapshotLoader.load(paths: ["\(examples)/\(scenario)/\(side)"], label: side))
    }

    static func context(_ scenario: String, _ side: String, withPeer: Bool) -> DiagnosisContext {
        let other = side == "west" ? "east" : "west"
        return DiagnosisContext(local: snapshot(scenario, side), peer: withPeer ? snapshot(scenario, other) : nil)
    }

    /// A scratch copy of examples/SCENARIO/SIDE to derive a capture from (the caller removes it).
    static func scratchCopy(_ scenario: String, _ side: String = "west", _ tag: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.copyItem(atPath: "\(examples)/\(scenario)/\(side)", toPath: dir)
        return dir
    }

    static var scenarios: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: examples)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }
}

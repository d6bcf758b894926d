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

    static var scenarios: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: examples)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }
}

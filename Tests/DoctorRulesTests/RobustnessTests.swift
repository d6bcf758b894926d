import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorReport
import Foundation
import Testing

@testable import DoctorRules

/// Bad input must give diagnostics, never a crash: every file of real captures, mangled four ways,
/// goes through the whole pipeline (recognise, parse, diagnose, render).
@Suite("Mangled input never crashes the pipeline")
struct RobustnessTests {
    /// Deterministic pseudo-random bytes (LCG), so a failure is reproducible.
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
    }

    static let scenarios = ["healthy", "ikev1-ts-mismatch", "multi-subnet-tmpl-mismatch", "nat-before-ipsec-nft", "mtu-blackhole"]

    @Test("truncated, corrupted, emptied and binary-noise versions of each capture", arguments: scenarios)
    func mangled(_ scenario: String) throws {
        let src = "\(Repo.examples)/\(scenario)/west"
        let files = try FileManager.default.contentsOfDirectory(atPath: src).sorted()
        var rng = LCG(state: UInt64(scenario.utf8.count))
        for mode in ["truncate", "flip", "empty", "noise"] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mangled-\(scenario)-\(mode)-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            for f in files {
                var data = [UInt8](FileManager.default.contents(atPath: "\(src)/\(f)") ?? Data())
                switch mode {
                case "truncate": data = Array(data.prefix(data.count / 2 + 3))
                case "flip": for _ in 0..<max(1, data.count / 50) where !data.isEmpty { data[Int(rng.next() % UInt64(data.count))] = UInt8(rng.next() & 0xFF) }
                case "empty": data = []
                default: data = (0..<4096).map { _ in UInt8(rng.next() & 0xFF) }
                }
                FileManager.default.createFile(atPath: "\(dir)/\(f)", contents: Data(data))
            }
            let snap = SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: "mangled"))
            let findings = DiagnosisEngine().diagnose(DiagnosisContext(local: snap, peer: snap))
            let d = Diagnosis(local: "m", peer: nil, connections: [], findings: findings, skipped: snap.skipped,
                              diagnostics: snap.diagnostics, inputs: snap.inputs, libreswanVersion: nil)
            #expect(!TextReport(color: false).render(d).isEmpty)
            #expect(JSONReport.render(d).contains("\"schemaVersion\""))
        }
    }
}

import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorReport
import Foundation
import Testing

@testable import DoctorRules

/// Bad input must give diagnostics, never a crash: every file of real captures, mangled four ways,
/// goes through the whole pipeline (recognise, parse, diagnose, render). The report must still be valid
/// JSON with a documented exit status, and a file that was not mangled must still be diagnosed.
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

    static let scenarios = ["healthy", "ikev1-ts-mismatch", "multi-subnet-tmpl-mismatch", "nat-before-ipsec-nft", "mtu-blackhole", "ikev2-psk-mismatch"]
    static let modes = ["truncate", "flip", "empty", "noise"]

    static func mangle(_ data: [UInt8], _ mode: String, _ rng: inout LCG) -> [UInt8] {
        var data = data
        switch mode {
        case "truncate": data = Array(data.prefix(data.count / 2 + 3))
        case "flip": for _ in 0..<max(1, data.count / 50) where !data.isEmpty { data[Int(rng.next() % UInt64(data.count))] = UInt8(rng.next() & 0xFF) }
        case "empty": data = []
        default: data = (0..<4096).map { _ in UInt8(rng.next() & 0xFF) }
        }
        return data
    }

    /// Copies the capture, mangling the files `mangled` says, and diagnoses the copy as the CLI would.
    static func diagnose(_ src: String, files: [String], mode: String, mangled: (String) -> Bool, rng: inout LCG) throws -> Diagnosis {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mangled-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in files {
            let data = [UInt8](FileManager.default.contents(atPath: "\(src)/\(f)") ?? Data())
            FileManager.default.createFile(atPath: "\(dir)/\(f)", contents: Data(mangled(f) ? mangle(data, mode, &rng) : data))
        }
        let snap = SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: "mangled"))
        let findings = DiagnosisEngine().diagnose(DiagnosisContext(local: snap))
        return Diagnosis(local: "m", peer: nil, connections: [], findings: findings, skipped: snap.skipped,
                         diagnostics: snap.diagnostics, inputs: snap.inputs, libreswanVersion: nil)
    }

    /// The JSON report parses, and says the exit status the process would return (one of the documented ones).
    static func checkReport(_ d: Diagnosis, _ label: String) throws {
        #expect(!TextReport(color: false).render(d).isEmpty, "\(label): empty text report")
        let raw = JSONReport.render(d)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any], "\(label): report is not JSON")
        #expect(json["schemaVersion"] as? Int == JSONReport.schemaVersion, "\(label)")
        #expect(json["error"] == nil, "\(label): the report fell back to its encoding-error document")
        #expect(json["findings"] is [Any], "\(label): no findings array")
        let exit = try #require(json["exitStatus"] as? Int, "\(label): no exitStatus")
        #expect([0, 1, 2].contains(exit), "\(label): exit status \(exit) is not a documented one")
        #expect(exit == Int(d.exitStatus.rawValue), "\(label)")
    }

    static func codes(_ d: Diagnosis) -> Set<String> {
        Set(d.findings.flatMap { [$0.code.rawValue] + $0.symptoms.map(\.code.rawValue) })
    }

    /// logrotate's names: `pluto.log.1` is read when it is the only log, named when the current one is beside
    /// it; a `.gz` rotation is never silently ignored.
    @Test("rotated and compressed logs are read or named, never ignored without a word")
    func rotatedLogs() throws {
        let dir = try Repo.scratchCopy("ikev2-psk-mismatch", "west", "rotated")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.moveItem(atPath: "\(dir)/pluto.log", toPath: "\(dir)/pluto.log.1")
        FileManager.default.createFile(atPath: "\(dir)/pluto.log.2.gz", contents: Data([0x1f, 0x8b, 0x08, 0x00]))
        func diagnose() -> (EndpointSnapshot, [Finding]) {
            let snap = SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: "west"))
            return (snap, DiagnosisEngine().diagnose(DiagnosisContext(local: snap)))
        }
        var (snap, findings) = diagnose()
        #expect(snap.logFiles.contains { $0.hasSuffix("pluto.log.1") }, "\(snap.logFiles)")
        #expect(findings.first?.evidence.contains { $0.file.hasSuffix("pluto.log.1") } == true)
        #expect(snap.diagnostics.contains { $0.file.hasSuffix("pluto.log.2.gz") && $0.message.contains("gunzip -k") })
        try FileManager.default.copyItem(atPath: "\(Repo.examples)/ikev2-psk-mismatch/west/pluto.log", toPath: "\(dir)/pluto.log")
        (snap, findings) = diagnose()
        #expect(!snap.logFiles.contains { $0.hasSuffix("pluto.log.1") })
        #expect(snap.diagnostics.contains { $0.file.hasSuffix("pluto.log.1") && $0.message.contains("older rotation") })
    }

    @Test("every file mangled at once: a valid report with a documented exit status", arguments: scenarios)
    func mangledAll(_ scenario: String) throws {
        let src = "\(Repo.examples)/\(scenario)/west"
        let files = try FileManager.default.contentsOfDirectory(atPath: src).sorted()
        var rng = LCG(state: UInt64(scenario.utf8.count))
        for mode in Self.modes {
            let d = try Self.diagnose(src, files: files, mode: mode, mangled: { _ in true }, rng: &rng)
            try Self.checkReport(d, "\(scenario) \(mode)")
        }
    }

    /// One file at a time: the lead finding of the clean capture stays among the findings as long as the
    /// files it cites are intact. A file's garbage must not hide what the other files prove.
    @Test("one file mangled: what the other files prove is still diagnosed", arguments: scenarios.filter { $0 != "healthy" })
    func mangledOne(_ scenario: String) throws {
        let src = "\(Repo.examples)/\(scenario)/west"
        let files = try FileManager.default.contentsOfDirectory(atPath: src).sorted()
        var rng = LCG(state: UInt64(scenario.utf8.count) &* 7)
        let clean = try Self.diagnose(src, files: files, mode: "none", mangled: { _ in false }, rng: &rng)
        let lead = try #require(clean.findings.first, "\(scenario): the clean capture has no finding")
        // The lead needs the files it cites and the configuration that names its connection.
        let needed = Set(lead.evidence.map { URL(fileURLWithPath: $0.file).lastPathComponent } + ["ipsec.conf"])
        for f in files where !needed.contains(f) {
            for mode in Self.modes {
                let d = try Self.diagnose(src, files: files, mode: mode, mangled: { $0 == f }, rng: &rng)
                try Self.checkReport(d, "\(scenario) \(f) \(mode)")
                #expect(Self.codes(d).contains(lead.code.rawValue), "\(scenario): \(f) mangled (\(mode)) hides \(lead.code): \(d.findings.map(\.code))")
            }
        }
    }
}

import DoctorCore
import DoctorModel
import Foundation
import Testing

/// The pipeline as a library: what the CLI does, through DoctorCore's API, on real lab captures.
@Suite("DoctorCore: diagnose and compare as a library")
struct CoreTests {
    @Test("a directory with both ends' captures is diagnosed as both ends, with a note saying so")
    func bothEnds() throws {
        let d = try DoctorCore.diagnose(.captured([Repo.examples + "/ikev2-psk-mismatch"]))
        #expect(d.notes.count == 1 && d.notes[0].contains("holds two ends' captures"))
        #expect(d.diagnosis.peer != nil)
        #expect(d.diagnosis.findings.first?.code == .pskMismatch)
        #expect(d.diagnosis.connections.first { $0.name == "westnet-eastnet" }?.rootCause == .pskMismatch)
        #expect(d.diagnosis.exitStatus == .problemsFound)
        // The peer's inputs are listed as the peer's.
        #expect(!d.diagnosis.peerInputs.isEmpty && d.diagnosis.peerInputs.keys.allSatisfy { $0.contains("/east/") })
    }

    @Test("--conn with a name the input does not have is a typed failure naming the known ones")
    func unknownConnection() {
        #expect(throws: DoctorCore.Failure.unknownConnection("nope", known: ["westnet-eastnet"])) {
            try DoctorCore.diagnose(.captured([Repo.examples + "/healthy/west"]), connection: "nope")
        }
    }

    @Test("compare through the library: the lab pair's predicted code, and an end without ipsec.conf refused")
    func compare() throws {
        let c = try DoctorCore.compare(Repo.examples + "/ikev2-ts-mismatch/west", Repo.examples + "/ikev2-ts-mismatch/east")
        #expect(c.result.pairs.map(\.verdict) == ["ts-mismatch"])
        #expect(c.local.label == "west" || c.local.label.hasSuffix("west"))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("core-\(getpid())").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: DoctorCore.Failure.noConfig(empty)) { try DoctorCore.compare(Repo.examples + "/healthy/west", empty) }
    }
}

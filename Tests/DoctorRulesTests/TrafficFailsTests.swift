import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorRules
import Foundation
import Testing

/// The user's own ping through the tunnel fails: the report is never "healthy" (real ping output, cut
/// from the mtu-blackhole capture so that only what an impatient user would have tried is left).
@Suite("Traffic that fails is never healthy")
struct TrafficFailsTests {
    /// examples/mtu-blackhole/west with its ping.txt reduced to the runs from `-s FIRST` on.
    static func capture(keepingPingsFrom first: String) throws -> String {
        let dir = try Repo.scratchCopy("mtu-blackhole", "west", "traffic-\(first)")
        let ping = try String(contentsOfFile: "\(dir)/ping.txt", encoding: .utf8)
        let start = try #require(ping.range(of: "$ ping -c 2 -W 2 -M do -s \(first) "))
        try String(ping[start.lowerBound...]).write(toFile: "\(dir)/ping.txt", atomically: true, encoding: .utf8)
        return dir
    }

    @Test("only big DF pings, all lost: an error that says a small ping decides, with the sweep")
    func onlyBigPingsLost() throws {
        let dir = try Self.capture(keepingPingsFrom: "1320")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let snap = SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: "west"))
        let findings = DiagnosisEngine().diagnose(DiagnosisContext(local: snap))
        let lead = try #require(findings.first)
        #expect(lead.severity == .error)
        let all = findings + findings.flatMap(\.symptoms)
        let traffic = try #require(all.first { $0.code == "traffic-fails" }, "the lost pings are not reported")
        #expect(traffic.remedy.steps.contains { $0.command == "ping -c 3 -s 56 10.2.0.1" })
        #expect(traffic.evidence.contains { $0.text.contains("100% packet loss") })
    }

    @Test("small pings pass and big ones die: mtu-blackhole leads and takes the lost traffic as its symptom")
    func mtuLeads() throws {
        let snap = SnapshotBuilder.build(SnapshotLoader.load(paths: ["\(Repo.examples)/mtu-blackhole/west"], label: "west"))
        let findings = DiagnosisEngine().diagnose(DiagnosisContext(local: snap))
        #expect(findings.first?.code == "mtu-blackhole")
        #expect(findings.first?.symptoms.contains { $0.code == "traffic-fails" } == true)
    }
}

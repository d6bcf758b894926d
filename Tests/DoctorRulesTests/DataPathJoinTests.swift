import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorRules
import Foundation
import Testing

/// Several Child SAs to one peer, joined by reqid and selector on real kernel state (lab captures): which
/// one fails now, which one only will, and whose counter says so.
@Suite("Child SAs joined by reqid and selector")
struct DataPathJoinTests {
    static func diagnose(_ scenario: String, withPeer: Bool = false) -> [Finding] {
        DiagnosisEngine().diagnose(Repo.context(scenario, "west", withPeer: withPeer))
    }

    @Test("one reqid on both ends: a warning (traffic passes over the newest SA, the other idle)")
    func sharedReqidBothEnds() throws {
        let lead = try #require(Self.diagnose("fixed-reqid-subnets").first)
        #expect(lead.code == "shared-reqid" && lead.severity == .warning)
        #expect(lead.explanation.contains("#2 carried nothing"))
    }

    @Test("reqid on one end only: an error, and the peer's XfrmInTmplMismatch is its consequence")
    func sharedReqidOneEnd() throws {
        let alone = try #require(Self.diagnose("fixed-reqid-one-end").first)
        #expect(alone.code == "shared-reqid" && alone.severity == .error, "the lost pings make it a failure now")
        let both = try #require(Self.diagnose("fixed-reqid-one-end", withPeer: true).first)
        #expect(both.code == "shared-reqid" && both.severity == .error)
        #expect(both.symptoms.contains { $0.code == "multi-subnet-tmpl-mismatch" && $0.side == "peer" })
    }

    @Test("replies in clear and replies crossing raise the same counter; the per-Child-SA counters tell them apart")
    func inClearVersusCrossed() throws {
        #expect(Self.diagnose("two-subnets-one-way").first?.code == "replies-in-clear")
        #expect(Self.diagnose("multi-subnet-tmpl-mismatch").first?.code == "multi-subnet-tmpl-mismatch")
    }

    /// multi-subnet-tmpl-mismatch/west with its xfrm_stat reduced to its second sample, taken twice: the
    /// counter that rose (0 -> 4) now stays at 4, as on a gateway sampled after the trouble passed.
    @Test("a counter that stayed flat between samples is information, not a problem")
    func flatCounterIsInformation() throws {
        let dir = try Repo.scratchCopy("multi-subnet-tmpl-mismatch", "west", "flat")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stat = try String(contentsOfFile: "\(dir)/xfrm_stat.txt", encoding: .utf8)
        let second = try #require(stat.range(of: "# ", options: .backwards))
        let sample = String(stat[second.lowerBound...])
        try (sample + (sample.hasSuffix("\n") ? "" : "\n") + sample).write(toFile: "\(dir)/xfrm_stat.txt", atomically: true, encoding: .utf8)
        let snap = SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: "west"))
        let out = DiagnosisEngine().diagnose(DiagnosisContext(local: snap))
        let all = out + out.flatMap(\.symptoms)
        let counter = try #require(all.first { $0.code == "xfrm-counter" && $0.title.hasPrefix("XfrmInTmplMismatch") })
        #expect(counter.severity == .info && counter.title.contains("not rising"), "\(counter.severity) \(counter.title)")
    }
}

import DoctorModel
import DoctorRules
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
}

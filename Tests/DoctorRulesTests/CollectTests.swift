import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorReport
import Foundation
import Testing

@testable import DoctorRules

@Suite("Live collection")
struct CollectTests {
    /// Real outputs of the healthy lab capture, replayed as if the commands ran on this machine.
    func recorded(hang: Bool) throws -> RecordedCommandRunner {
        let dir = "\(Repo.examples)/healthy/west/"
        func ok(_ f: String) throws -> CommandResult {
            CommandResult(outcome: .exited(0), stdout: try String(contentsOfFile: dir + f, encoding: .utf8), stderr: "")
        }
        var outputs: [String: CommandResult] = [
            "ipsec --version": CommandResult(outcome: .exited(0), stdout: "Libreswan 4.10\n", stderr: ""),
            "ipsec whack --trafficstatus": try ok("ipsec-trafficstatus.txt"),
            "ipsec whack --status": try ok("ipsec-status.txt"),
            "ip -s xfrm policy": try ok("ip-xfrm-policy.txt"),
            "ip -s xfrm state": try ok("ip-xfrm-state.txt"),
            "ip addr": try ok("ip-addr.txt"),
            "ip route": try ok("ip-route.txt"),
            "iptables-save": CommandResult(outcome: .exited(1), stdout: "", stderr: "iptables-save: Permission denied (you must be root)\n"),
        ]
        if hang { outputs["ip -d link"] = CommandResult(outcome: .timedOut(seconds: 10), stdout: "", stderr: "") }
        return RecordedCommandRunner(outputs: outputs)
    }

    @Test("recorded real outputs give the same model; failures become explained skips")
    func recordedLive() throws {
        let collector = LiveCollector(runner: try recorded(hang: true), sampleInterval: 0, root: Repo.examples + "/healthy/west-root-absent")
        let inputs = collector.collect()
        let snap = SnapshotBuilder.build(inputs)
        #expect(snap.trafficStatus?.first?.connection == "westnet-eastnet")
        #expect(snap.states?.count == 2)
        let reasons = inputs.skipped.map { "\($0.input): \($0.reason)" }
        #expect(reasons.contains { $0.hasPrefix("iptables-save: exited with status 1: iptables-save: Permission denied") })
        #expect(reasons.contains { $0.hasPrefix("ip -d link: no answer within 10 s") })
        #expect(reasons.contains { $0.hasPrefix("nft list ruleset: `nft` is not installed") })
    }

    @Test("without Libreswan it says so plainly and does not call the machine healthy")
    func noLibreswan() {
        let inputs = LiveCollector(runner: RecordedCommandRunner(outputs: [:]), sampleInterval: 0, root: "/nonexistent").collect()
        #expect(inputs.skipped.first?.reason.hasPrefix("Libreswan is not installed") == true)
        let snap = SnapshotBuilder.build(inputs)
        let d = Diagnosis(local: snap.label, peer: nil, connections: [], findings: DiagnosisEngine().diagnose(DiagnosisContext(local: snap)),
                          skipped: snap.skipped, diagnostics: [], inputs: snap.inputs, libreswanVersion: nil)
        #expect(d.exitStatus == .couldNotDiagnose)
        #expect(TextReport(color: false).render(d).contains("Libreswan is not installed on this machine"))
    }

    @Test("a slow `ipsec --version` (timed out) is not a missing Libreswan: pluto is still asked")
    func slowIpsec() throws {
        var runner = try recorded(hang: false)
        runner.outputs["ipsec --version"] = CommandResult(outcome: .timedOut(seconds: 10), stdout: "", stderr: "")
        let inputs = LiveCollector(runner: runner, sampleInterval: 0, root: Repo.examples + "/healthy/west-root-absent").collect()
        #expect(inputs.skipped.contains { $0.input == "ipsec --version" && $0.reason.hasPrefix("no answer within 10 s") })
        let snap = SnapshotBuilder.build(inputs)
        #expect(snap.trafficStatus?.first?.connection == "westnet-eastnet")
        let d = Diagnosis(local: snap.label, peer: nil, connections: [], findings: [], skipped: snap.skipped, diagnostics: [],
                          inputs: snap.inputs, libreswanVersion: nil)
        #expect(!d.libreswanMissing)
    }

    /// Live mode once lost and reordered lines of `ip -s xfrm policy` (a lab scenario's live run reported a
    /// policy missing that the kernel had): every byte, in order, on both streams, run after run.
    @Test("a command's whole output is read, in order, on both streams")
    func wholeOutput() {
        let want = (1...20_000).map(String.init).joined(separator: "\n") + "\n"
        for _ in 0..<20 {
            let r = SystemCommandRunner().run(["sh", "-c", "seq 1 20000; seq 1 20000 >&2"], timeout: 20)
            #expect(r.outcome == .exited(0))
            #expect(r.stdout == want && r.stderr == want, "stdout \(r.stdout.count) bytes, stderr \(r.stderr.count), want \(want.count)")
        }
    }

    @Test("a hanging command is killed at its timeout")
    func timeout() {
        let r = SystemCommandRunner().run(["sleep", "30"], timeout: 0.5)
        #expect(r.outcome == .timedOut(seconds: 0.5))
        #expect(SystemCommandRunner().run(["no-such-command-xyz"], timeout: 1).outcome == .notFound)
        // The `ipsec` wrapper case: a child that started its own child; both must be gone after the timeout.
        let marker = "sleep 61.\(Int.random(in: 100_000...999_999))"
        let t = SystemCommandRunner().run(["sh", "-c", "sh -c '\(marker)' & wait"], timeout: 0.5)
        #expect(t.outcome == .timedOut(seconds: 0.5))
        Thread.sleep(forTimeInterval: 0.3)
        let left = SystemCommandRunner().run(["pgrep", "-f", marker], timeout: 5)
        #expect(left.outcome == .exited(1), "a grandchild survived the timeout: \(left.stdout)")
        #expect(SystemCommandRunner().run(["sh", "-c", "echo hi; exit 3"], timeout: 5).outcome == .exited(3))
    }
}

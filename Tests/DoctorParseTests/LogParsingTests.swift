import DoctorModel
import Foundation
import Testing

@testable import DoctorParse

@Suite("Libreswan log classification (real lab captures)")
struct LogParsingTests {
    @Test("prefixes of logfile, syslog, journal and whack are stripped")
    func prefixes() {
        let cases: [(String, String)] = [
            ("Nov 23 11:01:12.862865: \"westnet-eastnet\" #1: authentication failed", "\"westnet-eastnet\" #1: authentication failed"),
            ("Nov 22 12:34:05 gw pluto[123]: \"c\" #1: x", "\"c\" #1: x"),
            ("2026-11-22T12:34:05.123456+00:00 gw pluto[123]: \"c\" #1: x", "\"c\" #1: x"),
            ("003 \"westnet-eastnet\" #1: IKE SA authentication request rejected", "\"westnet-eastnet\" #1: IKE SA authentication request rejected"),
            ("1v2 \"c\" #1: sent IKE_SA_INIT request", "\"c\" #1: sent IKE_SA_INIT request"),
        ]
        for (input, expected) in cases { #expect(String(LogPrefix.strip(Substring(input))) == expected) }
    }

    func classify(_ scenario: String, _ side: String, _ file: String) -> IKEEventLog {
        var c = PlutoLogClassifier()
        var log = IKEEventLog()
        try? LineSource(Repo.doc(Repo.example(scenario, side, file))).forEach { n, line in
            if let e = c.classify(line, file: file, line: n) { log.append(e) }
            return true
        }
        return log
    }

    @Test("IKEv2 PSK mismatch: initiator sees AUTHENTICATION_FAILED, responder the hash mismatch")
    func ikev2PSK() {
        let west = classify("ikev2-psk-mismatch", "west", "ipsec-up.txt")
        let e = west.first(.authFailedReceived, connection: "westnet-eastnet")
        #expect(e?.source.line == 5)
        #expect(e?.serial == 1)
        let east = classify("ikev2-psk-mismatch", "east", "pluto.log")
        #expect(east.count(.pskHashMismatch) >= 1)
    }

    @Test("IKEv1 NO_PROPOSAL_CHOSEN is phase 1 before the ISAKMP SA, Quick Mode after it")
    func ikev1NotifyPhase() {
        let ike = classify("ikev1-ike-proposal-mismatch", "west", "pluto.log")
        #expect(ike.count(.ikeNoProposalReceived) > 0)
        #expect(ike.count(.childNoProposalReceived) == 0)
        let esp = classify("ikev1-esp-proposal-mismatch", "west", "pluto.log")
        #expect(esp.count(.childNoProposalReceived) > 0)
        #expect(esp.count(.ikeNoProposalReceived) == 0)
    }

    @Test("ICMP errors keep errno, ICMP type/code and the complainant")
    func icmp() {
        let log = classify("peer-ike-not-running", "west", "ipsec-up.txt")
        let e = log.first(.icmpError)
        #expect(e?.details["errno"] == "111")
        #expect(e?.details["icmpType"] == "3")
        #expect(e?.details["icmpCode"] == "3")
        #expect(e?.details["complainant"] == "192.0.2.2")
        #expect(e?.details["error"] == "Connection refused")
    }

    @Test("kernel SA install failure keeps the errno; timeouts keep their state")
    func kernelAndTimeouts() {
        let east = classify("host-kernel-no-esp", "east", "pluto.log")
        #expect(east.first(.kernelSAInstallFailed)?.details["errno"] == "38")
        let west = classify("ikev1-psk-mismatch", "west", "ipsec-up.txt")
        #expect(west.first(.authTimeout)?.state == "STATE_MAIN_I3")
        let unreachable = classify("peer-unreachable", "west", "ipsec-up.txt")
        #expect(unreachable.first(.timeout)?.state == "STATE_V2_PARENT_I1")
        #expect(unreachable.count(.retransmission) == 5)  // 0.5, 1, 2, 4 and 8 s waits
    }

    @Test("packet-level lines carry the peer address instead of a connection")
    func packetFrom() {
        let east = classify("ike-version-mismatch", "east", "pluto.log")
        let e = east.first(.noSuitableConnection)
        #expect(e?.connection == nil)
        #expect(e?.details["peerAddress"] == "192.0.2.1")
        #expect(e?.details["ikeVersion"] == "IKEv1")
    }

    @Test("the byte prefilter never drops a line the classifier would match (every captured log line)")
    func prefilterIsSafe() throws {
        let root = Repo.root + "/examples"
        var checked = 0, matched = 0
        for scenario in try FileManager.default.contentsOfDirectory(atPath: root).sorted() {
            for side in ["west", "east"] {
                for file in ["pluto.log", "ipsec-up.txt"] {
                    let path = "\(root)/\(scenario)/\(side)/\(file)"
                    guard FileManager.default.fileExists(atPath: path) else { continue }
                    var slow = PlutoLogClassifier(), fast = PlutoLogClassifier()
                    try LineSource(Repo.doc(path)).forEachBytes { n, bytes in
                        let line = String(decoding: bytes, as: UTF8.self)
                        let a = slow.classify(Substring(line), file: file, line: n)
                        let b = fast.classify(bytes: bytes, file: file, line: n)
                        #expect(a?.kind == b?.kind, "\(path):\(n): \(line)")
                        checked += 1
                        if a != nil { matched += 1 }
                        return true
                    }
                }
            }
        }
        #expect(checked > 5000 && matched > 500)
    }

    @Test("the event log keeps bounded memory whatever the number of lines")
    func bounded() {
        var log = IKEEventLog()
        let src = SourceLine(file: "f", line: 1, text: "t")
        for i in 0..<100_000 {
            var s = src
            s.line = i
            log.append(IKEEvent(kind: .retransmission, connection: "c", serial: 1, state: nil, details: [:], source: s))
        }
        #expect(log.count(.retransmission) == 100_000)
        #expect(log.events(.retransmission).count == 5)
        #expect(log.last(.retransmission)?.source.line == 99_999)
    }
}

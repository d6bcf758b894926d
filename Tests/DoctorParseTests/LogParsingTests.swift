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

    /// Lines from Libreswan's test-suite transcripts (Tests/corpus/vectors: v3.32 and v5.4 `ipsec status | grep
    /// idtype`, v4.12 `grep "ID type" /tmp/pluto.log`).
    @Test("the ID type this end sends: status `our idtype:` in both spellings, and only that one debug line")
    func ourIDType() {
        var c = PlutoLogClassifier()
        let v3 = c.classify("000 \"ikev2-westnet-eastnet-x509-cr\":   our idtype: ID_IPV4_ADDR; our id=192.1.2.45; their idtype: ID_IPV4_ADDR; their id=192.1.2.23", file: "s", line: 1)
        #expect(v3?.kind == .ourID && v3?.details["idType"] == "IPV4_ADDR" && v3?.details["id"] == "192.1.2.45")
        let v5 = c.classify("\"westnet-eastnet-ipv4-psk-ikev2\":   our idtype: FQDN; our id=@west; their idtype: FQDN; their id=@east", file: "s", line: 2)
        #expect(v5?.details["idType"] == "FQDN" && v5?.details["id"] == "@west" && v5?.connection == "westnet-eastnet-ipv4-psk-ikev2")
        let dump = c.classify("|    ID type: ID_IPV4_ADDR (0x1)", file: "s", line: 3)
        #expect(dump?.kind == .ourID && dump?.details["idType"] == "IPV4_ADDR")
        // v5.4 (ikev1-x509-07-san-ip-mismatch): the number in decimal, then in hex.
        let dump54 = c.classify("|    ID type: ID_IPV4_ADDR (1, 0x01)", file: "s", line: 3)
        #expect(dump54?.kind == .ourID && dump54?.details["idType"] == "IPV4_ADDR")
        // Any other debug line stays unread, an ID-type look-alike with more on it too.
        #expect(c.classify("|    ID type: ID_IPV4_ADDR (0x1) and more", file: "s", line: 4) == nil)
        #expect(c.classify("|    ID type: ID_IPV4_ADDR (1, 0x01, 00ff)", file: "s", line: 4) == nil)
        #expect(c.classify("|    ID type: ID_IPV4_ADDR (x, 0x01)", file: "s", line: 4) == nil)
        #expect(c.classify("| authentication failed, PSK 0123", file: "s", line: 5) == nil)
    }

    /// Libreswan test-suite transcripts (Tests/corpus/vectors: v4.12 and v5.4 ikev2-x509-14-san-dn-mismatch,
    /// v5.4 ikev2-x509-41-rightid-fromcert-rightid-ip).
    @Test("a good certificate whose ID is not the expected one is an ID mismatch; no certificate for the ID is id-not-in-san")
    func certificateIDs() {
        var c = PlutoLogClassifier()
        let v5 = c.classify("\"san\" #1: X509: authentication failed; peer ID DER_ASN1_DN 'E=user-east@testing.libreswan.org,CN=east.testing.libreswan.org,OU=Test Department,O=Libreswan,L=Toronto,ST=Ontario,C=CA' does not match expected 'C=CA, ST=Ontario, L=Toronto, O=Libreswan, OU=Test Department, CN=NOTeast.testing.libreswan.org, E=user-NOTeast@testing.libreswan.org'", file: "s", line: 1)
        #expect(v5?.kind == .peerIDMismatch && v5?.details["peerID"]?.hasPrefix("E=user-east@") == true && v5?.connection == "san")
        let v4 = c.classify("003 \"san\" #1: X509: authentication failed; peer ID_DER_ASN1_DN 'E=user-east@testing.libreswan.org,CN=east.testing.libreswan.org,OU=Test Department,O=Libreswan,L=Toronto,ST=Ontario,C=CA' does not match expected 'C=CA, ST=Ontario, L=Toronto, O=Libreswan, OU=Test Department, CN=NOTeast.testing.libreswan.org, E=user-NOTeast@testing.libreswan.org'", file: "s", line: 2)
        #expect(v4?.kind == .peerIDMismatch && v4?.details["peerID"]?.hasSuffix(",C=CA") == true)
        let none = c.classify("\"ikev2-westnet-eastnet-x509-cr\" #1: authentication failed: no certificate matched RSASSA-PSS with SHA2_512 and '192.1.2.23'", file: "s", line: 3)
        #expect(none?.kind == .certificateError && none?.details["cause"] == "id-not-in-san")
        // Public threads (Tests/corpus/threads): an IKEv1 initiator refusing the ID, and the one fixed-text debug line read.
        let v1 = c.classify("we require IKEv1 peer to have ID 'X.X.X.X', but peer declares '@remote.example.com'", file: "s", line: 4)
        #expect(v1?.kind == .peerIDMismatch && v1?.details["peerID"] == "@remote.example.com")
        #expect(c.classify("Feb 28 04:02:53.609020: | Peer IDr payload does not match our expected ID, this connection will not do", file: "s", line: 5)?.kind == .peerIDMismatch)
        #expect(c.classify("Feb 28 04:02:53.609020: | Peer IDr payload does not match our expected ID, this connection will not do 0x1234", file: "s", line: 6) == nil)
        #expect(c.classify("Feb 28 04:02:53.609012: | This connection's local id is @2.2.2.2 (ID_FQDN)", file: "s", line: 7) == nil)
    }

    /// Tests/corpus/threads/gh-libreswan-334.txt (NSS 3.52 broke pluto's AES_GCM self-test, a passert).
    @Test("an NSS failure inside pluto's start-up self-test is pluto aborting; the same line later is not")
    func selfTest() {
        var c = PlutoLogClassifier()
        let fail = "May  3 14:06:20.349441: NSS: AEAD decryption using AES_GCM_16_128 and PK11_Decrypt() failed (SECERR: 2 (0x2): security library: received bad data.)"
        #expect(c.classify("May  3 14:06:20.349410: testing AES_GCM_16:", file: "l", line: 6) == nil)
        let e = c.classify(Substring(fail), file: "l", line: 8)
        #expect(e?.kind == .plutoAborted && e?.details["cause"] == "crypto-self-test")
        var later = PlutoLogClassifier()
        #expect(later.classify(Substring(fail), file: "l", line: 500)?.kind != .plutoAborted)
    }

    /// The parallel log reader (hub issue) will classify chunks and merge them in order: the merged log must be
    /// the one a single pass builds, counts and kept occurrences alike, wherever the file is cut.
    @Test("merging the logs of consecutive chunks equals one pass, at every cut")
    func mergeEqualsOnePass() {
        var c = PlutoLogClassifier()
        var events: [IKEEvent] = []
        for scenario in ["ikev2-psk-mismatch", "peer-unreachable", "dpd-timeout"] {
            try? LineSource(Repo.doc(Repo.example(scenario, "west", "pluto.log"))).forEach { n, line in
                if let e = c.classify(line, file: scenario, line: n) { events.append(e) }
                return true
            }
        }
        #expect(events.count > 30)
        var whole = IKEEventLog()
        for e in events { whole.append(e) }
        for cut in [0, 1, 2, 3, 7, events.count / 2, events.count - 1, events.count] {
            // Three chunks: [0, cut), [cut, mid), [mid, end).
            let mid = (cut + events.count) / 2
            var a = IKEEventLog(), b = IKEEventLog(), third = IKEEventLog()
            for e in events[..<cut] { a.append(e) }
            for e in events[cut..<mid] { b.append(e) }
            for e in events[mid...] { third.append(e) }
            a.merge(b)
            a.merge(third)
            #expect(a.buckets.count == whole.buckets.count, "cut \(cut)")
            for (key, w) in whole.buckets {
                let m = a.buckets[key]
                #expect(m?.count == w.count && m?.first == w.first && m?.latest == w.latest, "cut \(cut): \(key.kind)")
            }
        }
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

/// journalctl can print pluto's lines in many formats; whatever the wrapping, a debug line (`| ...`, which
/// may hold key material) is never an event, and a real failure line is the same event. The messages are
/// real lines of the ikev2-psk-mismatch-debug capture (plutodebug=all); the wrappings are journalctl's.
@Suite("Journal output formats")
struct JournalFormatTests {
    static func line(containing needle: String) throws -> String {
        let text = try String(contentsOfFile: Repo.example("ikev2-psk-mismatch-debug", "west", "pluto.log"), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.contains(needle) }, "no line with \(needle)")
        // Drop pluto's own `Dec  2 03:41:10.385864: ` logtime, as journald does.
        return String(try #require(line.range(of: ": ").map { line[$0.upperBound...] }))
    }

    static let wrappings: [(String, @Sendable (String) -> String)] = [
        ("short", { "Dec  2 03:41:10 gw pluto[4242]: " + $0 }),
        ("short-iso", { "2026-12-02T03:41:10+00:00 gw pluto[4242]: " + $0 }),
        ("short-precise", { "Dec 02 03:41:10.385864 gw pluto[4242]: " + $0 }),
        ("short-monotonic", { "[ 1234.567890] gw pluto[4242]: " + $0 }),
        ("short-unix", { "1764646870.385864 gw pluto[4242]: " + $0 }),
        ("short-full", { "Wed 2026-12-02 03:41:10 UTC gw pluto[4242]: " + $0 }),
        ("verbose", { "    MESSAGE=" + $0 }),
        ("json", { "{\"__REALTIME_TIMESTAMP\" : \"1764646870385864\", \"_HOSTNAME\" : \"gw\", \"MESSAGE\" : \"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\", \"_PID\" : \"4242\"}" }),
        ("cat", { $0 }),
    ]

    @Test("a debug line is never an event, in every format")
    func debugSkipped() throws {
        let debug = try Self.line(containing: "|    Notify Message Type: v2N_AUTHENTICATION_FAILED")
        for (name, wrap) in Self.wrappings {
            var c = PlutoLogClassifier()
            #expect(c.classify(Substring(wrap(debug)), file: "journal.txt", line: 1) == nil, "\(name): a debug line became an event")
        }
    }

    @Test("a real failure line is the same event in every format")
    func failureSame() throws {
        let failure = try Self.line(containing: "rejected by peer: AUTHENTICATION_FAILED")
        var plain = PlutoLogClassifier()
        let event = plain.classify(Substring(failure), file: "x", line: 1)
        let want = try #require(event)
        for (name, wrap) in Self.wrappings {
            var c = PlutoLogClassifier()
            let got = c.classify(Substring(wrap(failure)), file: "journal.txt", line: 1)
            #expect(got?.kind == want.kind, "\(name)")
            #expect(got?.connection == "westnet-eastnet", "\(name)")
        }
    }
}

@Suite("Bounded reading")
struct BoundedReadingTests {
    @Test("a 3 MiB line (file or text) is cut at 1 MiB and says so; the lines after it are read; a last line without newline too")
    func longLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("long-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var data = Data("first\n".utf8)
        data.append(Data(repeating: UInt8(ascii: "A"), count: 3 << 20))
        data.append(Data("\nsecond\r\nlast".utf8))
        FileManager.default.createFile(atPath: path, contents: data)
        // A file is streamed in blocks; text (standard input, a command's output) is split in memory: same cap.
        for content in [RawDocument.Content.file(path: path), .text(String(decoding: data, as: UTF8.self))] {
            let lines = try LineSource(RawDocument(name: path, content: content, kind: .plutoLog)).allLines()
            #expect(lines.map(\.0) == [1, 2, 3, 4])
            #expect(lines[0].1 == "first")
            #expect(lines[1].1.hasSuffix("[ipsec-doctor: line cut at 1 MiB]"))
            #expect(lines[1].1.utf8.count <= LineSource.maxLineBytes + 64)
            #expect(lines[2].1 == "second")
            #expect(lines[3].1 == "last")
        }
    }

    @Test("block boundaries: every line of a real log read the same as splitting the file in memory")
    func sameAsSplit() throws {
        let path = Repo.example("ikev2-psk-mismatch-debug", "west", "pluto.log")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var want = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if want.last == "" { want.removeLast() }
        let got = try LineSource(RawDocument(name: path, content: .file(path: path), kind: .plutoLog)).allRawLines().map(\.1)
        #expect(got.count == want.count)
        #expect(got == want)
    }
}

/// The log hot path skips a line at the byte level unless it holds one of the classifier's anchors: that
/// prefilter must never drop a line the classifier would read. Checked over every line of every lab capture
/// and every corpus transcript and thread paste.
@Suite("Byte prefilter")
struct PrefilterSafetyTests {
    static func files(under dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".txt") || $0.hasSuffix(".log") }.map { "\(dir)/\($0)" }
    }

    @Test("no line the classifier matches is dropped by the prefilter")
    func neverDrops() throws {
        let all = Self.files(under: Repo.root + "/examples") + Self.files(under: Repo.root + "/Tests/corpus")
        try #require(all.count > 500)
        var checked = 0, matched = 0
        var dropped: [String] = []
        for path in all {
            var withFilter = PlutoLogClassifier(), without = PlutoLogClassifier()
            try LineSource(RawDocument(name: path, content: .file(path: path), kind: .plutoLog)).forEachRaw { n, line in
                checked += 1
                let direct = without.classify(line, file: path, line: n)
                let filtered = Array(line.utf8).withUnsafeBufferPointer { withFilter.classify(bytes: $0, file: path, line: n) }
                if direct != nil { matched += 1 }
                if direct?.kind != filtered?.kind { dropped.append("\(path):\(n): \(direct?.kind.rawValue ?? "-") vs \(filtered?.kind.rawValue ?? "-")") }
                return true
            }
        }
        #expect(matched > 1000, "\(matched) of \(checked) lines classified")
        #expect(dropped.isEmpty, "\(dropped.count) lines read differently with the prefilter:\n\(dropped.prefix(10).joined(separator: "\n"))")
    }
}

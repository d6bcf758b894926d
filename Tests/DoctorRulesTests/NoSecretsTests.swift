import DoctorCollect
import DoctorParse
import DoctorModel
import DoctorReport
import Foundation
import Testing

@testable import DoctorRules

/// The PSKs of every capture's ipsec.secrets and the key hex of every ip xfrm state
/// must never reach any output format, whatever the scenario.
@Suite("No secret reaches any output")
struct NoSecretsTests {
    /// Secrets read straight from the captures, the way an attacker would look for them.
    static func secrets() -> Set<String> {
        var out: Set<String> = []
        for scenario in Repo.scenarios {
            for side in ["west", "east"] {
                let dir = "\(Repo.examples)/\(scenario)/\(side)"
                if let s = try? String(contentsOfFile: dir + "/ipsec.secrets", encoding: .utf8) {
                    for line in s.split(separator: "\n") {
                        let parts = line.split(separator: "\"")
                        if parts.count >= 2 { out.insert(String(parts[1])) }
                    }
                }
                if let st = try? String(contentsOfFile: dir + "/ip-xfrm-state.txt", encoding: .utf8) {
                    for word in st.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) where word.hasPrefix("0x") && word.count > 18 {
                        out.insert(String(word.dropFirst(2).prefix(24)))
                    }
                }
            }
        }
        return out
    }

    @Test("text and JSON of every scenario, alone and with its peer")
    func noSecrets() throws {
        let secrets = Self.secrets()
        try #require(secrets.count > 10, "expected lab PSKs and keys to test against")
        for scenario in Repo.scenarios {
            for (side, withPeer) in [("west", false), ("east", false), ("west", true)] {
                guard FileManager.default.fileExists(atPath: "\(Repo.examples)/\(scenario)/\(side)") else { continue }
                let ctx = Repo.context(scenario, side, withPeer: withPeer)
                let findings = DiagnosisEngine().diagnose(ctx)
                let d = Diagnosis(local: side, peer: nil, connections: [], findings: findings, skipped: ctx.local.skipped,
                                  diagnostics: ctx.local.diagnostics, inputs: ctx.local.inputs, libreswanVersion: nil)
                let outputs = [TextReport(color: false).render(d), JSONReport.render(d)]
                for out in outputs {
                    for s in secrets { #expect(!out.contains(s), "\(scenario)/\(side): a secret leaked") }
                }
            }
        }
    }
}

/// Redaction is structural: every secret form Libreswan and iproute2 write, arriving through every kind of
/// input (the right file, the wrong file, a pasted session under a prompt the splitter does not know, a
/// journal in another output format), never reaches the text report, the JSON or a warning.
@Suite("Every secret form through every input kind")
struct SecretFormsTests {
    /// (lines to insert, substrings that must never be printed)
    static let forms: [(lines: [String], secrets: [String])] = [
        (["@west @east : PSK \"Sekr1t-quoted-psk-AAAA\""], ["Sekr1t-quoted-psk-AAAA"]),
        (["@west @east : psk \"lowercase-psk-BBBB\""], ["lowercase-psk-BBBB"]),
        ([": Psk \"mixedcase-psk-CCCC\""], ["mixedcase-psk-CCCC"]),
        (["@a @b : PSK unquotedPSKvalueDDDD"], ["unquotedPSKvalueDDDD"]),
        (["@a @b : PSK 0sYmFzZTY0cHNrRUVFRQ=="], ["YmFzZTY0cHNrRUVFRQ"]),
        (["@a @b : PSK 0x1a2b3c4d5e6f7a8b9c0d"], ["1a2b3c4d5e6f7a8b9c0d"]),
        (["2001:db8::1 2001:db8::2 : PSK \"ipv6-psk-FFFF\""], ["ipv6-psk-FFFF"]),
        (["@user : XAUTH \"xauth-password-GGGG\""], ["xauth-password-GGGG"]),
        (["@user : xauth 'xauth-lower-HHHH'"], ["xauth-lower-HHHH"]),
        (["@user : EAP \"eap-secret-IIII\""], ["eap-secret-IIII"]),
        ([": PIN %smartcard:01 pin-secret-JJJJ"], ["pin-secret-JJJJ"]),
        (["@a @b : PPKS \"ppk-id-1\" \"ppks-secret-KKKK\""], ["ppks-secret-KKKK"]),
        (["@a @b : PSK", "    \"next-line-psk-LLLL\""], ["next-line-psk-LLLL"]),
        ([": RSA {", "    Modulus: 0sAwEAAbbbbMMMMmodulusxx", "    Prime1: unquoted-prime-secret-OOOO", "}"], ["unquoted-prime-secret-OOOO", "AwEAAbbbbMMMM"]),
        (["\taead rfc4106(gcm(aes)) 0x0a1b2c3d4e5f60718293a4b5c6d7e8f901234567 (160 bits) 128"], ["0a1b2c3d4e5f6071"]),
        (["\tenc cbc(aes) 0X00112233445566778899aabbccddeeff"], ["0011223344556677"]),
        (["\tauth-trunc hmac(sha256) 0x 9f8e7d6c5b4a39281706f5e4d3c2b1a0 (256 bits) 128"], ["9f8e7d6c5b4a3928"]),
        (["\tenc cbc(des) 0x1122334455"], ["1122334455"]),
        (["\taead rfc4106(gcm(aes)) 0xdeadbeefcafebabe0123", "456789abcdef0123456789abcdef (160 bits) 128"], ["deadbeefcafebabe", "456789abcdef0123456789"]),
        (["\tenc 0x77665544332211009988"], ["77665544332211009988"]),
    ]

    /// How the lines arrive: file name in the capture -> its content around the inserted lines.
    static let kinds: [(file: String, wrap: @Sendable ([String]) -> [String])] = [
        ("ipsec.secrets", { $0 }),
        ("ipsec.conf", { ["config setup", "    ikev1-policy=accept"] + $0 + ["conn x", "    left=192.0.2.1", "    right=192.0.2.2"] }),
        ("ipsec.conf", { ["conn x", "    left=192.0.2.1"] + $0 + ["    right=192.0.2.2"] }),
        ("ip-xfrm-state.txt", { ["src 192.0.2.1 dst 192.0.2.2", "\tproto esp spi 0x00002001(8193) reqid 1(0x00000001) mode tunnel"] + $0 }),
        ("xfrm_stat.txt", { ["XfrmInError             \t0"] + $0 + ["XfrmInNoStates          \t3"] }),
        ("pluto.log", { ["Dec  2 03:05:55.123456: \"westnet-eastnet\" #1: initiating IKEv2 connection"] + $0 }),
        ("journal.txt", { lines in lines.map { "[12345.678901] gw pluto[123]: " + $0 } }),
        ("journal.txt", { lines in lines.map { "1764645955.123456 gw pluto[123]: | " + $0 } }),
        ("session.txt", { ["gw:~ # ip -s xfrm policy", "src 10.1.0.0/24 dst 10.2.0.0/24", "\tdir out priority 1 ptype main", "gw:~ # cat /etc/ipsec.secrets"] + $0 }),
        ("session.txt", { ["gw# ipsec status", "000 using kernel interface: xfrm", "gw# less /etc/ipsec.secrets"] + $0 + ["gw# head /etc/ipsec.conf"] }),
        ("session.txt", { ["root@gw:~# ipsec whack --trafficstatus", "006 #2: \"westnet-eastnet\", type=ESP", "root@gw:~# vi /etc/ipsec.secrets"] + $0 }),
        ("notes.txt", { $0 }),
        ("ping.txt", { ["PING 10.2.0.1 (10.2.0.1) from 10.1.0.1 : 56(84) bytes of data."] + $0 }),
    ]

    @Test("each form, each kind: text, JSON and warnings hold no secret", arguments: 0..<kinds.count)
    func everyForm(_ k: Int) throws {
        let (file, wrap) = Self.kinds[k]
        let src = "\(Repo.examples)/ikev2-psk-mismatch/west"
        for form in Self.forms {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secret-forms-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            for f in try FileManager.default.contentsOfDirectory(atPath: src) where f != file {
                try FileManager.default.copyItem(atPath: "\(src)/\(f)", toPath: "\(dir)/\(f)")
            }
            try (wrap(form.lines).joined(separator: "\n") + "\n").write(toFile: "\(dir)/\(file)", atomically: true, encoding: .utf8)
            let snap = SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: "west"))
            let findings = DiagnosisEngine().diagnose(DiagnosisContext(local: snap, peer: snap))
            let d = Diagnosis(local: "west", peer: nil, connections: [], findings: findings, skipped: snap.skipped,
                              diagnostics: snap.diagnostics, inputs: snap.inputs, libreswanVersion: nil)
            let outputs = [TextReport(color: false).render(d), JSONReport.render(d), snap.diagnostics.map(\.formatted).joined(separator: "\n")]
            for secret in form.secrets {
                for out in outputs { #expect(!out.contains(secret), "\(file) #\(k): '\(secret)' printed from \(form.lines)") }
            }
        }
    }

    /// The PSK of the capture's own ipsec.secrets, copied where no syntax marks it as secret: in a log line
    /// (read before the secrets file), a connection name, an nft comment, an ipsec.conf value.
    @Test("a value held as a secret anywhere in the capture is masked wherever else it turns up")
    func knownSecretEverywhere() throws {
        let src = "\(Repo.examples)/ikev2-psk-mismatch/west"
        let secretsLine = try String(contentsOfFile: "\(src)/ipsec.secrets", encoding: .utf8).split(separator: "\n")[0]
        let psk = String(secretsLine.split(separator: "\"")[1])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("known-secret-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in try FileManager.default.contentsOfDirectory(atPath: src) {
            var text = try String(contentsOfFile: "\(src)/\(f)", encoding: .utf8)
            switch f {
            case "pluto.log": text = text.replacingOccurrences(of: "\"westnet-eastnet\"", with: "\"\(psk)\"")
            case "nft-ruleset.txt": text = text.replacingOccurrences(of: "accept", with: "accept comment \"\(psk)\"")
            case "ipsec.conf": text = text.replacingOccurrences(of: "conn westnet-eastnet", with: "conn westnet-eastnet\n    leftid=@\(psk)")
            default: break
            }
            try text.write(toFile: "\(dir)/\(f)", atomically: true, encoding: .utf8)
        }
        let snap = SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: "west"))
        let findings = DiagnosisEngine().diagnose(DiagnosisContext(local: snap, peer: snap))
        let d = Diagnosis(local: "west", peer: nil, connections: [], findings: findings, skipped: snap.skipped,
                          diagnostics: snap.diagnostics, inputs: snap.inputs, libreswanVersion: nil)
        var model: [String] = []
        Self.strings(in: snap, into: &model)
        try #require(model.contains { $0.contains("\"<redacted>\" #") }, "the renamed connection's log lines are still read, the name masked")
        for (name, out) in [("text", TextReport(color: false).render(d)), ("JSON", JSONReport.render(d)), ("model", model.joined(separator: "\n"))] {
            #expect(!out.contains(psk), "the capture's PSK reached the \(name)")
        }
    }

    /// Every string anywhere in VALUE (the model, by reflection): what the fuzz oracle checks too.
    static func strings(in value: Any, into out: inout [String]) {
        if let s = value as? any StringProtocol { return out.append(String(s)) }
        for child in Mirror(reflecting: value).children { strings(in: child.value, into: &out) }
    }

    @Test("known secrets: longest match, hub-sized sets, short values left to syntax")
    func knownSecretsMatching() {
        var k = KnownSecrets()
        k.insert("abc")  // shorter than minimumLength: masking every "abc" would destroy evidence
        #expect(k.isEmpty)
        k.insert("lab-psk-1")
        k.insert("lab-psk-10")
        #expect(k.scrub("x lab-psk-10 y lab-psk-1z") == "x <redacted> y <redacted>z")
        #expect(k.scrub("no secret here") == "no secret here")
        for i in 0..<10_000 { k.insert("hub-psk-\(i)-shared-prefix") }
        #expect(k.count == 10_002)
        // A long value is masked wherever 16 bytes of it run: a mangled paste glues it to other text.
        k.insert("Charactelab-psk-0b5e7d1c9a2f48e6")
        #expect(k.scrub("expire adelab-psk-0b5e7d1c9a2f48e6-west\"") == "expire ad<redacted>-west\"")  // `elab-` is its too
        #expect(k.scrub("x lab-psk-0b5e7d1 y") == "x lab-psk-0b5e7d1 y", "15 bytes of it are not enough")
        // A line-sized value (a mangled paste) against a line-sized line of the same bytes: masked, in linear
        // time (whole-value comparison at every position would not end), indexed in its first 64 KiB only.
        var huge = KnownSecrets()
        huge.insert(String(repeating: "a", count: 1 << 19))
        #expect(huge.scrub(String(repeating: "a", count: 1 << 20)) == "<redacted>")
        #expect(k.scrub("\"hub-psk-9999-shared-prefix\" and hub-psk-42-shared-prefix") == "\"<redacted>\" and <redacted>")
        var r = LineRedactor(known: k)
        #expect(r.redact("Nov 23 11:56:28.043771: \"lab-psk-10\" #1: initiating") == "Nov 23 11:56:28.043771: \"<redacted>\" #1: initiating")
        // A mangled secrets line: every piece between its quotes could be the secret.
        var m = LineRedactor()
        _ = m.redact("@west @east : PSK \"first-piece 0x : PSK \"second-piece-value\"")
        #expect(m.known.scrub("second-piece-value") == "<redacted>")
        // A quote-free format's stray quotes: an unclosed last one masks to the end of the line, and what
        // it runs over is known inside quotes; closed pairs keep the text after them.
        #expect(Redactor.maskingQuoted("dev \"a\" x \"lab-psk-unclosed") == "dev \"<quoted>")
        #expect(Redactor.maskingQuoted("dev \"a\" x \"b\" tail") == "dev \"<quoted>\" tail")
        var q = KnownSecrets()
        q.insertQuotedPieces("x \"one-piece\" y \"lab-psk-after-last-quote", quotes: ["\""], outside: false)
        #expect(q.scrub("lab-psk-after-last-quote") == "<redacted>" && q.scrub("one-piece") == "<redacted>")
        #expect(q.scrub("x ") == "x ")
        // A line masked as the secret after `IDs : PSK` that itself ends in `: PSK` (a mangled paste): the
        // secret after it is masked too.
        var n = LineRedactor()
        #expect(n.redact("@west @east : PSK") == "@west @east : PSK")
        #expect(n.redact("junk @east : PSK") == "\"<redacted>\"")
        #expect(n.redact("lab-psk-on-the-third-line") == "\"<redacted>\"")
        #expect(n.redact("src 10.1.0.0/24 dst 10.2.0.0/24") == "src 10.1.0.0/24 dst 10.2.0.0/24")
    }

    @Test("redaction keeps what parsers need, and redacting twice changes nothing")
    func shape() {
        let aead = Redactor.redact("\taead rfc4106(gcm(aes)) 0x0a1b2c3d4e5f60718293a4b5c6d7e8f901234567 (160 bits) 128")
        #expect(aead == "\taead rfc4106(gcm(aes)) 0x<redacted> (160 bits) 128")
        #expect(Redactor.redact("\tproto esp spi 0x00002001(8193) reqid 1(0x00000001) mode tunnel") == "\tproto esp spi 0x00002001(8193) reqid 1(0x00000001) mode tunnel")
        #expect(Redactor.redact("@west @east : psk \"x-secret\"") == "@west @east : psk \"<redacted>\"")
        // A pluto log line whose message starts with a secret kind's word is not a secrets entry.
        let log = "Dec  2 03:05:55.123456: \"westnet-eastnet\" #1: PSK authentication failed"
        #expect(Redactor.redact(Substring(log)) == log)
        #expect(Redactor.redact("title\u{1B}]0;pwned\u{07} and\rCR") == "title\\x1B]0;pwned\\x07 and\\x0DCR")
        for form in SecretFormsTests.forms {
            var once = LineRedactor(), twice = LineRedactor()
            let a = form.lines.map { once.redact(Substring($0)) }
            #expect(a.map { twice.redact(Substring($0)) } == a, "\(form.lines)")
        }
    }
}

/// The text report's own guard, for text that did not come through a LineSource (a file name, a value a
/// rule built): control characters are escaped, and only the report's colour codes stay raw.
@Suite("Text report escapes what it is given")
struct TextReportEscapingTests {
    @Test("a finding's fields with terminal sequences; with and without colour")
    func escapes() {
        let evil = "conn\u{1B}]0;pwned\u{07}\u{1B}[2J"
        let f = Finding(code: "tunnel-down", severity: .error, connection: evil, title: "down \u{9B}31m", explanation: "x\ry",
                        evidence: [], remedy: Remedy(summary: ""), stage: .down)
        let d = Diagnosis(local: "west\u{1B}[5m", peer: nil, connections: [], findings: [f], skipped: [], diagnostics: [],
                          inputs: ["ipsec.conf": .ipsecConf], libreswanVersion: nil)
        for color in [false, true] {
            let out = TextReport(color: color).render(d)
            #expect(!out.contains("\u{07}") && !out.contains("\u{1B}]") && !out.contains("\u{1B}[2J") && !out.contains("\u{9B}") && !out.contains("\r"), "color \(color)")
            #expect(out.contains("\\x1B]0;pwned"), "color \(color)")
            // An SGR sequence from the input is only a colour; the report's own colours are there when asked for.
            #expect(out.contains("\u{1B}[") == color, "color \(color)")
        }
    }
}

import DoctorModel
import Foundation
import Testing

@testable import DoctorParse

@Suite("ipsec.conf and ipsec.secrets")
struct ConfigParsingTests {
    @Test("a real lab ipsec.conf: keys with their lines, leftsubnets split")
    func labConfig() throws {
        let (cfg, diags) = IpsecConfParser.parse(Repo.doc(Repo.example("multi-subnet-tmpl-mismatch", "west", "ipsec.conf")))
        #expect(diags.isEmpty)
        let c = try #require(cfg.connection(named: "westnet-eastnet"))
        #expect(c.subnets(local: true) == ["10.1.0.0/24", "10.1.1.0/24"])
        #expect(c.subnets(local: false) == ["10.2.0.0/24"])
        #expect(c["leftsubnets"]?.source.line == 8)
        #expect(cfg.setup["ikev1-policy"]?.value == "accept")
    }

    @Test("orientation: right is local when right's address is on an interface")
    func orientation() throws {
        let (cfg, _) = IpsecConfParser.parse(
            Repo.doc(Repo.example("ikev2-psk-mismatch", "west", "ipsec.conf")), localAddresses: [IPPrefix("192.0.2.2/24")!])
        let c = try #require(cfg.connections.first)
        #expect(!c.localIsLeft)
        #expect(c.local("id")?.value == "@east")
    }

    @Test("%default, also=, include with globs, quotes, comments, continuation; bad lines are diagnostics")
    func syntax() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("conf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/ipsec.d", withIntermediateDirectories: true)
        try """
            config setup
                plutodebug="all"   # quoted, with a comment
            conn %default
                ikelifetime=8h
                authby=secret
            conn common
                right=192.0.2.2
            this line is garbage
            conn main
                also=common
                left=192.0.2.1
                leftsubnets={10.1.0.0/24, \\
                    10.1.1.0/24}
                rightid="@peer # not a comment"
            include ipsec.d/*.conf
            """.write(toFile: dir + "/ipsec.conf", atomically: true, encoding: .utf8)
        try "conn extra\n    left=192.0.2.1\n    right=192.0.2.9\n".write(toFile: dir + "/ipsec.d/extra.conf", atomically: true, encoding: .utf8)
        let (cfg, diags) = IpsecConfParser.parse(Repo.doc(dir + "/ipsec.conf"))
        let main = try #require(cfg.connection(named: "main"))
        #expect(main["right"]?.value == "192.0.2.2")
        #expect(main["authby"]?.value == "secret")
        #expect(main["ikelifetime"]?.source.line == 4)
        #expect(main.subnets(local: true) == ["10.1.0.0/24", "10.1.1.0/24"])
        #expect(main["rightid"]?.value == "@peer # not a comment")
        #expect(cfg.setup["plutodebug"]?.value == "all")
        #expect(cfg.connection(named: "extra")?["right"]?.value == "192.0.2.9")
        #expect(diags.count == 1)
        #expect(diags.first?.line == 8)
        #expect(diags.first?.formatted.hasSuffix("ipsec.conf:8: warning: cannot parse 'this line is garbage': expected key=value") == true)
    }

    @Test("secrets keep a fingerprint, never the secret")
    func secrets() throws {
        let (west, _) = SecretsParser.parse(Repo.doc(Repo.example("ikev2-psk-mismatch", "west", "ipsec.secrets")))
        let (east, _) = SecretsParser.parse(Repo.doc(Repo.example("ikev2-psk-mismatch", "east", "ipsec.secrets")))
        let w = try #require(west.first)
        let e = try #require(east.first)
        #expect(w.ids == ["@west", "@east"])
        #expect(w.fingerprint != e.fingerprint)
        #expect(w.source.text == "@west @east : PSK \"<redacted>\"")
        #expect(w.matches("@east", "@west"))
    }
}

@Suite("A capture's ipsec.conf cannot reach the analyst's machine, hang or overflow the stack")
struct ConfinedConfigTests {
    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("confined-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/ipsec.d", withIntermediateDirectories: true)
        return dir
    }

    @Test("includes resolve inside the capture, only regular files: /etc/shadow, /dev/zero, a FIFO, ../ are refused")
    func includes() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        include /etc/shadow
        include /dev/zero
        include /etc/ipsec.d/*.conf
        include ../outside-\(URL(fileURLWithPath: dir).lastPathComponent).conf
        """.write(toFile: dir + "/ipsec.conf", atomically: true, encoding: .utf8)
        try "conn inside\n    left=192.0.2.1\n    right=192.0.2.2\n".write(toFile: dir + "/ipsec.d/a.conf", atomically: true, encoding: .utf8)
        #expect(mkfifo(dir + "/ipsec.d/b.conf", 0o600) == 0)
        let outside = (dir as NSString).deletingLastPathComponent + "/outside-\(URL(fileURLWithPath: dir).lastPathComponent).conf"
        try "conn outside\n    left=192.0.2.9\n".write(toFile: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let doc = RawDocument(name: "ipsec.conf", content: .file(path: dir + "/ipsec.conf"), kind: .ipsecConf)
        let (cfg, diags) = IpsecConfParser.parse(doc, confined: true)
        #expect(cfg.connections.map(\.name) == ["inside"])
        let messages = diags.map(\.formatted)
        #expect(messages.contains("ipsec.conf:1: warning: include /etc/shadow: not in the capture (includes of a capture resolve inside it)"), "\(messages)")
        #expect(messages.contains { $0.hasPrefix("ipsec.conf:3: warning: include /etc/ipsec.d/*.conf: ") && $0.hasSuffix("b.conf is not a regular file; not read") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("ipsec.conf:4: warning: include ../outside") && $0.contains("leads out of the capture") }, "\(messages)")
        #expect(!messages.joined().contains("root:"), "a line of /etc/shadow was printed")
    }

    @Test("includes in pasted text (no directory) are not followed")
    func pastedInclude() {
        let doc = RawDocument(name: "session.txt", content: .text("include /etc/passwd\nconn x\n    left=192.0.2.1\n"), kind: .ipsecConf)
        let (cfg, diags) = IpsecConfParser.parse(doc, confined: true)
        #expect(cfg.connections.map(\.name) == ["x"])
        #expect(diags.map(\.formatted) == ["session.txt:1: warning: include /etc/passwd: not followed (pasted text; give the capture directory instead)"])
    }

    @Test("a 30,000-deep also= chain expands without recursion; a cycle ends")
    func deepAlso() throws {
        var text = ""
        let depth = 30_000
        for i in 0..<depth { text += "conn c\(i)\n    also=c\(i + 1)\n" }
        text += "conn c\(depth)\n    leftid=@deep\n    left=192.0.2.1\n"
        text += "conn loop-a\n    also=loop-b\n    right=192.0.2.2\nconn loop-b\n    also=loop-a\n    leftid=@loop\n"
        let (cfg, _) = IpsecConfParser.parse(RawDocument(name: "ipsec.conf", content: .text(text), kind: .ipsecConf))
        #expect(cfg.connection(named: "c0")?["leftid"]?.value == "@deep")
        #expect(cfg.connection(named: "c\(depth / 2)")?["left"]?.value == "192.0.2.1")
        #expect(cfg.connection(named: "loop-a")?["leftid"]?.value == "@loop")
        #expect(cfg.connection(named: "loop-b")?["right"]?.value == "192.0.2.2")
    }
}

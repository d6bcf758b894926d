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

import DoctorModel
import DoctorParse
import Foundation
import Testing

@testable import DoctorRules

@Suite("Rule catalog: every rule against its own real examples")
struct RuleCatalogTests {
    @Test("codes are unique, kebab-case, and every rule has both kinds of examples")
    func catalog() {
        let codes = RuleCatalog.all.map { $0.code }
        #expect(Set(codes).count == codes.count)
        for rule in RuleCatalog.all {
            #expect(rule.code.rawValue.allSatisfy { $0.isLowercase || $0 == "-" }, "\(rule.code)")
            #expect(rule.examples.contains { $0.triggers }, "\(rule.code) has no triggering example")
            #expect(rule.examples.contains { !$0.triggers }, "\(rule.code) has no non-triggering example")
        }
    }

    @Test("the issue's required codes all exist")
    func requiredCodes() {
        let required = [
            "tunnel-down", "peer-ike-not-running", "peer-unreachable", "ike-version-mismatch", "ike-proposal-mismatch",
            "esp-proposal-mismatch", "ts-mismatch", "psk-mismatch", "auth-failed", "id-mismatch", "dpd-timeout",
            "kernel-sa-install-failed", "missing-policy", "missing-sa", "nat-before-ipsec", "mtu-blackhole", "xfrm-counter",
            "multi-subnet-tmpl-mismatch", "debug-logging",
        ]
        #expect(Set(required.map(FindingCode.init(rawValue:))).isSubset(of: Set(RuleCatalog.all.map { $0.code })))
    }

    @Test("docs/findings.md holds exactly the table the catalog generates")
    func docsCurrent() throws {
        let doc = try String(contentsOfFile: Repo.root + "/docs/findings.md", encoding: .utf8)
        // The table is the run of lines from its header to the first line that is not a table row.
        let lines = doc.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("| code |") }, "docs/findings.md has no code table")
        let rows = lines[start...].prefix { $0.hasPrefix("|") }
        let committed = rows.joined(separator: "\n") + "\n"
        #expect(committed == RuleCatalog.markdownTable(), "docs/findings.md is stale: swift run ipsec-doctor codes --markdown")
    }

    @Test("every rule under Sources/DoctorRules/Rules is in the catalog, once, and every code it explains exists")
    func catalogComplete() throws {
        let dir = Repo.root + "/Sources/DoctorRules/Rules"
        var declared: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir) where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: "\(dir)/\(file)", encoding: .utf8)
            // `struct PSKMismatch: Rule {` (possibly `Rule, Sendable`).
            for line in text.split(separator: "\n") where line.contains(": Rule") {
                guard let r = line.range(of: "struct ") else { continue }
                declared.append(String(line[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }))
            }
        }
        let listed = RuleCatalog.all.map { String(describing: $0) }
        #expect(!declared.isEmpty)
        #expect(Set(declared) == Set(listed), "declared but not in RuleCatalog.all: \(Set(declared).subtracting(listed).sorted()); listed but not declared: \(Set(listed).subtracting(declared).sorted())")
        #expect(listed.count == Set(listed).count, "a rule is listed twice in RuleCatalog.all")
        let codes = Set(RuleCatalog.all.map { $0.code })
        for rule in RuleCatalog.all {
            for code in rule.explains {
                #expect(codes.contains(code), "\(rule.code) explains \(code), which no rule produces")
                #expect(code != rule.code, "\(rule.code) explains itself")
            }
        }
    }

    static let cases: [(FindingCode, RuleExample)] = RuleCatalog.all.flatMap { r in r.examples.map { (r.code, $0) } }

    @Test("rule examples", arguments: 0..<cases.count)
    func example(_ i: Int) throws {
        let (code, ex) = Self.cases[i]
        let rule = try #require(RuleCatalog.all.first { $0.code == code })
        let dir = "\(Repo.examples)/\(ex.scenario)/\(ex.side)"
        try #require(FileManager.default.fileExists(atPath: dir), "missing lab capture \(dir): run scripts/lab/lab.sh capture examples")
        let ctx = Repo.context(ex.scenario, ex.side, withPeer: ex.withPeer)
        let found = rule.init().evaluate(ctx).filter { $0.code == code }
        let label = "\(code) on \(ex.scenario)/\(ex.side)\(ex.withPeer ? " --peer" : "")"
        if ex.triggers {
            #expect(!found.isEmpty, "\(label) should trigger")
            if let cites = ex.cites {
                // The cited line's text, not its file name: `cites: "ping"` must not be met by `ping.txt`.
                #expect(found.contains { $0.evidence.contains { $0.text.contains(cites) } }, "\(label) should cite a line containing '\(cites)'")
            }
            for f in found {
                #expect(!f.evidence.isEmpty, "\(label): a finding without evidence")
                #expect(!f.remedy.steps.isEmpty, "\(label): a finding without remedy steps")
            }
        } else {
            #expect(found.isEmpty, "\(label) should not trigger: \(found.map(\.title))")
        }
    }
}

@Suite("ESP overhead matches the kernel's measured numbers (reference §5.3)")
struct ESPOverheadTests {
    func o(_ iv: Int, _ icv: Int, _ b: Int, tunnel: Bool = true, v6: Bool = false, natT: Bool = false) -> ESPOverhead {
        ESPOverhead(ivBytes: iv, icvBytes: icv, blockBytes: b, tunnel: tunnel, ipv6: v6, natT: natT, algorithm: "")
    }

    @Test func measured() {
        #expect(o(8, 16, 4).maxInner(pathMTU: 1500) == 1446)  // IPv4 tunnel AES-GCM-16
        #expect(o(8, 12, 4).maxInner(pathMTU: 1500) == 1450)  // GCM-12
        #expect(o(16, 12, 16).maxInner(pathMTU: 1500) == 1438)  // AES-CBC + SHA1-96
        #expect(o(16, 16, 16).maxInner(pathMTU: 1500) == 1438)  // AES-CBC + SHA256-128
        #expect(o(16, 32, 16).maxInner(pathMTU: 1500) == 1422)  // AES-CBC + SHA512-256
        #expect(o(8, 12, 8).maxInner(pathMTU: 1500) == 1446)  // 3DES + SHA1
        #expect(o(8, 16, 4, natT: true).maxInner(pathMTU: 1500) == 1438)  // NAT-T GCM
        #expect(o(16, 16, 16, natT: true).maxInner(pathMTU: 1500) == 1422)  // NAT-T CBC+SHA256
        #expect(o(8, 16, 4, tunnel: false).maxInner(pathMTU: 1500) == 1466)  // IPv4 transport GCM
        #expect(o(8, 16, 4, v6: true).maxInner(pathMTU: 1500) == 1426)  // IPv6 tunnel GCM
        #expect(o(16, 16, 16, v6: true).maxInner(pathMTU: 1500) == 1406)  // IPv6 tunnel CBC+SHA256
        #expect(o(8, 16, 4).outerSize(inner: 1446) == 1500)
        #expect(o(16, 12, 16).outerSize(inner: 1438) == 1496)
    }

    @Test("the real NAT-T SA of the natt-healthy capture gives the kernel's NAT-T number")
    func fromRealNATTState() throws {
        let snap = Repo.snapshot("natt-healthy", "west")
        let out = try #require(snap.states?.first { $0.dst == "192.0.2.2" })
        #expect(out.encapType == "espinudp")
        let o = try #require(ESPOverhead.from(state: out))
        #expect(o.natT && o.tunnel && !o.ipv6)
        #expect(o.maxInner(pathMTU: 1500) == 1438)
    }

    @Test func fromLibreswanTransform() {
        #expect(ESPOverhead.from(libreswanXfrm: "AES_GCM_16_256-NONE").maxInner(pathMTU: 1500) == 1446)
        #expect(ESPOverhead.from(libreswanXfrm: "AES_CBC_128-HMAC_SHA1_96").maxInner(pathMTU: 1500) == 1438)
        #expect(ESPOverhead.from(libreswanXfrm: "AES_CBC_256-HMAC_SHA2_512_256").maxInner(pathMTU: 1500) == 1422)
    }
}

@Suite("Root-cause ordering")
struct EngineTests {
    func f(_ code: FindingCode, _ conn: String?, _ sev: Severity, _ stage: Stage, symptom: Bool = false) -> Finding {
        Finding(code: code, severity: sev, connection: conn, title: code.rawValue, explanation: "", evidence: [], remedy: Remedy(summary: ""), stage: stage, isSymptom: symptom)
    }

    @Test("the earliest failure leads; symptoms attach to it; host-wide symptoms join the failing connection")
    func ranking() {
        let out = DiagnosisEngine.rank([
            f("tunnel-down", "c", .error, .down, symptom: true),
            f("xfrm-counter", nil, .error, .counters, symptom: true),
            f("esp-proposal-mismatch", "c", .error, .childProposal),
            f("psk-mismatch", "c", .error, .sharedSecret),
        ])
        #expect(out.map(\.code) == ["psk-mismatch", "esp-proposal-mismatch"])
        #expect(out.first?.symptoms.map(\.code) == ["xfrm-counter", "tunnel-down"])
    }

    @Test("two connections on one gateway (real capture): the failing one leads, the healthy one has no finding")
    func perConnection() {
        let ctx = Repo.context("two-connections", "west", withPeer: true)
        let out = DiagnosisEngine().diagnose(ctx)
        #expect(out.first?.code == "esp-proposal-mismatch")
        #expect(out.first?.connection == "lab")
        #expect(!out.contains { $0.connection == "office" })
        #expect(ctx.isUp("office") == true)
        #expect(ctx.isUp("lab") == false)
    }

    @Test("a cause that explains another (firewall -> peer-unreachable) takes it as a symptom")
    func explains() {
        let out = DiagnosisEngine.rank([
            f("peer-unreachable", "c", .error, .reachability),
            f("firewall-blocks-ike", "c", .error, .hostFirewall),
        ])
        #expect(out.map(\.code) == ["firewall-blocks-ike"])
        #expect(out.first?.symptoms.map(\.code) == ["peer-unreachable"])
        #expect(out.first?.symptoms.first?.isSymptom == true)
    }

    @Test("--peer: the peer's own problem (its pluto is down) leads, marked side=peer, remedy on the peer")
    func peerSide() throws {
        let out = DiagnosisEngine().diagnose(Repo.context("peer-ike-not-running", "west", withPeer: true))
        let lead = try #require(out.first)
        #expect(lead.code == "pluto-not-running")
        #expect(lead.side == "peer")
        #expect(lead.connection == "westnet-eastnet")
        #expect(lead.remedy.steps.allSatisfy { $0.end == .peer })
        #expect(lead.symptoms.map(\.code).contains("peer-ike-not-running"))
        // Without --peer the same capture leads with what this end sees.
        #expect(DiagnosisEngine().diagnose(Repo.context("peer-ike-not-running", "west", withPeer: false)).first?.code == "peer-ike-not-running")
    }

    /// A rule for a firewall the host does not run fails when pasted: the capture decides the tool.
    @Test("firewall remedies are written for the firewall each end's capture shows")
    func firewallOfTheCapture() throws {
        func commands(_ scenario: String, peer: Bool, end: End) throws -> [String] {
            let lead = try #require(DiagnosisEngine().diagnose(Repo.context(scenario, "west", withPeer: peer)).first)
            return (lead.remedy.steps + lead.symptoms.flatMap(\.remedy.steps)).filter { $0.end == end }.compactMap(\.command)
        }
        // mtu-blackhole: west captured iptables-save only; the MSS clamp is iptables there, and both forms for
        // the peer whose firewall is unknown.
        let west = try commands("mtu-blackhole", peer: false, end: .local)
        #expect(west.contains { $0.hasPrefix("iptables -t mangle") } && !west.contains { $0.hasPrefix("nft ") }, "\(west)")
        let unknownPeer = try commands("mtu-blackhole", peer: false, end: .peer)
        #expect(unknownPeer.contains { $0.hasPrefix("nft add table") } && unknownPeer.contains { $0.hasPrefix("iptables") })
        // peer-unreachable with --peer: east's nft chain that drops is where the accept goes.
        let east = try commands("peer-unreachable", peer: true, end: .peer)
        // Only the peer's firewall drops: the finding is the peer's (JSON side).
        #expect(DiagnosisEngine().diagnose(Repo.context("peer-unreachable", "west", withPeer: true)).first?.side == "peer")
        #expect(east.contains { $0.hasPrefix("nft insert rule inet filter input") } && !east.contains { $0.hasPrefix("iptables") }, "\(east)")
    }

    @Test("with nothing else wrong, a rising counter is itself the lead")
    func counterAlone() {
        let out = DiagnosisEngine.rank([f("xfrm-counter", nil, .error, .counters, symptom: true)])
        #expect(out.map(\.code) == ["xfrm-counter"])
        #expect(out.first?.isSymptom == false, "a lead is never marked a symptom")
    }
}

@Suite("PSK lookup by ID")
struct PSKIndexTests {
    /// ipsec.secrets(5): the entry naming both IDs wins over `%any` and over one naming one ID, whatever the
    /// order; a hub's 10,000 entries are looked up, not scanned (the answer must not change).
    @Test("the entry naming both IDs wins; wildcards and single IDs stand in")
    func choice() {
        let conf = RawDocument(name: "ipsec.conf", content: .text("""
            conn a
                left=192.0.2.1
                leftid=@west
                right=192.0.2.2
                rightid=@east
                authby=secret
            conn b
                left=192.0.2.1
                leftid=@west
                right=192.0.2.9
                rightid=@other
                authby=secret
            conn c
                left=192.0.2.1
                leftid=@nobody
                right=192.0.2.7
                authby=secret
            """), kind: .ipsecConf)
        let secrets = RawDocument(name: "ipsec.secrets", content: .text("""
            %any : PSK "wildcard-secret"
            @west : PSK "west-only-secret"
            @west @east : PSK "pair-secret"
            """), kind: .ipsecSecrets)
        let (cfg, _) = IpsecConfParser.parse(conf, localAddresses: [IPPrefix("192.0.2.1")!], confined: true)
        let (entries, _) = SecretsParser.parse(secrets)
        let index = PSKIndex(entries)
        let conn = { (n: String) in cfg.connections.first { $0.name == n } }
        #expect(index.entry(for: conn("a"))?.source.line == 3)
        #expect(index.entry(for: conn("b"))?.source.line == 1, "%any matches first when no entry names both")
        #expect(index.entry(for: conn("c"))?.source.line == 1)
        #expect(PSKIndex(Array(entries.dropFirst())).entry(for: conn("b"))?.source.line == 2, "one ID stands in")
    }
}

@Suite("Remedy commands run on real input")
struct RemedyCommandTests {
    /// XfrmCounter's watch pipeline, run by sh on every capture's xfrm_stat.txt (the kernel's own text, tab
    /// separated): it prints exactly the counters that are not zero.
    @Test("the non-zero counter filter filters, on every captured xfrm_stat")
    func nonZeroCounters() throws {
        var checked = 0
        for scenario in Repo.scenarios {
            for side in ["west", "east"] {
                let path = "\(Repo.examples)/\(scenario)/\(side)/xfrm_stat.txt"
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
                let expected = text.split(separator: "\n").filter { $0.split(whereSeparator: \.isWhitespace).last != "0" }.map(String.init)
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/sh")
                p.arguments = ["-c", XfrmCounter.nonZeroCounters.replacingOccurrences(of: "/proc/net/xfrm_stat", with: path)]
                let out = Pipe()
                p.standardOutput = out
                try p.run()
                let data = out.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                #expect(p.terminationStatus == 0)
                #expect(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init) == expected, "\(scenario)/\(side)")
                checked += 1
            }
        }
        #expect(checked > 20)
    }
}

@Suite("Stated counts match the cited lines")
struct StatedCountTests {
    /// The lab capture holds the same retransmissions in ipsec-up.txt and pluto.log: the explanation's count
    /// is the one the cited timeout line states, not the sum of both files.
    @Test("peer-unreachable: 'sent N more time(s)' is the cited 'after N retransmits'")
    func retransmits() throws {
        let f = try #require(DiagnosisEngine().diagnose(Repo.context("peer-unreachable", "west", withPeer: false)).first { $0.code == "peer-unreachable" })
        let cited = try #require(f.evidence.first { $0.text.contains("retransmits") }?.text)
        let n = try #require(cited.range(of: "after ").map { cited[$0.upperBound...].prefix(while: \.isNumber) })
        #expect(f.explanation.contains("sent \(n) more time(s)"), "\(f.explanation)")
    }
}

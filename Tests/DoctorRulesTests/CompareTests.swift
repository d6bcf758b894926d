import DoctorCore
import DoctorModel
import DoctorCollect
import DoctorParse
import DoctorReport
import Foundation
import Testing

@testable import DoctorRules

/// `compare` against the real negotiation: the lab ran each pair of configurations with real daemons, and
/// the two-end diagnosis of that run (expect.json, `west --peer east`) is what happened.
@Suite("compare predicts what the real negotiation did")
struct CompareTests {
    /// The codes a pair of configurations decides (the rest come from kernels, firewalls, paths, daemons).
    static let configCodes: Set<String> = [
        "ike-version-mismatch", "ike-proposal-mismatch", "auth-failed", "id-mismatch", "psk-mismatch",
        "esp-proposal-mismatch", "ts-mismatch", "shared-reqid", "multi-subnet-tmpl-mismatch",
    ]

    struct Expect: Decodable {
        struct Case: Decodable {
            var args: [String]
            var firstCode: String
        }
        var cases: [Case]
    }

    /// The code the real negotiation produced, as the two-end diagnosis of the lab's capture names it.
    static func realCode(_ scenario: String) -> String? {
        guard let data = FileManager.default.contents(atPath: "\(Repo.examples)/\(scenario)/expect.json"),
            let e = try? JSONDecoder().decode(Expect.self, from: data)
        else { return nil }
        return e.cases.first { $0.args == ["west", "--peer", "east"] }.map { $0.firstCode.isEmpty ? "ok" : $0.firstCode }
    }

    @Test("every two-end lab scenario: a configuration cause is predicted exactly, anything else is no error")
    func labScenarios() throws {
        var exact = 0
        for scenario in Repo.scenarios where FileManager.default.fileExists(atPath: "\(Repo.examples)/\(scenario)/east/ipsec.conf") {
            guard let real = Self.realCode(scenario) else { continue }
            let result = ConfigComparison.compare(Repo.snapshot(scenario, "west"), Repo.snapshot(scenario, "east"))
            #expect(result.unpaired.isEmpty, "\(scenario): \(result.unpaired)")
            #expect(result.problems.isEmpty, "\(scenario): \(result.problems)")
            let verdicts = result.pairs.map(\.verdict)
            if Self.configCodes.contains(real) || real == "ok" {
                // A scenario with two connections fails on one of them: that one's verdict is the real code.
                #expect(verdicts.contains(real) && verdicts.allSatisfy { $0 == real || $0 == "ok" }, "\(scenario): predicted \(verdicts), the negotiation gave \(real)")
                exact += 1
            } else {
                let errors = result.pairs.flatMap(\.findings).filter { $0.severity == .error }.map(\.code)
                #expect(errors.isEmpty, "\(scenario): the configurations agree, the failure was \(real); compare says \(errors)")
            }
            // Every cited line is a real line of its file.
            for f in result.pairs.flatMap(\.findings) {
                for e in f.evidence where !e.text.contains("<redacted>") {
                    let lines = try String(contentsOfFile: e.file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                    #expect(e.line >= 1 && e.line <= lines.count && String(lines[e.line - 1]) == e.text, "\(scenario): \(e.cited)")
                }
            }
        }
        #expect(exact >= 19, "\(exact) scenarios with a configuration cause or healthy")
    }

    @Test("the IKE version fix in the version's own words: ikev2=insist for 3.x/4.x, keyexchange=ikev2 for 5.x")
    func versionKeyword() throws {
        var west = Repo.snapshot("ike-version-mismatch", "west")
        let east = Repo.snapshot("ike-version-mismatch", "east")
        let adds = { (w: EndpointSnapshot) in ConfigComparison.compare(w, east).pairs.flatMap(\.findings).flatMap(\.remedy.steps).flatMap(\.add) }
        #expect(adds(west).contains("ikev2=insist"), "\(adds(west))")
        west.libreswanVersion = "Libreswan 5.2"
        #expect(adds(west).contains("keyexchange=ikev2"), "\(adds(west))")
    }

    @Test("both orders: comparing east with west gives the same verdicts")
    func symmetric() throws {
        for scenario in ["ikev2-ike-proposal-mismatch", "ikev1-id-mismatch", "ikev2-ts-mismatch", "ike-version-mismatch", "fixed-reqid-one-end", "healthy"] {
            let ab = ConfigComparison.compare(Repo.snapshot(scenario, "west"), Repo.snapshot(scenario, "east")).pairs.map(\.verdict)
            let ba = ConfigComparison.compare(Repo.snapshot(scenario, "east"), Repo.snapshot(scenario, "west")).pairs.map(\.verdict)
            #expect(ab == ba, "\(scenario): \(ab) vs \(ba)")
        }
    }

    @Test("a symmetric config copied to both gateways (both say left=west) pairs the right way round")
    func copiedConfig() throws {
        let dir = try Repo.scratchCopy("healthy", "west", "compare-copied")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The east end's capture holding west's file unchanged, as a shared config repository would.
        let east = try Repo.scratchCopy("healthy", "east", "compare-copied-east")
        defer { try? FileManager.default.removeItem(atPath: east) }
        try FileManager.default.removeItem(atPath: east + "/ipsec.conf")
        try FileManager.default.copyItem(atPath: dir + "/ipsec.conf", toPath: east + "/ipsec.conf")
        let load = { (p: String) in SnapshotBuilder.build(SnapshotLoader.load(paths: [p + "/ipsec.conf", p + "/ipsec.secrets", p + "/ip-addr.txt"])) }
        let result = ConfigComparison.compare(load(dir), load(east))
        #expect(result.pairs.map(\.verdict) == ["ok"], "\(result.pairs.flatMap(\.findings).map(\.title))")
    }

    /// `ipsec algparse` of the installed Libreswan, as a set of (encryption, PRF or integrity, group) tuples.
    static func algparse(_ value: String, ikev2: Bool) throws -> Set<[String]>? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["10", "/usr/sbin/ipsec", "algparse", ikev2 ? "-v2" : "-v1", value]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus != 0 || text.contains("ERROR") { return nil }
        var tuples: Set<[String]> = []
        for line in text.split(separator: "\n") where line.hasPrefix("\t") {
            let parts = line.trimmingCharacters(in: .whitespaces).split(separator: "-").map { $0.split(separator: "+").map(String.init) }
            tuples.formUnion(product(value.hasPrefix("ike") ? parts : Array(parts.prefix(2))))
        }
        return tuples
    }

    static func product(_ parts: [[String]]) -> Set<[String]> {
        parts.reduce(Set([[String]]([[]]))) { acc, choices in Set(acc.flatMap { prefix in choices.map { prefix + [$0] } }) }
    }

    static func tuples(_ proposals: [Proposal], ike: Bool) -> Set<[String]> {
        Set(proposals.flatMap { p in product(ike ? [p.encryption, p.prf, p.dh] : [p.encryption, p.integrity]) })
    }

    @Test("proposal expansion equals the installed `ipsec algparse`, on every value the captures and the corpus hold and more",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/ipsec"), "needs libreswan"))
    func expansionEqualsAlgparse() throws {
        var values: Set<String> = [
            "ike", "esp", "ike=aes", "ike=aes256", "ike=aes_gcm", "ike=aes_gcm256-sha2_512", "ike=aes128-sha1;modp2048",
            "ike=aes256-sha2_256-modp2048", "ike=aes256-sha2;dh19+dh20", "ike=aes_gcm_c256-sha2_384;ecp384",
            "ike=3des-sha1;modp1536", "ike=aes-sha2_512+sha2_256;dh31", "ike=chacha20_poly1305-sha2_256;dh19",
            "ike=aes256-sha2_512;dh20,aes128-sha2_256;modp2048", "esp=aes", "esp=aes_gcm", "esp=aes_gcm128",
            "esp=aes256-sha2_512", "esp=aes128-sha1", "esp=aes-sha2_256+sha2_512", "esp=3des-md5", "esp=aes_ctr256-sha2_256",
            "esp=chacha20_poly1305", "esp=aes_gcm256,aes128-sha2_256", "esp=aes256-sha2_384", "esp=aes-aes_xcbc",
        ]
        // Every value the lab captures and the corpus transcripts use.
        let grep = Process()
        grep.executableURL = URL(fileURLWithPath: "/bin/sh")
        grep.arguments = ["-c", "grep -rhoE '\\b(ike|esp|phase2alg)=[A-Za-z0-9_;+,-]+' '\(Repo.examples)' '\(Repo.root)/Tests/corpus' | sed 's/[,;]$//' | sort -u"]
        let out = Pipe()
        grep.standardOutput = out
        try grep.run()
        let found = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        grep.waitUntilExit()
        values.formUnion(found.split(separator: "\n").map { $0.replacingOccurrences(of: "phase2alg=", with: "esp=") })
        var compared = 0
        for value in values.sorted() {
            for ikev2 in [true, false] {
                let ike = value.hasPrefix("ike")
                let raw = value.split(separator: "=", maxSplits: 1).dropFirst().first.map(String.init)
                let ours = try? LibreswanProposals.expand(raw, ike ? .ike : .esp, ikev2: ikev2, major: 4)
                let theirs = try Self.algparse(value, ikev2: ikev2)
                guard let theirs else {
                    // algparse rejects it (modp1024 in IKEv2, AEAD+integrity, ...): accepting it is our leniency
                    // (the check is on what the daemon would use), not a wrong expansion.
                    continue
                }
                let mine = try #require(ours, "\(value) (\(ikev2 ? "IKEv2" : "IKEv1")): algparse reads it, we do not")
                #expect(Self.tuples(mine, ike: ike) == theirs, "\(value) (\(ikev2 ? "IKEv2" : "IKEv1")): ours \(mine.map(\.description)), algparse \(theirs.count) tuples: \(theirs.sorted { $0.joined() < $1.joined() }.prefix(6))")
                compared += 1
            }
        }
        #expect(compared >= 40, "\(compared) values compared with algparse")
    }

    /// The first half of the closed loop (the lab restarting the pair is the second): every ipsec.conf change
    /// compare proposes, applied to copies of both ends, leaves a pair compare finds no error in, and the
    /// changed files still pass `ipsec addconn --checkconfig` (RemedyProofTests checks that part).
    /// What the lab's closed loop runs: scripts/lab/apply-fix.py on a tool's JSON, in place.
    static func applyFix(_ json: String, _ tag: String) throws -> (Int32, String) {
        let doc = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(getpid()).json").path
        try json.write(toFile: doc, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: doc) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Repo.root + "/scripts/lab/apply-fix.py", doc]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// The configuration-caused scenarios whose fix is a change nobody needs a secret for.
    static var fixable: [String] {
        Repo.scenarios.filter { scenario in
            guard FileManager.default.fileExists(atPath: "\(Repo.examples)/\(scenario)/east/ipsec.conf"), let real = realCode(scenario) else { return false }
            return configCodes.contains(real) && real != "psk-mismatch" && real != "multi-subnet-tmpl-mismatch"
        }
    }

    /// One round of a tool's fix on copies of both ends (as the lab applies it), then compare on the result.
    static func afterFix(_ scenario: String, by name: String, _ tool: (String, String) throws -> String) throws -> [Finding] {
        // A directory of its own per tool and scenario: the tests run in parallel.
        let copies = try ["west", "east"].map { try Repo.scratchCopy(scenario, $0, "\(name)-fix-\(scenario)-\($0)") }
        defer { for c in copies { try? FileManager.default.removeItem(atPath: c) } }
        let (status, out) = try applyFix(try tool(copies[0], copies[1]), "\(name)-fix-\(scenario)")
        #expect(status == 0, "\(scenario): apply-fix.py: \(out)")
        let load = { (dir: String) in SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: (dir as NSString).lastPathComponent)) }
        return ConfigComparison.compare(load(copies[0]), load(copies[1])).pairs.flatMap(\.findings)
    }

    @Test("compare's fixes, applied to both ends' copies by the lab's apply-fix.py, leave no error")
    func fixesResolve() throws {
        var fixed = 0
        for scenario in Self.fixable {
            let errors = try Self.afterFix(scenario, by: "compare") { west, east in
                let load = { (dir: String) in SnapshotBuilder.build(SnapshotLoader.load(paths: [dir], label: (dir as NSString).lastPathComponent)) }
                return CompareReport.json(ConfigComparison.compare(load(west), load(east)), local: "west", peer: "east", toolVersion: "test")
            }.filter { $0.severity == .error }
            #expect(errors.isEmpty, "\(scenario): after compare's fixes: \(errors.map { "\($0.code): \($0.title)" })")
            fixed += 1
        }
        #expect(fixed >= 12, "\(fixed) scenarios fixed")
    }

    /// The same for diagnose: the config remedies of `diagnose --peer` on the failing pair's capture.
    @Test("diagnose's config remedies, applied to both ends' copies by apply-fix.py, leave compare no error")
    func diagnoseFixesResolve() throws {
        var fixed = 0
        for scenario in Self.fixable {
            let errors = try Self.afterFix(scenario, by: "diagnose") { west, east in
                JSONReport.render(try DoctorCore.diagnose(.captured([west]), peer: [east]).diagnosis)
            }.filter { $0.severity == .error }
            #expect(errors.isEmpty, "\(scenario): after diagnose's fixes: \(errors.map { "\($0.code): \($0.title)" })")
            fixed += 1
        }
        #expect(fixed >= 12, "\(fixed) scenarios fixed")
    }
}

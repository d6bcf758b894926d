import DoctorCollect
import DoctorModel
import DoctorParse
import Foundation
import Testing

@testable import DoctorRules

/// The rule contract: each rule's code, rung and declared inputs are what it really does, on its own examples.
@Suite("Rule contract: codes, stages and declared inputs hold on the real examples")
struct RuleContractTests {
    /// A lab capture with only the inputs of some kinds (the layout names the kind of every file there).
    static func context(_ ex: RuleExample, keeping keep: (InputKind) -> Bool) -> DiagnosisContext {
        func snap(_ side: String) -> EndpointSnapshot {
            var collected = SnapshotLoader.load(paths: ["\(Repo.examples)/\(ex.scenario)/\(side)"], label: side)
            collected.documents = collected.documents.filter { $0.kind.map(keep) ?? false }
            return SnapshotBuilder.build(collected)
        }
        return DiagnosisContext(local: snap(ex.side), peer: ex.withPeer ? snap(ex.side == "west" ? "east" : "west") : nil)
    }

    static let triggering: [(FindingCode, RuleExample)] = RuleCatalog.all.flatMap { r in r.examples.filter(\.triggers).map { (r.code, $0) } }

    static func rule(_ code: FindingCode) -> (any Rule.Type)? { RuleCatalog.all.first { $0.code == code } }

    @Test("the catalog is in ladder order, and its codes are exactly FindingCode.all")
    func ladder() {
        let stages = RuleCatalog.all.map { $0.stage }
        #expect(stages == stages.sorted(), "RuleCatalog.all is not in stage order: \(RuleCatalog.all.map { "\($0.code):\($0.stage)" })")
        #expect(Set(RuleCatalog.all.map { $0.code }) == Set(FindingCode.all))
        #expect(FindingCode.all.count == Set(FindingCode.all).count)
    }

    @Test("every finding a rule makes on its examples carries the rule's code and stage")
    func codeAndStage() {
        for rule in RuleCatalog.all {
            for ex in rule.examples {
                for f in rule.init().evaluate(Repo.context(ex.scenario, ex.side, withPeer: ex.withPeer)) {
                    #expect(f.code == rule.code, "\(rule.code) on \(ex.scenario)/\(ex.side) made \(f.code)")
                    // Advice (severity info) may sit at the bottom of the ladder whatever the rule's rung.
                    #expect(f.stage == rule.stage || (f.severity == .info && f.stage == .advice), "\(rule.code): stage \(f.stage)")
                }
            }
        }
    }

    /// Sufficient: the kinds a rule declares are all it needs to find what it finds on each triggering example.
    @Test("declared inputs are enough: each triggering example still triggers with only them", arguments: 0..<triggering.count)
    func sufficient(_ i: Int) throws {
        let (code, ex) = Self.triggering[i]
        let rule = try #require(Self.rule(code))
        // meta.json says which Libreswan version wrote the capture; it is never what a finding rests on.
        let declared = Set(rule.needs.flatMap(\.kinds) + [.meta])
        let ctx = Self.context(ex, keeping: { rule.needs.isEmpty || declared.contains($0) })
        #expect(!rule.init().evaluate(ctx).filter { $0.code == code }.isEmpty,
                "\(code) on \(ex.scenario)/\(ex.side)\(ex.withPeer ? " --peer" : ""): does not trigger with only \(declared.map(\.id).sorted()); it reads an input it does not declare")
    }

    /// Necessary: without any kind of one need, the rule finds nothing, so the engine's skip hides nothing,
    /// and the engine says it did not check it.
    @Test("declared inputs are needed: without one the rule finds nothing, and the engine says not checked", arguments: 0..<triggering.count)
    func necessary(_ i: Int) throws {
        let (code, ex) = Self.triggering[i]
        let rule = try #require(Self.rule(code))
        for need in rule.needs {
            let ctx = Self.context(ex, keeping: { !need.kinds.contains($0) })
            #expect(rule.init().evaluate(ctx).filter { $0.code == code }.isEmpty,
                    "\(code) on \(ex.scenario)/\(ex.side): still triggers without \(need); the need is not one")
            let result = DiagnosisEngine().run(ctx)
            #expect(result.notChecked.contains { $0.code == code && $0.missing.contains(need.description) }, "\(code): not reported as not checked")
            #expect(!result.findings.contains { $0.code == code }, "\(code): found though not checked")
        }
    }

    /// Rules read the typed model (ctx.connection / ctx.peerConnection) and write Settings; the daemon's keys
    /// (left/right, subnet/subnets, ikev2=/keyexchange=) are the adapter's alone.
    @Test("no rule reads the daemon's configuration keys")
    func typedModelOnly() throws {
        let dir = Repo.root + "/Sources/DoctorRules/Rules"
        let banned = ["ctx.config(", "peerConfig(", ".local(\"", ".remote(\"", "localKey(", "remoteKey(", "ConnectionConfig", "config?.connections", "config.connections"]
        var hits: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: dir) where file.hasSuffix(".swift") {
            let lines = try String(contentsOfFile: "\(dir)/\(file)", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in lines.enumerated() where banned.contains(where: { line.contains($0) }) { hits.append("\(file):\(i + 1): \(line.trimmingCharacters(in: .whitespaces))") }
        }
        #expect(hits.isEmpty, "rules reading config keys:\n\(hits.joined(separator: "\n"))")
    }

    @Test("a full capture leaves nothing unchecked that it could check; a pasted line leaves the data path unchecked")
    func notCheckedReported() throws {
        let full = DiagnosisEngine().run(Repo.context("mtu-blackhole", "west", withPeer: false))
        #expect(!full.notChecked.contains { $0.code == .missingSA || $0.code == .mtuBlackhole }, "\(full.notChecked.map(\.code))")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // One real line of a lab capture's log (examples/ikev2-psk-mismatch/west/pluto.log).
        let log = try String(contentsOfFile: Repo.examples + "/ikev2-psk-mismatch/west/pluto.log", encoding: .utf8)
        let line = try #require(log.split(separator: "\n").first { $0.contains("AUTHENTICATION_FAILED") })
        try (line + "\n").write(toFile: dir + "/paste.txt", atomically: false, encoding: .utf8)
        let paste = DiagnosisEngine().run(DiagnosisContext(local: SnapshotBuilder.build(SnapshotLoader.load(paths: [dir + "/paste.txt"], label: "paste"))))
        let skipped = Set(paste.notChecked.map(\.code))
        #expect(skipped.isSuperset(of: [.missingSA, .missingPolicy, .xfrmCounter, .mtuBlackhole, .natBeforeIPsec]), "\(skipped.sorted())")
        #expect(!skipped.contains(.pskMismatch), "the log line is what psk-mismatch needs")
        #expect(paste.findings.first?.code == .pskMismatch)
    }
}

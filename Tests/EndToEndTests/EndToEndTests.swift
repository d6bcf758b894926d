import Foundation
import Testing

/// Runs the real `ipsec-doctor` binary on every lab capture and checks what its
/// expect.json says: the first finding's code, a line it must cite, the exit status.
/// `IPSEC_DOCTOR_CAPTURES=DIR` points it at fresh captures (scripts/test does).
@Suite("ipsec-doctor on every lab scenario")
struct EndToEndTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var capturesDir: String { ProcessInfo.processInfo.environment["IPSEC_DOCTOR_CAPTURES"] ?? root + "/examples" }

    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ipsec-doctor").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return root + "/.build/debug/ipsec-doctor"
    }

    struct Case: Decodable, Sendable, CustomStringConvertible {
        var args: [String]
        var firstCode: String
        var cites: String
        var exit: Int32
        var scenario: String = ""
        var description: String { "\(scenario): \(args.joined(separator: " "))" }

        enum CodingKeys: String, CodingKey { case args, firstCode, cites, exit }
    }

    struct Live: Decodable {
        var firstCode: String
        var exit: Int32
    }

    struct Expect: Decodable {
        var scenario: String
        var cases: [Case]
        var live: Live?
    }

    static let cases: [Case] = {
        let dir = capturesDir
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return names.flatMap { name -> [Case] in
            guard let data = FileManager.default.contents(atPath: "\(dir)/\(name)/expect.json"),
                let e = try? JSONDecoder().decode(Expect.self, from: data)
            else { return [] }
            return e.cases.map { var c = $0; c.scenario = name; return c }
        }
    }()

    /// Scenarios whose capture includes a live-mode diagnosis made inside the west namespace.
    static let liveScenarios: [String] = {
        let dir = capturesDir
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().filter {
            FileManager.default.fileExists(atPath: "\(dir)/\($0)/live-west.json")
        }
    }()

    @Test("live mode inside the lab's west namespace names the same root cause", arguments: liveScenarios)
    func live(_ scenario: String) throws {
        let dir = "\(Self.capturesDir)/\(scenario)"
        let e = try JSONDecoder().decode(Expect.self, from: try #require(FileManager.default.contents(atPath: dir + "/expect.json")))
        let want = try #require(e.live, "\(scenario): expect.json has no live expectation")
        let raw = try String(contentsOfFile: dir + "/live-west.json", encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any], "\(scenario): live-west.json is not JSON")
        let findings = json["findings"] as? [[String: Any]] ?? []
        let errors = findings.filter { $0["severity"] as? String == "error" }
        if want.firstCode.isEmpty {
            #expect(errors.isEmpty, "\(scenario) live: \(errors.map { $0["code"] ?? "" })")
        } else {
            #expect(findings.first?["code"] as? String == want.firstCode, "\(scenario) live: \(findings.map { $0["code"] ?? "" })")
        }
        #expect(json["exitStatus"] as? Int32 == want.exit || json["exitStatus"] as? Int == Int(want.exit))
        // Live mode read the real ipsec.secrets and ip xfrm state: none of it may show.
        let secrets = (try? String(contentsOfFile: dir + "/west/ipsec.secrets", encoding: .utf8)) ?? ""
        for line in secrets.split(separator: "\n") {
            let parts = line.split(separator: "\"")
            if parts.count >= 2 { #expect(!raw.contains(parts[1]), "\(scenario): live output leaks the PSK") }
        }
        #expect(!raw.contains("0x") || raw.range(of: "0x[0-9a-f]{16,}", options: .regularExpression) == nil, "\(scenario): key hex in live output")
    }

    static func run(_ args: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: r, as: UTF8.self))
    }

    @Test("there are lab scenarios to check")
    func haveCases() {
        #expect(Self.cases.count >= 40, "expected the lab's scenarios in \(Self.capturesDir)")
    }

    @Test("diagnose each capture", arguments: cases)
    func scenario(_ c: Case) throws {
        let dir = "\(Self.capturesDir)/\(c.scenario)"
        let (status, out, err) = try Self.run(["diagnose", "--format", "json"] + c.args, cwd: dir)
        #expect(status == c.exit, "\(c): exit \(status); stderr: \(err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(c): not JSON")
        #expect(json["schemaVersion"] as? Int == 1)
        let findings = json["findings"] as? [[String: Any]] ?? []
        let errors = findings.filter { $0["severity"] as? String == "error" }
        if c.firstCode.isEmpty {
            #expect(errors.isEmpty, "\(c): expected no error finding, got \(errors.map { $0["code"] ?? "" })")
            return
        }
        let first = try #require(findings.first, "\(c): no finding")
        #expect(first["code"] as? String == c.firstCode, "\(c): first finding is \(first["code"] ?? "none")")
        let evidence = first["evidence"] as? [[String: Any]] ?? []
        let cited = evidence.map { "\($0["file"] ?? ""):\($0["line"] ?? 0): \($0["text"] ?? "")" }
        #expect(cited.contains { $0.contains(c.cites) }, "\(c): evidence does not cite '\(c.cites)': \(cited)")
        for e in evidence {
            // Every cited line is really at that line of that file.
            guard let file = e["file"] as? String, let line = e["line"] as? Int, let text = e["text"] as? String,
                !text.contains("<redacted>"), !text.hasPrefix("(")
            else { continue }
            let path = file.hasPrefix("/") ? file : "\(dir)/\(file)"
            guard let content = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let lines = content.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(line >= 1 && line <= lines.count && String(lines[line - 1]) == text, "\(c): \(file):\(line) is not '\(text)'")
        }
    }

    @Test("text output: root cause first, no colour when piped or with NO_COLOR")
    func textOutput() throws {
        let dir = Self.root + "/examples/ikev2-psk-mismatch"
        let (status, out, _) = try Self.run(["diagnose", "west", "--peer", "east"], cwd: dir, env: ["NO_COLOR": "1"])
        #expect(status == 1)
        #expect(!out.contains("\u{1B}["))
        #expect(out.contains("ROOT CAUSE error[psk-mismatch]"))
        #expect(out.contains("east/pluto.log:"))
    }

    @Test("exit statuses: usage error 64, unreadable input 2 with a one-line error naming it")
    func exitStatuses() throws {
        let (usage, _, _) = try Self.run(["diagnose", "--format", "xml", "x"])
        #expect(usage == 64)
        let (missing, _, err) = try Self.run(["diagnose", "/nonexistent/capture"])
        #expect(missing == 2)
        #expect(err.contains("/nonexistent/capture: warning: no such file or directory"))
    }

    @Test("--conn with an unknown name is an error naming the known connections")
    func unknownConnection() throws {
        let (status, _, err) = try Self.run(["diagnose", "--conn", "nope", Self.root + "/examples/healthy/west"])
        #expect(status == 2)
        #expect(err.contains("no connection named \"nope\" in the input (known: westnet-eastnet)"))
    }

    @Test("a garbled line is reported with file and line, and the diagnosis still runs")
    func badInput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let src = Self.root + "/examples/ikev2-psk-mismatch/west"
        for f in ["ipsec.conf", "ipsec-up.txt", "ipsec.secrets"] {
            try FileManager.default.copyItem(atPath: "\(src)/\(f)", toPath: "\(dir)/\(f)")
        }
        try "XfrmInError 0\n\u{FF}\u{FE} not a counter\nXfrmInNoStates 3\n".write(toFile: "\(dir)/xfrm_stat.txt", atomically: true, encoding: .utf8)
        let (status, out, err) = try Self.run(["diagnose", "--format", "json", dir])
        #expect(status == 1)
        #expect(err.contains("xfrm_stat.txt:2: warning: not an xfrm_stat counter line"))
        #expect(out.contains("\"code\" : \"psk-mismatch\""))
    }

    @Test("live mode on this machine finishes and explains what it could not read")
    func live() throws {
        let (status, out, _) = try Self.run(["diagnose", "--format", "json", "--sample-seconds", "0", "--command-timeout", "5"])
        #expect([0, 1, 2].contains(status))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(json["schemaVersion"] as? Int == 1)
        #expect(json["skipped"] != nil)
    }
}

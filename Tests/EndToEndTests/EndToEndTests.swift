import Foundation
import DoctorModel
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

    /// Captures made in this run by the lab (scripts/test sets IPSEC_DOCTOR_CAPTURES), not the committed examples.
    static var freshCaptures: Bool {
        guard let dir = ProcessInfo.processInfo.environment["IPSEC_DOCTOR_CAPTURES"] else { return false }
        return URL(fileURLWithPath: dir).standardizedFileURL.path != URL(fileURLWithPath: root + "/examples").standardizedFileURL.path
    }

    /// Every scenario of a fresh lab run: each must hold the live-mode diagnosis the lab made inside its west
    /// namespace against the running daemons. The committed live-west.json files are examples, not evidence.
    static let liveScenarios: [String] = {
        guard freshCaptures else { return [] }
        return Set(cases.map(\.scenario)).sorted()
    }()

    @Test("live mode inside the lab's west namespace, in this run, names the same root cause",
          .enabled(if: freshCaptures, "needs a fresh lab run (scripts/test)"), arguments: liveScenarios)
    func live(_ scenario: String) throws {
        let dir = "\(Self.capturesDir)/\(scenario)"
        let e = try JSONDecoder().decode(Expect.self, from: try #require(FileManager.default.contents(atPath: dir + "/expect.json")))
        let want = try #require(e.live, "\(scenario): expect.json has no live expectation")
        let livePath = dir + "/live-west.json"
        try #require(FileManager.default.fileExists(atPath: livePath), "\(scenario): the lab made no live diagnosis (IPSEC_DOCTOR_BIN unset, or the run failed: see live-west.stderr)")
        // Made by this binary: written after it was built.
        let made = try FileManager.default.attributesOfItem(atPath: livePath)[.modificationDate] as? Date
        let built = try FileManager.default.attributesOfItem(atPath: Self.binary)[.modificationDate] as? Date
        if let made, let built { #expect(made >= built, "\(scenario): live-west.json is older than the binary under test") }
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

    /// The scenarios whose failure is their configuration: the lab applies compare's fix and restarts them.
    static let fixLoopScenarios: [String] = {
        guard freshCaptures else { return [] }
        let dir = root + "/scripts/lab/scenarios"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".sh") }.sorted().compactMap { f in
            let text = (try? String(contentsOfFile: "\(dir)/\(f)", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").contains("FIX_LOOP=yes") ? String(f.dropLast(3)) : nil
        }
    }()

    /// The closed loop (scripts/lab/lab.sh fix_loop): compare's fix, applied by the lab to the real configs,
    /// and the real daemons restarted on them: compare then finds nothing, the IKE SA comes up, the Child SA
    /// is negotiated (on the host's kernel, which has no ESP, refused only by the kernel), and where the
    /// kernel carries ESP (the guests) the Child SA is established and traffic passes.
    @Test("compare's fixes, applied by the lab and the pair restarted: the tunnel comes up",
          .enabled(if: freshCaptures, "needs a fresh lab run (scripts/test)"), arguments: fixLoopScenarios)
    func closedLoop(_ scenario: String) throws {
        try Self.checkFixLoop(scenario, "fix-loop.json", tool: "compare")
    }

    /// The same loop from the original configs with diagnose's config remedies (`diagnose --peer` on the
    /// capture of the failing pair): applied, restarted, the tunnel comes up.
    @Test("diagnose's config remedies, applied by the lab and the pair restarted: the tunnel comes up",
          .enabled(if: freshCaptures, "needs a fresh lab run (scripts/test)"), arguments: fixLoopScenarios)
    func closedLoopDiagnose(_ scenario: String) throws {
        try Self.checkFixLoop(scenario, "fix-loop-diagnose.json", tool: "diagnose")
    }

    static func checkFixLoop(_ scenario: String, _ file: String, tool: String) throws {
        let path = "\(Self.capturesDir)/\(scenario)/\(file)"
        let data = try #require(FileManager.default.contents(atPath: path), "\(scenario): no \(file) (IPSEC_DOCTOR_BIN unset, or the loop failed: see the lab log)")
        let r = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(r["applied"] as? String == "ok", "\(scenario): \(r)")
        let before = (r["before"] as? String ?? "").split(separator: " ").map { String($0.split(separator: "=").last ?? "") }
        let after = (r["after"] as? String ?? "").split(separator: " ").map { String($0.split(separator: "=").last ?? "") }
        #expect(before.contains { $0 != "ok" }, "\(scenario): \(tool) found nothing to fix: \(r)")
        #expect(!after.isEmpty && after.allSatisfy { $0 == "ok" || $0 == "multi-subnet-tmpl-mismatch" }, "\(scenario): after the fix compare says \(r["after"] ?? "")")
        #expect(r["ikeEstablished"] as? Bool == true, "\(scenario): \(r)")
        let child = r["childEstablished"] as? Bool == true, refused = r["childRefusedByKernelWithoutESP"] as? Bool == true
        #expect(child || refused, "\(scenario): the Child SA was not negotiated: \(r)")
        if r["kernel"] as? String != "host" {
            #expect(child && r["trafficPasses"] as? Bool == true, "\(scenario): on a kernel with ESP the tunnel must carry traffic: \(r)")
        }
    }

    /// A new scratch directory (the caller removes it), holding `files` copied from `src`.
    static func scratch(_ prefix: String, copying files: [String] = [], from src: String = "") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in files { try FileManager.default.copyItem(atPath: "\(src)/\(f)", toPath: "\(dir)/\(f)") }
        return dir
    }

    /// Every file of the capture `src`, written into a new scratch directory by `write(source, destination)`.
    static func rewritten(_ src: String, _ prefix: String, _ write: (String, String) throws -> Void) throws -> String {
        let dir = try scratch(prefix)
        for f in try FileManager.default.contentsOfDirectory(atPath: src) { try write("\(src)/\(f)", "\(dir)/\(f)") }
        return dir
    }

    static func run(_ args: [String], cwd: String? = nil, env: [String: String] = [:], stdin: String? = nil) throws -> (Int32, String, String) {
        let p = Process()
        if let stdin { p.standardInput = FileHandle(forReadingAtPath: stdin) }
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

    @Test("every lab scenario has a capture with expectations")
    func haveCases() throws {
        let scenarios = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/scripts/lab/scenarios")
            .filter { $0.hasSuffix(".sh") }.map { String($0.dropLast(3)) }
        let captured = Set(Self.cases.map(\.scenario))
        #expect(!scenarios.isEmpty)
        #expect(Set(scenarios).subtracting(captured).isEmpty, "no capture or expect.json in \(Self.capturesDir) for \(Set(scenarios).subtracting(captured).sorted())")
    }

    @Test("diagnose each capture", arguments: cases)
    func scenario(_ c: Case) throws {
        let dir = "\(Self.capturesDir)/\(c.scenario)"
        let (status, out, err) = try Self.run(["diagnose", "--format", "json"] + c.args, cwd: dir)
        #expect(status == c.exit, "\(c): exit \(status); stderr: \(err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(c): not JSON")
        #expect(json["schemaVersion"] as? Int == 2)
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
        // The cited line's text, not its file name ("ping" must not be met by ping.txt).
        #expect(evidence.contains { ($0["text"] as? String ?? "").contains(c.cites) }, "\(c): no cited line contains '\(c.cites)': \(cited)")
        for e in findings.flatMap({ $0["evidence"] as? [[String: Any]] ?? [] }) {
            // Every cited line of every finding is really at that line of that file; an absence is never
            // dressed as a quote.
            guard let file = e["file"] as? String, let line = e["line"] as? Int, let text = e["text"] as? String,
                !text.contains("<redacted>"), !text.hasPrefix("(nft JSON: ")
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
        // The first line is the answer, compiler style.
        #expect(out.split(separator: "\n").first?.hasPrefix("error[psk-mismatch] \"westnet-eastnet\": ") == true, "\(out.prefix(200))")
        #expect(out.contains("east/pluto.log:"))
        // Prose wraps to COLUMNS; --color always colours even through a pipe, never and TERM=dumb do not.
        let (_, narrow, _) = try Self.run(["diagnose", "west", "--peer", "east"], cwd: dir, env: ["COLUMNS": "60"])
        // The lead's explanation: the lines between its first line and its evidence.
        let prose = narrow.split(separator: "\n").dropFirst().prefix { $0 != "  evidence:" }
        #expect(!prose.isEmpty && prose.allSatisfy { $0.count <= 60 }, "\(prose.map(\.count))")
        // So do the fix and its steps (a long persistence summary); commands and config lines paste whole.
        let (_, nat, _) = try Self.run(["diagnose", Self.root + "/examples/nat-before-ipsec/west"], env: ["COLUMNS": "60"])
        let fix = nat.split(separator: "\n", omittingEmptySubsequences: false).drop { !$0.hasPrefix("  fix:") }.prefix { !$0.isEmpty && !$0.hasPrefix("  follows from it:") }
        let pasteable = fix.filter { $0.hasPrefix("         $ ") || $0.hasPrefix("         + ") || $0.hasPrefix("         - ") }
        #expect(fix.count > 5 && !pasteable.isEmpty, "\(fix)")
        #expect(fix.filter { !pasteable.contains($0) }.allSatisfy { $0.count <= 60 }, "\(fix.map(\.count))")
        #expect(pasteable.contains { $0.count > 60 }, "a long command is not cut")
        let (_, always, _) = try Self.run(["diagnose", "--color", "always", "west"], cwd: dir)
        #expect(always.contains("\u{1B}["))
        let (_, never, _) = try Self.run(["diagnose", "--color", "never", "west"], cwd: dir, env: ["TERM": "dumb"])
        #expect(!never.contains("\u{1B}["))
    }

    @Test("exit statuses: usage error 64, unreadable input 2 with a one-line error naming it")
    func exitStatuses() throws {
        let (usage, _, _) = try Self.run(["diagnose", "--format", "xml", "x"])
        #expect(usage == 64)
        // --version, and the same release in the JSON report.
        let (v, version, _) = try Self.run(["--version"])
        let release = version.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "ipsec-doctor ", with: "")
        #expect(v == 0 && version.hasPrefix("ipsec-doctor ") && release.split(separator: ".").count == 3, "\(version)")
        let (_, json, _) = try Self.run(["diagnose", "--format", "json", Self.root + "/examples/healthy/west"])
        #expect(json.contains("\"toolVersion\" : \"\(release)\""))
        // NaN would disable every timeout: rejected like any other bad duration.
        for bad in [["--command-timeout", "nan"], ["--sample-seconds", "nan"], ["--sample-seconds=-1"], ["--command-timeout", "inf"]] {
            let (status, _, err) = try Self.run(["diagnose"] + bad)
            #expect(status == 64, "\(bad): exit \(status)")
            #expect(err.contains("must be"), "\(bad): \(err)")
        }
        let (missing, _, err) = try Self.run(["diagnose", "/nonexistent/capture"])
        #expect(missing == 2)
        #expect(err.contains("/nonexistent/capture: warning: no such file or directory"))
    }

    @Test("a FIFO, a device link and a symlink out of the capture are refused with one line each; the rest is diagnosed")
    func specialFiles() throws {
        let dir = try Self.scratch("special", copying: ["ipsec.conf", "ipsec-up.txt", "ipsec.secrets"], from: Self.root + "/examples/ikev2-psk-mismatch/west")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/pluto.log", 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: dir + "/journal.txt", withDestinationPath: "/dev/zero")
        try FileManager.default.createSymbolicLink(atPath: dir + "/notes.txt", withDestinationPath: "/etc/passwd")
        let (status, out, err) = try Self.run(["diagnose", "--format", "json", dir])
        #expect(status == 1)
        #expect(err.contains("\(dir)/pluto.log: warning: not a regular file"), "\(err)")
        #expect(err.contains("\(dir)/journal.txt: warning: not a regular file"), "\(err)")
        #expect(err.contains("\(dir)/notes.txt: warning: a symlink out of the capture"), "\(err)")
        #expect(!out.contains("root:x:0:0"), "a line of /etc/passwd was printed")
        #expect(out.contains("\"code\" : \"psk-mismatch\""))
    }

    /// A capture from which no fact can be read is "could not diagnose" (2), never "No problems found" (0).
    @Test("nothing usable read: every file empty, UTF-16, dangling symlinks -> exit 2", arguments: ["empty", "utf16", "dangling"])
    func nothingUsable(_ mode: String) throws {
        let dir = try Self.rewritten(Self.root + "/examples/healthy/west", "unusable-\(mode)") { from, to in
            switch mode {
            case "empty": FileManager.default.createFile(atPath: to, contents: Data())
            case "utf16": FileManager.default.createFile(atPath: to, contents: try String(contentsOfFile: from, encoding: .utf8).data(using: .utf16))
            default: try FileManager.default.createSymbolicLink(atPath: to, withDestinationPath: to + ".gone")
            }
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, out, err) = try Self.run(["diagnose", dir], env: ["NO_COLOR": "1"])
        #expect(status == 2, "\(mode): exit \(status); \(out)")
        #expect(!out.contains("No problems found"), "\(mode)")
        #expect(err.contains("nothing usable was read"), "\(mode): \(err)")
    }

    @Test("CR-only line ends (old editors) read like LF: the same diagnosis", arguments: ["healthy", "ikev2-psk-mismatch"])
    func crOnly(_ scenario: String) throws {
        let src = Self.root + "/examples/\(scenario)/west"
        let dir = try Self.rewritten(src, "cr-only") { from, to in
            try String(contentsOfFile: from, encoding: .utf8).replacingOccurrences(of: "\n", with: "\r").write(toFile: to, atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func codes(_ out: String) throws -> [String] {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            return (json["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        }
        let (want, wantOut, _) = try Self.run(["diagnose", "--format", "json", src])
        let (got, gotOut, _) = try Self.run(["diagnose", "--format", "json", dir])
        #expect(got == want)
        #expect(try codes(gotOut) == codes(wantOut))
    }

    /// A real failure line of the psk-mismatch capture, with terminal control sequences spliced into the
    /// connection name (set-title, clear-screen, BEL): the report shows them escaped, never raw (a bare CR
    /// ends the line: crOnly).
    @Test("terminal control sequences in a capture never reach the terminal")
    func controlSequences() throws {
        let src = Self.root + "/examples/ikev2-psk-mismatch/west"
        let dir = try Self.scratch("esc", copying: ["ipsec.conf", "ipsec.secrets"], from: src)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try String(contentsOfFile: src + "/pluto.log", encoding: .utf8)
        let evil = log.replacingOccurrences(of: "\"westnet-eastnet\" #", with: "\"west\u{1B}]0;pwned\u{07}\u{1B}[2Jeast\" #")
        try evil.write(toFile: dir + "/pluto.log", atomically: true, encoding: .utf8)
        for env in [["NO_COLOR": "1"], [:]] {
            let (_, out, err) = try Self.run(["diagnose", dir], env: env)
            for text in [out, err] {
                #expect(!text.contains("\u{07}") && !text.contains("\u{1B}]") && !text.contains("\u{1B}[2J") && !text.contains("\r"), "raw control sequence in output")
            }
            #expect(out.contains("\\x1B]0;pwned"), "the escaped form is shown")
        }
    }

    @Test("/proc and /sys are not captures: refused with one line, exit 2")
    func procRefused() throws {
        for path in ["/proc/self/environ", "/proc/self", "/sys/kernel"] {
            let (status, out, err) = try Self.run(["diagnose", "--format", "json", path])
            #expect(status == 2, "\(path): exit \(status)")
            #expect(err.contains("\(path): warning: a /proc or /sys path is not a capture"), "\(path): \(err)")
            #expect(!out.contains("PATH="), "\(path): the environment was read")
        }
    }

    @Test("--conn with an unknown name is an error naming the known connections")
    func unknownConnection() throws {
        let (status, _, err) = try Self.run(["diagnose", "--conn", "nope", Self.root + "/examples/healthy/west"])
        #expect(status == 2)
        #expect(err.contains("no connection named \"nope\" in the input (known: westnet-eastnet)"))
    }

    @Test("a garbled line is reported with file and line, and the diagnosis still runs")
    func badInput() throws {
        let dir = try Self.scratch("bad", copying: ["ipsec.conf", "ipsec-up.txt", "ipsec.secrets"], from: Self.root + "/examples/ikev2-psk-mismatch/west")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "XfrmInError 0\n\u{FF}\u{FE} not a counter\nXfrmInNoStates 3\n".write(toFile: "\(dir)/xfrm_stat.txt", atomically: true, encoding: .utf8)
        let (status, out, err) = try Self.run(["diagnose", "--format", "json", dir])
        #expect(status == 1)
        #expect(err.contains("xfrm_stat.txt:2: warning: not an xfrm_stat counter line"))
        #expect(out.contains("\"code\" : \"psk-mismatch\""))
    }

    /// This machine's own kernel (ip xfrm, xfrm_stat) is read for real; pluto, its config and log are pointed
    /// at paths that do not exist, so what the report must say is known whatever else runs here.
    @Test("live mode on this machine finishes and explains what it could not read")
    func live() throws {
        let (status, out, _) = try Self.run([
            "diagnose", "--format", "json", "--sample-seconds", "0", "--command-timeout", "5",
            "--config", "/nonexistent/ipsec.conf", "--ctlsocket", "/nonexistent/pluto.ctl", "--log", "/nonexistent/pluto.log",
        ])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(json["schemaVersion"] as? Int == 2)
        #expect(json["exitStatus"] as? Int == Int(status))
        let skipped = (json["skipped"] as? [[String: String]] ?? []).map { "\($0["input"] ?? ""): \($0["reason"] ?? "")" }
        let codes = (json["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        if FileManager.default.isExecutableFile(atPath: "/usr/sbin/ipsec") {
            // Libreswan is installed but no pluto answers on that socket: not healthy.
            #expect(status == 1, "skipped: \(skipped)")
            #expect(codes.first == "pluto-not-running", "\(codes)")
            #expect(skipped.contains { $0.hasPrefix("ipsec whack --ctlsocket /nonexistent/pluto.ctl --status: ") && $0.contains("Pluto is not running") }, "\(skipped)")
        } else {
            #expect(status == 2)
            #expect(skipped.contains { $0.contains("Libreswan is not installed") }, "\(skipped)")
        }
        #expect(skipped.contains("/nonexistent/ipsec.conf: does not exist"), "\(skipped)")
        #expect(skipped.contains("/nonexistent/pluto.log: does not exist"), "\(skipped)")
        // What could be read was read: this machine's xfrm state (root or not, the command runs).
        let inputs = (json["inputs"] as? [[String: String]] ?? []).compactMap { $0["file"] }
        #expect(inputs.contains("ip -s xfrm state") || skipped.contains { $0.hasPrefix("ip -s xfrm state: ") }, "\(inputs)")
    }

    /// The whole binary on captures whose every file is garbage: still a JSON report, a documented exit status
    /// equal to the one the report states, and every input problem named with its file.
    @Test("the binary on a fully mangled capture: valid JSON, documented exit status", arguments: ["healthy", "ikev2-psk-mismatch", "mtu-blackhole"])
    func mangledBinary(_ scenario: String) throws {
        let src = Self.root + "/examples/\(scenario)/west"
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for mode in ["truncate", "noise"] {
            let dir = try Self.rewritten(src, "mangled-bin") { from, to in
                var data = [UInt8](FileManager.default.contents(atPath: from) ?? Data())
                if mode == "truncate" {
                    data = Array(data.prefix(data.count / 3 + 1))
                } else {
                    data = (0..<2048).map { _ in seed = seed &* 6_364_136_223_846_793_005 &+ 1; return UInt8(truncatingIfNeeded: seed >> 56) }
                }
                FileManager.default.createFile(atPath: to, contents: Data(data))
            }
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let (status, out, err) = try Self.run(["diagnose", "--format", "json", dir])
            #expect([0, 1, 2].contains(status), "\(scenario) \(mode): exit \(status)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(scenario) \(mode): not JSON")
            #expect(json["exitStatus"] as? Int == Int(status), "\(scenario) \(mode)")
            #expect(json["findings"] is [Any])
            for line in err.split(separator: "\n") { #expect(line.hasPrefix(dir), "\(scenario) \(mode): stderr line names no file: \(line)") }
        }
    }

    /// A paste on standard input (`-` or `/dev/stdin`), built from a real capture's files the way a user
    /// copies a terminal: the sections are split and parsed, evidence names `stdin`, no secret is printed.
    @Test("standard input: a pasted session is diagnosed like a file, secrets masked", arguments: ["-", "/dev/stdin"])
    func standardInput(_ arg: String) throws {
        let src = Self.root + "/examples/ikev2-psk-mismatch/west"
        let secrets = try String(contentsOfFile: src + "/ipsec.secrets", encoding: .utf8)
        let up = try String(contentsOfFile: src + "/ipsec-up.txt", encoding: .utf8)
        let psk = try #require(secrets.split(separator: "\"").dropFirst().first.map(String.init))
        let dir = try Self.scratch("stdin")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paste = dir + "/paste"
        try ("[root@west ~]# cat /etc/ipsec.secrets\n" + secrets + "[root@west ~]# ipsec auto --up westnet-eastnet\n" + up)
            .write(toFile: paste, atomically: true, encoding: .utf8)
        let (status, out, err) = try Self.run(["diagnose", "--format", "json", arg], stdin: paste)
        #expect(status == 1, "exit \(status); stderr: \(err)")
        #expect(!out.contains(psk) && !err.contains(psk))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let first = try #require((json["findings"] as? [[String: Any]])?.first)
        #expect(first["code"] as? String == "psk-mismatch")
        #expect((first["evidence"] as? [[String: Any]])?.first?["file"] as? String == "stdin")
        let kinds = (json["inputs"] as? [[String: String]] ?? []).compactMap { $0["kind"] }
        #expect(kinds.sorted() == ["ipsec-secrets", "ipsec-up"], "\(kinds)")
        // Empty standard input is nothing read: exit 2, said once with the name.
        let empty = dir + "/empty"
        FileManager.default.createFile(atPath: empty, contents: Data())
        let (s2, _, e2) = try Self.run(["diagnose", arg], stdin: empty)
        #expect(s2 == 2 && e2.contains("stdin: warning: standard input is empty"), "\(s2) \(e2)")
    }

    /// What a user mistypes: a subcommand, a --peer path, the same capture twice; and the directory that
    /// holds both ends, which is read as both ends.
    @Test("mistakes are usage errors (64) that say what to type; a directory of both ends is read as both")
    func usageMistakes() throws {
        let ex = Self.root + "/examples/ikev2-psk-mismatch"
        let (s1, _, e1) = try Self.run(["code"])
        #expect(s1 == 64 && e1.contains("did you mean 'codes'?"), "\(s1) \(e1)")
        let (s2, _, e2) = try Self.run(["diagnose", ex + "/west", "--peer", ex + "/nonexistent"])
        #expect(s2 == 64 && e2.contains("nonexistent: no such file or directory"), "\(s2) \(e2)")
        let (s3, _, e3) = try Self.run(["diagnose", ex + "/west", "--peer", ex + "/west/"])
        #expect(s3 == 64 && e3.contains("same capture"), "\(s3) \(e3)")
        let (s4, both, _) = try Self.run(["diagnose", "--format", "json", ex])
        let (_, pair, _) = try Self.run(["diagnose", "--format", "json", ex + "/west", "--peer", ex + "/east"])
        func lead(_ out: String) -> String? {
            ((try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any]).flatMap { ($0["findings"] as? [[String: Any]])?.first?["code"] as? String }
        }
        #expect(s4 == 1 && lead(both) == "psk-mismatch" && lead(both) == lead(pair))
        // Both ends' inputs are listed, each with its side.
        let sides = (((try? JSONSerialization.jsonObject(with: Data(pair.utf8))) as? [String: Any])?["inputs"] as? [[String: String]] ?? [])
        #expect(sides.contains { $0["side"] == "peer" && $0["file"]?.contains("/east/") == true })
        #expect(sides.contains { $0["side"] == "local" && $0["file"]?.contains("/west/") == true })
    }

    /// Every firewall command a remedy gives for the lab's captures is run, for real, in a namespace of its
    /// own with the real nft / iptables: it must be accepted. (Root only: CI runs as root.)
    @Test("firewall remedies run: each nft/iptables command in a remedy is accepted by the real tool")
    func firewallCommandsRun() throws {
        guard getuid() == 0 else { return }
        var commands: Set<String> = []
        for scenario in ["mtu-blackhole", "ipv6-mtu-blackhole", "mtu-narrow-link", "peer-unreachable", "ikev2-psk-mismatch", "nat-before-ipsec-nft"] {
            for args in [["\(scenario)/west"], ["\(scenario)/west", "--peer", "\(scenario)/east"]] {
                let (_, out, _) = try Self.run(["diagnose", "--format", "json"] + args, cwd: Self.root + "/examples")
                let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
                let findings = (json["findings"] as? [[String: Any]] ?? []).flatMap { [$0] + ($0["symptoms"] as? [[String: Any]] ?? []) }
                for f in findings {
                    for step in (f["remedy"] as? [String: Any])?["steps"] as? [[String: Any]] ?? [] {
                        guard let c = step["command"] as? String, c.hasPrefix("nft add") || c.hasPrefix("nft insert") || c.hasPrefix("iptables ") || c.hasPrefix("ip6tables ") else { continue }
                        commands.insert(c)
                    }
                }
            }
        }
        #expect(commands.count >= 3, "\(commands)")
        for c in commands.sorted() {
            let ns = "fwtest\(getpid())"
            let add = Process(), del = Process(), run = Process()
            add.executableURL = URL(fileURLWithPath: "/usr/sbin/ip"); add.arguments = ["netns", "add", ns]
            try add.run(); add.waitUntilExit()
            defer { del.executableURL = URL(fileURLWithPath: "/usr/sbin/ip"); del.arguments = ["netns", "del", ns]; try? del.run(); del.waitUntilExit() }
            // An nft insert goes into a chain the capture showed: give the namespace that table and chain.
            var setup = ""
            let w = c.split(separator: " ").map(String.init)
            if w.count > 5, w[0] == "nft", w[1] == "insert", w[2] == "rule" {
                let (fam, table, chain) = (w[3], w[4], w[5])
                let nat = ["postrouting", "prerouting"].contains(chain.lowercased())
                setup = "nft add table \(fam) \(table); nft add chain \(fam) \(table) \(chain) '{ type \(nat ? "nat" : "filter") hook \(chain.lowercased()) priority \(nat ? 100 : 0); }'; "
            }
            run.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            run.arguments = ["netns", "exec", ns, "sh", "-c", setup + c]
            let err = Pipe()
            run.standardError = err
            try run.run(); run.waitUntilExit()
            let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(run.terminationStatus == 0, "\(c): \(msg)")
        }
    }

    /// Runs scripts/check-output KIND on FILES; returns its exit status and what it printed.
    static func checkOutput(_ kind: String, _ files: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", root + "/scripts/check-output", kind] + files
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// The contract of docs/schema/: every capture's JSON validates against diagnose.schema.json (strict: no
    /// field the schema does not name, leads never symptoms, symptoms always), its SARIF against SARIF 2.1.0,
    /// and every SARIF location is a real line of a real file, like every evidence line.
    @Test("machine outputs of every capture validate: JSON Schema, SARIF 2.1.0, real SARIF locations")
    func contracts() throws {
        let tmp = try Self.scratch("contracts")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var jsons: [String] = [], sarifs: [String] = []
        for (i, c) in Self.cases.enumerated() {
            let dir = "\(Self.capturesDir)/\(c.scenario)"
            let (_, json, _) = try Self.run(["diagnose", "--format", "json"] + c.args, cwd: dir)
            let (status, sarif, _) = try Self.run(["diagnose", "-f", "sarif"] + c.args, cwd: dir)
            #expect(status == c.exit, "\(c): sarif exit \(status)")
            try json.write(toFile: "\(tmp)/\(i).json", atomically: false, encoding: .utf8)
            try sarif.write(toFile: "\(tmp)/\(i).sarif", atomically: false, encoding: .utf8)
            jsons.append("\(tmp)/\(i).json")
            sarifs.append("\(tmp)/\(i).sarif")
            // `side: "peer"` exactly on the findings about the other end itself: all of their evidence from
            // its capture marks them, and a finding marked so cites it.
            if let k = c.args.firstIndex(where: { $0 == "--peer" || $0 == "-p" }), k + 1 < c.args.count {
                let peerDir = c.args[k + 1].hasSuffix("/") ? c.args[k + 1] : c.args[k + 1] + "/"
                let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                func walk(_ fs: [[String: Any]]) {
                    for f in fs {
                        let files = (f["evidence"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
                        let fromPeer = files.filter { $0.hasPrefix(peerDir) }
                        let marked = f["side"] as? String == "peer"
                        #expect(!(fromPeer.count == files.count && !files.isEmpty) || marked, "\(c): \(f["code"] ?? "") cites only the peer's capture but has no side")
                        #expect(!marked || !fromPeer.isEmpty, "\(c): \(f["code"] ?? "") has side peer but cites nothing of the peer's capture")
                        walk(f["symptoms"] as? [[String: Any]] ?? [])
                    }
                }
                walk(doc["findings"] as? [[String: Any]] ?? [])
            }
            let log = try #require(try JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any], "\(c): SARIF not JSON")
            let results = ((log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]) ?? []
            for r in results {
                let locs = (r["locations"] as? [[String: Any]] ?? []) + (r["relatedLocations"] as? [[String: Any]] ?? [])
                for l in locs {
                    let phys = l["physicalLocation"] as? [String: Any]
                    guard let uri = (phys?["artifactLocation"] as? [String: Any])?["uri"] as? String,
                        let region = phys?["region"] as? [String: Any], let line = region["startLine"] as? Int,
                        let text = (region["snippet"] as? [String: Any])?["text"] as? String, !text.contains("<redacted>")
                    else { continue }
                    let file = uri.removingPercentEncoding ?? uri
                    let path = file.hasPrefix("file://") ? String(file.dropFirst(7)) : "\(dir)/\(file)"
                    guard let content = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
                    let lines = content.split(separator: "\n", omittingEmptySubsequences: false)
                    #expect(line >= 1 && line <= lines.count && String(lines[line - 1]) == text, "\(c): SARIF \(file):\(line) is not '\(text)'")
                }
            }
        }
        #expect(jsons.count >= 40, "\(jsons.count) captures")
        // compare on every pair of ends: its JSON, and an exit status that says whether a pair fails.
        var compares: [String] = []
        for scenario in Set(Self.cases.map(\.scenario)).sorted() {
            let dir = "\(Self.capturesDir)/\(scenario)"
            guard FileManager.default.fileExists(atPath: dir + "/east/ipsec.conf"), FileManager.default.fileExists(atPath: dir + "/west/ipsec.conf") else { continue }
            let (status, out, err) = try Self.run(["compare", "--format", "json", "west", "east"], cwd: dir)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(scenario): compare: \(err)")
            let verdicts = (doc["pairs"] as? [[String: Any]] ?? []).compactMap { $0["verdict"] as? String }
            #expect(status == (verdicts.allSatisfy { $0 == "ok" } ? 0 : 1) && doc["exitStatus"] as? Int == Int(status), "\(scenario): compare exit \(status), verdicts \(verdicts)")
            try out.write(toFile: "\(tmp)/compare-\(scenario).json", atomically: false, encoding: .utf8)
            compares.append("\(tmp)/compare-\(scenario).json")
        }
        #expect(compares.count >= 30, "\(compares.count) pairs compared")
        let (codesStatus, codes, _) = try Self.run(["codes", "--format", "json"])
        #expect(codesStatus == 0)
        try codes.write(toFile: tmp + "/codes.json", atomically: false, encoding: .utf8)
        for (kind, files) in [("diagnose", jsons), ("sarif", sarifs), ("codes", [tmp + "/codes.json"]), ("compare", compares)] {
            let (status, out) = try Self.checkOutput(kind, files)
            #expect(status == 0, "scripts/check-output \(kind): \(out.prefix(3000))")
        }
    }

    /// The schema's closed lists are the program's: the catalog's codes and the parser's input kinds.
    @Test("diagnose.schema.json names every finding code, input kind, stage and skip code, and no other")
    func schemaLists() throws {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.root + "/docs/schema/diagnose.schema.json"))) as? [String: Any])
        let defs = try #require(schema["$defs"] as? [String: Any])
        let codes = Set(((defs["code"] as? [String: Any])?["enum"] as? [String]) ?? [])
        let kinds = Set(((defs["inputKind"] as? [String: Any])?["enum"] as? [String]) ?? [])
        let (_, out, _) = try Self.run(["codes", "--format", "json"])
        let catalog = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let catalogCodes = Set(((catalog["codes"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String })
        #expect(!catalogCodes.isEmpty)
        #expect(codes == catalogCodes, "schema only: \(codes.subtracting(catalogCodes)); catalog only: \(catalogCodes.subtracting(codes))")
        #expect(kinds == Set(InputKind.allCases.map(\.id)), "\(kinds.symmetricDifference(Set(InputKind.allCases.map(\.id))))")
        // The ladder in the schema is the program's, in its order.
        let stages = ((defs["stage"] as? [String: Any])?["enum"] as? [String]) ?? []
        #expect(stages == Stage.allCases.map(\.rawValue), "schema stages \(stages)")
        let skipped = ((((schema["properties"] as? [String: Any])?["skipped"] as? [String: Any])?["items"] as? [String: Any])?["properties"] as? [String: Any])?["code"] as? [String: Any]
        #expect(Set((skipped?["enum"] as? [String]) ?? []) == Set(SkippedInput.Code.allCases.map(\.rawValue)))
        // codes --format json gives each code its rung.
        let rungs = ((catalog["codes"] as? [[String: Any]]) ?? []).compactMap { $0["stage"] as? String }
        #expect(rungs.count == catalogCodes.count && Set(rungs).isSubset(of: Set(stages)), "\(rungs)")
    }

    /// The completion script swift-argument-parser generates, run by a real bash: `--conn` completes the
    /// connection names of the capture on the command line, `--format` its values, `codes --explain` codes.
    @Test("bash completion: connection names from the capture on the command line, formats, codes")
    func bashCompletion() throws {
        let (status, script, _) = try Self.run(["--generate-completion-script", "bash"])
        #expect(status == 0)
        let tmp = try Self.scratch("completion")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try script.write(toFile: tmp + "/ipsec-doctor.bash", atomically: false, encoding: .utf8)
        func complete(_ words: [String]) throws -> [String] {
            // COMP_WORDS as bash splits the line; the cursor on the last (possibly empty) word. Bash calls
            // the function with the command, the current word and the previous one.
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let line = words.joined(separator: " ")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.currentDirectoryURL = URL(fileURLWithPath: Self.root)
            p.arguments = ["-c", """
                source \(tmp)/ipsec-doctor.bash
                COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
                _ipsec-doctor '\(words[0])' '\(words[words.count - 1])' '\(words[words.count - 2])'; printf '%s\\n' "${COMPREPLY[@]}"
                """]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return text.split(separator: "\n").map(String.init)
        }
        #expect(try complete([Self.binary, "diagnose", "examples/two-connections/west", "--conn", ""]) == ["lab", "office"])
        #expect(try complete([Self.binary, "diagnose", "examples/ikev2-psk-mismatch", "-c", ""]) == ["westnet-eastnet"])
        #expect(Set(try complete([Self.binary, "diagnose", "--format", ""])) == ["text", "json", "sarif"])
        #expect(try complete([Self.binary, "codes", "--explain", "psk-"]) == ["psk-mismatch"])
    }
}

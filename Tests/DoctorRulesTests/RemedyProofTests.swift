import DoctorModel
import DoctorParse
import DoctorRules
import Foundation
import Testing

/// Every remedy the tool gives on any committed capture (each end alone, and with the other as the peer) is
/// accepted by the real tools of this machine's Libreswan, iptables and nftables: a changed ipsec.conf
/// passes `ipsec addconn --checkconfig` and its algorithms `ipsec algparse`; a firewall line to persist
/// passes `iptables-restore --test` / `nft -c`; every command parses in bash, names an `ipsec` command the
/// installed Libreswan has, and `ipsec auto` takes its options (`--showonly`: nothing is done).
enum RealTools {
    static let present = getuid() == 0 && ["/usr/sbin/ipsec", "/usr/sbin/iptables-restore", "/usr/sbin/nft"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}

@Suite("Remedies are accepted by the real tools", .enabled(if: RealTools.present, "needs libreswan, iptables, nftables and root (scripts/test installs them)"))
struct RemedyProofTests {

    /// One finding of one diagnosis, with the capture it came from.
    struct Given: Sendable {
        var scenario: String
        var side: String
        var withPeer: Bool
        var finding: Finding
        /// The command that gave it: `diagnose` or `compare`.
        var by = "diagnose"
        var label: String { "\(by) \(scenario)/\(side)\(withPeer ? " --peer" : ""): \(finding.code)" }
        var other: String { side == "west" ? "east" : "west" }
    }

    static let given: [Given] = {
        var out: [Given] = []
        for scenario in Repo.scenarios {
            for side in ["west", "east"] where FileManager.default.fileExists(atPath: "\(Repo.examples)/\(scenario)/\(side)") {
                let other = side == "west" ? "east" : "west"
                let hasPeer = FileManager.default.fileExists(atPath: "\(Repo.examples)/\(scenario)/\(other)")
                for withPeer in hasPeer ? [false, true] : [false] {
                    let findings = DiagnosisEngine().diagnose(Repo.context(scenario, side, withPeer: withPeer))
                    for f in findings.flatMap({ [$0] + $0.symptoms }) {
                        out.append(Given(scenario: scenario, side: side, withPeer: withPeer, finding: f))
                    }
                }
                // compare's remedies, for this end against the other.
                if hasPeer {
                    let result = ConfigComparison.compare(Repo.snapshot(scenario, side), Repo.snapshot(scenario, other))
                    for f in result.pairs.flatMap(\.findings) {
                        out.append(Given(scenario: scenario, side: side, withPeer: true, finding: f, by: "compare"))
                    }
                }
            }
        }
        return out
    }()

    /// Runs ARGS (under `timeout`, so a tool that waits for a daemon cannot hang the suite) with STDIN.
    static func run(_ args: [String], stdin: String? = nil) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["-k", "5", "20"] + args
        let out = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// TEXT with a config step applied to SECTION (`conn NAME` or `config setup`): each `remove` line must be
    /// a line of that section (else the remedy names a line the file does not have); the `add` lines take the
    /// place of the first removed one, or follow the header.
    static func apply(_ text: String, section: String, remove: [String], add: [String]) -> Result<String, ApplyError> {
        var lines = text.components(separatedBy: "\n")
        let header = section == "config setup" ? "config setup" : "conn \(section)"
        guard let h = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == header }) else {
            return .failure(ApplyError("no `\(header)` section"))
        }
        var end = h + 1
        while end < lines.count, lines[end].isEmpty || lines[end].first == " " || lines[end].first == "\t" || lines[end].hasPrefix("#") { end += 1 }
        var at = h + 1
        for r in remove.reversed() {
            let want = r.trimmingCharacters(in: .whitespaces)
            guard let i = (h + 1..<end).first(where: { lines[$0].trimmingCharacters(in: .whitespaces) == want }) else {
                return .failure(ApplyError("`\(want)` is not a line of `\(header)`"))
            }
            lines.remove(at: i)
            end -= 1
            at = i
        }
        lines.insert(contentsOf: add.map { "    " + $0 }, at: at)
        return .success(lines.joined(separator: "\n"))
    }

    struct ApplyError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    @Test("apply: a step replaces the line in its own section, and a line the section lacks is an error")
    func applyItself() throws {
        let conf = "config setup\n    plutodebug=none\n\nconn a\n    ike=aes128\n\nconn b\n    ike=aes256\n"
        #expect(try Self.apply(conf, section: "b", remove: ["ike=aes256"], add: ["ike=aes128"]).get() == conf.replacingOccurrences(of: "aes256", with: "aes128"))
        #expect(try Self.apply(conf, section: "config setup", remove: [], add: ["logfile=/x"]).get().contains("config setup\n    logfile=/x\n    plutodebug=none"))
        #expect((try? Self.apply(conf, section: "a", remove: ["ike=aes256"], add: []).get()) == nil, "conn b's line is not conn a's")
        #expect((try? Self.apply(conf, section: "c", remove: [], add: ["x=1"]).get()) == nil)
    }

    /// The ipsec.conf a config step changes: its own file, else (a step for the peer from one end's capture)
    /// the other end's capture's, else this end's.
    static func target(_ g: Given, _ step: RemedyStep) -> String? {
        if let file = step.file { return file.hasSuffix("ipsec.conf") ? file : nil }
        guard step.connection != nil, step.add.allSatisfy({ $0.contains("=") && !$0.contains(" ") }) else { return nil }
        let side = step.end == .peer ? g.other : g.side
        let path = "\(Repo.examples)/\(g.scenario)/\(side)/ipsec.conf"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    @Test("ipsec.conf changes: the changed file passes `ipsec addconn --checkconfig`, its algorithms `ipsec algparse`")
    func configChanges() throws {
        var seen: Set<String> = [], checked = 0
        for g in Self.given {
            for step in g.finding.remedy.steps where step.kind == .config {
                guard let path = Self.target(g, step), let section = step.connection else { continue }
                let key = "\(path)|\(section)|\(step.remove)|\(step.add)"
                guard seen.insert(key).inserted else { continue }
                let original = try String(contentsOfFile: path, encoding: .utf8)
                let changed: String
                switch Self.apply(original, section: section, remove: step.remove, add: step.add) {
                case .success(let text): changed = text
                case .failure(let e):
                    Issue.record("\(g.label): \(path): \(e)")
                    continue
                }
                // The capture's directory holds what the file includes (ipsec.d/): the copy keeps it beside.
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("remedy-\(getpid())-\(checked)").path
                try? FileManager.default.removeItem(atPath: dir)
                try FileManager.default.copyItem(atPath: (path as NSString).deletingLastPathComponent, toPath: dir)
                defer { try? FileManager.default.removeItem(atPath: dir) }
                try changed.write(toFile: dir + "/ipsec.conf", atomically: false, encoding: .utf8)
                let (status, out) = try Self.run(["/usr/sbin/ipsec", "addconn", "--checkconfig", "--config", dir + "/ipsec.conf"])
                #expect(status == 0, "\(g.label): `\(step.add)` in \(path): addconn --checkconfig: \(out)")
                for line in step.add {
                    let kv = line.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2, ["ike", "esp", "phase2alg"].contains(kv[0]) else { continue }
                    let (s, o) = try Self.run(["/usr/sbin/ipsec", "algparse", "\(kv[0] == "ike" ? "ike" : "esp")=\(kv[1])"])
                    #expect(s == 0 && !o.contains("ERROR"), "\(g.label): \(line): \(o)")
                }
                checked += 1
            }
        }
        #expect(checked >= 20, "\(checked) config changes checked")
    }

    @Test("firewall lines to persist: `iptables-restore --test`, `nft -c` in the table and chain they name")
    func firewallLines() throws {
        var seen: Set<String> = [], checked = 0
        for g in Self.given {
            let commands = g.finding.remedy.steps.compactMap(\.command)
            for step in g.finding.remedy.steps where step.kind == .config && step.file == nil && step.connection == nil {
                for line in step.add where seen.insert(line).inserted {
                    if line.hasPrefix("-A ") {
                        let chain = line.split(separator: " ")[1]
                        let table = ["POSTROUTING", "PREROUTING", "OUTPUT"].contains(chain) && commands.contains { $0.contains("-t nat") } ? "nat" : "filter"
                        let tool = line.contains("::") || line.contains(":/") ? "/usr/sbin/ip6tables-restore" : "/usr/sbin/iptables-restore"
                        let (s, o) = try Self.run(["unshare", "-n", tool, "--test"], stdin: "*\(table)\n:\(chain) ACCEPT [0:0]\n\(line)\nCOMMIT\n")
                        #expect(s == 0, "\(g.label): \(line): \(o)")
                        checked += 1
                    } else {
                        // nft: the chain the finding's own insert command names.
                        let insert = try #require(commands.first { $0.hasPrefix("nft insert rule ") }, "\(g.label): an nft line with no nft command to say where")
                        let w = insert.split(separator: " ").map(String.init)
                        let nat = ["postrouting", "prerouting"].contains(w[5].lowercased())
                        let ruleset = "table \(w[3]) \(w[4]) {\n chain \(w[5]) {\n  type \(nat ? "nat" : "filter") hook \(w[5].lowercased()) priority \(nat ? 100 : 0);\n  \(line)\n }\n}\n"
                        let (s, o) = try Self.run(["unshare", "-n", "/usr/sbin/nft", "-c", "-f", "-"], stdin: ruleset)
                        #expect(s == 0, "\(g.label): \(line): \(o)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked >= 2, "\(checked) firewall lines checked")
    }

    /// The `ipsec` commands this Libreswan has (`ipsec --help`).
    static let ipsecCommands: Set<String> = {
        guard let (_, help) = try? run(["/usr/sbin/ipsec", "--help"]) else { return [] }
        let body = help.components(separatedBy: "is one of:").last?.components(separatedBy: "See also").first ?? ""
        return Set(body.split(whereSeparator: \.isWhitespace).map(String.init))
    }()

    /// CMD's simple commands: split at `;`, `&&`, `||`, `|` outside quotes.
    static func simpleCommands(_ cmd: String) -> [String] {
        var out: [String] = [], cur = "", quote: Character? = nil
        var chars = Array(cmd)[...]
        while let c = chars.popFirst() {
            if let q = quote {
                if c == q { quote = nil }
                cur.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                cur.append(c)
            } else if c == ";" || c == "|" || (c == "&" && chars.first == "&") {
                if chars.first == c { chars.removeFirst() }
                out.append(cur)
                cur = ""
            } else {
                cur.append(c)
            }
        }
        out.append(cur)
        return out.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test("commands: bash parses each; `ipsec X` exists in this Libreswan; `ipsec auto` takes its options (--showonly)")
    func commands() throws {
        #expect(Self.ipsecCommands.isSuperset(of: ["auto", "whack", "addconn", "trafficstatus"]), "\(Self.ipsecCommands)")
        #expect(Self.simpleCommands("a 'x;y' && b | c; d") == ["a 'x;y'", "b", "c", "d"])
        var seen: Set<String> = [], checked = 0
        for g in Self.given {
            for command in g.finding.remedy.steps.compactMap(\.command) where seen.insert(command).inserted {
                let (s, o) = try Self.run(["/bin/bash", "-n", "-c", command])
                #expect(s == 0, "\(g.label): bash cannot parse `\(command)`: \(o)")
                for simple in Self.simpleCommands(command) {
                    var words = simple.split(separator: " ").map(String.init).filter { !$0.hasPrefix("2>") && $0 != ">/dev/null" }
                    if words.first == "sudo" { words.removeFirst() }
                    guard words.first == "ipsec", words.count > 1 else { continue }
                    #expect(Self.ipsecCommands.contains(words[1]), "\(g.label): `ipsec \(words[1])` is not a command of this Libreswan (\(command))")
                    if words[1] == "auto" {
                        let (s, o) = try Self.run(["/usr/sbin/ipsec", "auto", "--showonly"] + words.dropFirst(2))
                        #expect(s == 0, "\(g.label): `\(simple)`: \(o)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked >= 10, "\(checked) ipsec commands checked")
    }
}

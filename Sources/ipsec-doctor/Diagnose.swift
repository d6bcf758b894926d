import ArgumentParser
import DoctorCollect
import DoctorCore
import DoctorModel
import DoctorParse
import DoctorReport
import DoctorRules
import Foundation

struct Diagnose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Diagnose this machine (read-only, no PATH) or captured outputs (PATH: a snapshot directory or files).",
        discussion: """
            Examples:
              sudo ipsec-doctor diagnose                       # this machine, read-only
              sudo ipsec-doctor diagnose -c office -f json     # one connection
              ipsec-doctor diagnose west/ -p east/             # both ends' captures
              ipsec-doctor diagnose capture/                   # holds west/ and east/
              ipsec-doctor diagnose paste.txt journal.txt      # any file names
              journalctl -u ipsec | ipsec-doctor diagnose -    # a pipe or a paste
              ipsec-doctor diagnose -f sarif gw1/ > gw1.sarif  # CI annotations

            A snapshot directory holds any of (other names are recognised by content):
              ipsec.conf, ipsec.d/      the configuration (includes stay in the capture)
              ipsec.secrets             only fingerprints are kept, never printed
              ipsec-up.txt              what `ipsec up CONN` printed
              ipsec-trafficstatus.txt   `ipsec trafficstatus`
              ipsec-status.txt          `ipsec status`
              ip-xfrm-policy.txt        `ip -s xfrm policy`
              ip-xfrm-state.txt         `ip -s xfrm state`
              xfrm_stat.txt             /proc/net/xfrm_stat samples, each after `# TIME`
              ip-xfrm-monitor.txt       `ip xfrm monitor`
              nft-ruleset.txt/.json     `nft list ruleset` / `nft -j list ruleset`
              iptables-save.txt         `iptables-save`
              ip-addr.txt               `ip addr`
              ip-route.txt              `ip route`
              ip-link.txt               `ip -d link`
              pluto.log, journal.txt    pluto's log file, `journalctl -u ipsec`
              ping.txt                  your test through the tunnel (`ping -M do -s SIZE`)
              meta.json                 {"libreswan": "Libreswan 4.10"}

            Exit status: 0 healthy, 1 problems found, 2 could not diagnose (no usable
            input), 64 usage error.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, sarif
    }

    @Option(name: .shortAndLong, help: "text, json (docs/schema/diagnose.schema.json) or sarif (SARIF 2.1.0, for CI annotations).")
    var format: Format = .text

    @Flag(name: .shortAndLong, help: "Text: list every input read.")
    var verbose = false

    enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Option(help: "Text: colour (auto: on a terminal, unless NO_COLOR is set or TERM=dumb).")
    var color: ColorChoice = .auto

    @Option(name: [.customShort("c"), .customLong("conn")], help: "Only this connection.",
            completion: .custom(Diagnose.completeConnections))
    var connection: String?

    @Option(name: .shortAndLong, help: "The other end's capture (snapshot directory or file); repeat for several files.",
            completion: .file())
    var peer: [String] = []

    @Option(help: "Seconds between the two /proc/net/xfrm_stat samples in live mode.")
    var sampleSeconds: Double = 3

    @Option(help: "Timeout in seconds for each command run in live mode.")
    var commandTimeout: Double = 10

    @Option(help: "Live mode: ipsec.conf to read (default /etc/ipsec.conf).", completion: .file())
    var config: String?

    @Option(help: "Live mode: ipsec.secrets to read (default /etc/ipsec.secrets; only fingerprints are kept).", completion: .file())
    var secrets: String?

    @Option(help: "Live mode: pluto's control socket (default /run/pluto/pluto.ctl).", completion: .file())
    var ctlsocket: String?

    @Option(name: .customLong("log"), help: "Live mode: pluto log file to read instead of the journal; repeatable.", completion: .file())
    var logs: [String] = []

    @Argument(help: "Snapshot directories or captured files; - reads standard input (a paste, a pipe). None: diagnose this machine.",
              completion: .file())
    var paths: [String] = []

    func validate() throws {
        // Written so that NaN fails too (every comparison with NaN is false).
        if !(sampleSeconds >= 0 && sampleSeconds <= 60) { throw ValidationError("--sample-seconds must be between 0 and 60") }
        if !(commandTimeout > 0 && commandTimeout <= 300) { throw ValidationError("--command-timeout must be more than 0 and at most 300") }
        if !paths.isEmpty && (config != nil || secrets != nil || ctlsocket != nil || !logs.isEmpty) {
            throw ValidationError("--config, --secrets, --ctlsocket and --log are for live mode (no PATH); name captured files as PATHs")
        }
        // `ipsec-doctor code` is a mistyped subcommand, not a capture named "code".
        if let word = paths.first, !word.contains("/"), word != "-", !FileManager.default.fileExists(atPath: word),
            let near = Self.subcommands.first(where: { RuleCatalog.editDistance($0, word) <= 2 })
        {
            throw ValidationError("unknown subcommand or missing path '\(word)'; did you mean '\(near)'?")
        }
        for p in peer where p != "-" && !FileManager.default.fileExists(atPath: p) {
            throw ValidationError("--peer \(p): no such file or directory")
        }
        let real = { (p: String) in URL(fileURLWithPath: p).resolvingSymlinksInPath().standardizedFileURL.path }
        if !peer.isEmpty, Set(peer.map(real)) == Set(paths.map(real)) {
            throw ValidationError("--peer names the same capture as PATH; give the other end's capture")
        }
    }

    static let subcommands = ["diagnose", "compare", "codes", "help"]

    /// Shell completion of `--conn`: the connection names of the capture named so far on the command line
    /// (its ipsec.conf, or west/'s of a directory holding both ends), else of `--config`, else of
    /// /etc/ipsec.conf. A capture's includes stay inside it, as when it is diagnosed.
    static func completeConnections(_ words: [String]) -> [String] {
        let takesValue: Set<String> = [
            "-f", "--format", "--color", "-c", "--conn", "-p", "--peer", "--sample-seconds", "--command-timeout",
            "--config", "--secrets", "--ctlsocket", "--log",
        ]
        var captures: [String] = [], config: String?
        var i = 0
        while i < words.count {
            let w = words[i]
            if w == "--config", i + 1 < words.count { config = words[i + 1] }
            if takesValue.contains(w) {
                i += 2
                continue
            }
            if !w.hasPrefix("-"), !subcommands.contains(w), FileManager.default.fileExists(atPath: w) { captures.append(w) }
            i += 1
        }
        var files: [(path: String, confined: Bool)] = []
        for c in captures {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: c, isDirectory: &isDir) else { continue }
            if !isDir.boolValue {
                if (c as NSString).lastPathComponent == "ipsec.conf" { files.append((c, true)) }
            } else if let ends = SnapshotLoader.bothEnds(in: c) {
                files.append((ends.local + "/ipsec.conf", true))
            } else {
                files.append((c + "/ipsec.conf", true))
            }
        }
        if files.isEmpty { files = [(config ?? "/etc/ipsec.conf", false)] }
        var names: Set<String> = []
        for f in files where FileManager.default.isReadableFile(atPath: f.path) {
            let doc = RawDocument(name: f.path, content: .file(path: f.path), kind: .ipsecConf)
            names.formUnion(IpsecConfParser.parse(doc, confined: f.confined).0.connections.map(\.name))
        }
        return names.sorted()
    }

    static func useColor(_ choice: ColorChoice) -> Bool {
        let env = ProcessInfo.processInfo.environment
        switch choice {
        case .always: return true
        case .never: return false
        case .auto: return isatty(STDOUT_FILENO) == 1 && env["NO_COLOR"].map(\.isEmpty) != false && env["TERM"] != "dumb"
        }
    }

    /// COLUMNS, else the terminal's own width (TIOCGWINSZ), else 110.
    static func terminalWidth() -> Int {
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
        var ws = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return 110
    }

    func run() throws {
        let source: DoctorCore.Source = paths.isEmpty
            ? .live(.init(sampleSeconds: sampleSeconds, commandTimeout: commandTimeout, config: config, secrets: secrets, ctlSocket: ctlsocket, logs: logs))
            : .captured(paths)
        let diagnosed: DoctorCore.Diagnosed
        do {
            diagnosed = try DoctorCore.diagnose(source, peer: peer, connection: connection)
        } catch DoctorCore.Failure.unknownConnection(let name, let known) {
            FileHandle.standardError.write(Data("ipsec-doctor: no connection named \"\(name)\" in the input (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))\n".utf8))
            throw ExitCode(Diagnosis.ExitStatus.couldNotDiagnose.rawValue)
        }
        let diagnosis = diagnosed.diagnosis
        for n in diagnosed.notes { FileHandle.standardError.write(Data("ipsec-doctor: \(n)\n".utf8)) }
        for d in diagnosis.diagnostics { FileHandle.standardError.write(Data((d.formatted + "\n").utf8)) }
        switch format {
        case .json: print(JSONReport.render(diagnosis))
        case .sarif:
            print(SARIFReport.render(
                diagnosis, rules: RuleCatalog.all.map { SARIFReport.RuleDescriptor(code: $0.code.rawValue, summary: $0.summary) },
                toolVersion: JSONReport.toolVersion))
        case .text:
            print(TextReport(color: Self.useColor(color), verbose: verbose, width: Self.terminalWidth()).render(diagnosis))
        }
        let status = diagnosis.exitStatus
        if status != .healthy { throw ExitCode(status.rawValue) }
    }
}

struct Codes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the finding codes and what each means.",
        discussion: """
            The codes are stable: scripts and the JSON output rely on them (docs/findings.md).
            Examples:
              ipsec-doctor codes
              ipsec-doctor codes --explain psk-mismatch
              ipsec-doctor codes --format json | jq -r '.codes[].code'
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, markdown
    }

    @Option(name: .shortAndLong, help: "text, json (docs/schema/codes.schema.json) or markdown (the table of docs/findings.md).")
    var format: Format = .text

    @Flag(help: .hidden)
    var markdown = false

    @Option(help: ArgumentHelp("What one code means, what follows from it, and the lab captures that show it.", valueName: "code"),
            completion: .list(RuleCatalog.all.map { $0.code.rawValue }))
    var explain: String?

    func validate() throws {
        if let explain, RuleCatalog.explain(explain) == nil {
            let near = RuleCatalog.nearest(explain).map { "; did you mean '\($0)'?" } ?? " (ipsec-doctor codes lists them)"
            throw ValidationError("unknown code '\(explain)'\(near)")
        }
    }

    func run() {
        if let explain, let text = RuleCatalog.explain(explain) {
            print(text, terminator: "")
            return
        }
        switch markdown ? .markdown : format {
        case .markdown: print(RuleCatalog.markdownTable(), terminator: "")
        case .json: print(RuleCatalog.json(toolVersion: JSONReport.toolVersion))
        case .text:
            for rule in RuleCatalog.all { print("\(rule.code.rawValue.padding(toLength: 28, withPad: " ", startingAt: 0)) \(rule.summary)") }
        }
    }
}

import ArgumentParser
import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorReport
import DoctorRules
import Foundation

struct Diagnose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Diagnose this machine (read-only, no PATH) or captured outputs (PATH: a snapshot directory or files).",
        discussion: """
            Exit status: 0 healthy, 1 problems found, 2 could not diagnose (no usable input), 64 usage error.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Flag(name: .shortAndLong, help: "Text: list every input read.")
    var verbose = false

    enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Option(help: "Text: colour (auto: on a terminal, unless NO_COLOR is set or TERM=dumb).")
    var color: ColorChoice = .auto

    @Option(name: .customLong("conn"), help: "Only this connection.")
    var connection: String?

    @Option(help: "The other end's capture (snapshot directory or file); repeat for several files.")
    var peer: [String] = []

    @Option(help: "Seconds between the two /proc/net/xfrm_stat samples in live mode.")
    var sampleSeconds: Double = 3

    @Option(help: "Timeout in seconds for each command run in live mode.")
    var commandTimeout: Double = 10

    @Option(help: "Live mode: ipsec.conf to read (default /etc/ipsec.conf).")
    var config: String?

    @Option(help: "Live mode: ipsec.secrets to read (default /etc/ipsec.secrets; only fingerprints are kept).")
    var secrets: String?

    @Option(help: "Live mode: pluto's control socket (default /run/pluto/pluto.ctl).")
    var ctlsocket: String?

    @Option(name: .customLong("log"), help: "Live mode: pluto log file to read instead of the journal; repeatable.")
    var logs: [String] = []

    @Argument(help: "Snapshot directories or captured files; - reads standard input (a paste, a pipe). None: diagnose this machine.")
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
            let near = Self.subcommands.first(where: { Self.distance($0, word) <= 2 })
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

    static let subcommands = ["diagnose", "codes", "help"]

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

    /// Edit distance (Levenshtein), for the subcommand suggestion.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }

    func run() throws {
        var paths = self.paths, peer = self.peer
        // A directory that holds both ends' captures (west/ and east/, as the lab writes them): both ends.
        if paths.count == 1, peer.isEmpty, let ends = SnapshotLoader.bothEnds(in: paths[0]) {
            FileHandle.standardError.write(Data("ipsec-doctor: \(paths[0]) holds two ends' captures: diagnosing \(ends.local) with --peer \(ends.peer)\n".utf8))
            paths = [ends.local]
            peer = [ends.peer]
        }
        let collected: CollectedInputs
        if paths.isEmpty {
            collected = LiveCollector(
                sampleInterval: sampleSeconds, commandTimeout: commandTimeout, configPath: config, secretsPath: secrets,
                ctlSocket: ctlsocket, logPaths: logs
            ).collect()
        } else {
            collected = SnapshotLoader.load(paths: paths)
        }
        let local = SnapshotBuilder.build(collected)
        let peerSnap = peer.isEmpty ? nil : SnapshotBuilder.build(SnapshotLoader.load(paths: peer, label: nil))
        let context = DiagnosisContext(local: local, peer: peerSnap, connectionFilter: connection)
        if let connection, context.connectionNames.isEmpty {
            let known = DiagnosisContext(local: local).connectionNames
            FileHandle.standardError.write(Data("ipsec-doctor: no connection named \"\(connection)\" in the input (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))\n".utf8))
            throw ExitCode(Diagnosis.ExitStatus.couldNotDiagnose.rawValue)
        }
        let findings = DiagnosisEngine().diagnose(context)
        var diagnostics = local.diagnostics + (peerSnap?.diagnostics ?? [])
        if local.isEmpty {
            diagnostics.append(InputDiagnostic(file: local.isLive ? "this host" : paths.joined(separator: " "), line: nil, message: "nothing usable was read"))
        }
        let connections = context.connectionNames.map { name in
            let up = context.isUp(name)
            return Diagnosis.ConnectionStatus(
                name: name, status: up == true ? "up" : up == false ? "down" : "unknown",
                rootCause: findings.first { $0.connection == name && $0.severity == .error }?.code)
        }
        var inputs = local.inputs
        if local.isEmpty { inputs = [:] }
        var diagnosis = Diagnosis(
            local: local.label, peer: peerSnap?.label, connections: connections, findings: findings,
            skipped: local.skipped + (peerSnap?.skipped ?? []), diagnostics: diagnostics, inputs: inputs,
            libreswanVersion: local.libreswanVersion)
        diagnosis.peerInputs = peerSnap?.inputs ?? [:]
        for d in diagnostics { FileHandle.standardError.write(Data((d.formatted + "\n").utf8)) }
        switch format {
        case .json: print(JSONReport.render(diagnosis))
        case .text:
            print(TextReport(color: Self.useColor(color), verbose: verbose, width: Self.terminalWidth()).render(diagnosis))
        }
        let status = diagnosis.exitStatus
        if status != .healthy { throw ExitCode(status.rawValue) }
    }
}

struct Codes: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the finding codes and what each means.")

    @Flag(help: "Print the table of docs/findings.md.")
    var markdown = false

    func run() {
        if markdown {
            print(RuleCatalog.markdownTable(), terminator: "")
            return
        }
        for rule in RuleCatalog.all { print("\(rule.code.padding(toLength: 28, withPad: " ", startingAt: 0)) \(rule.summary)") }
    }
}

import DoctorModel
import Foundation

/// Collects the facts of this machine, read-only: the commands an expert
/// would type, each with a timeout, and the files they would read. Anything
/// that fails becomes an explained skip.
public struct LiveCollector {
    public var runner: any CommandRunner
    /// Seconds between the two /proc/net/xfrm_stat samples.
    public var sampleInterval: Double
    public var commandTimeout: Double
    public var root: String
    /// Non-default locations (containers, several pluto instances, the lab's namespaces).
    public var configPath: String?
    public var secretsPath: String?
    public var ctlSocket: String?
    /// Log files to read instead of the journal.
    public var logPaths: [String]

    public init(
        runner: any CommandRunner = SystemCommandRunner(), sampleInterval: Double = 3, commandTimeout: Double = 10,
        root: String = "/", configPath: String? = nil, secretsPath: String? = nil, ctlSocket: String? = nil,
        logPaths: [String] = []
    ) {
        self.runner = runner
        self.sampleInterval = sampleInterval
        self.commandTimeout = commandTimeout
        self.root = root
        self.configPath = configPath
        self.secretsPath = secretsPath
        self.ctlSocket = ctlSocket
        self.logPaths = logPaths
    }

    /// The commands run, in order, with the kind of output each produces.
    public func commands() -> [(argv: [String], kind: InputKind)] {
        let whack = ["ipsec", "whack"] + (ctlSocket.map { ["--ctlsocket", $0] } ?? [])
        var list: [(argv: [String], kind: InputKind)] = [
            (whack + ["--trafficstatus"], .trafficStatus),
            (whack + ["--status"], .status),
            (["ip", "-s", "xfrm", "policy"], .xfrmPolicy),
            (["ip", "-s", "xfrm", "state"], .xfrmState),
            (["nft", "list", "ruleset"], .nftRuleset),
            (["iptables-save"], .iptablesSave),
            // Debian's iptables-save is the nft-backed one and cannot see legacy rules: read both.
            (["iptables-legacy-save"], .iptablesSave),
            (["ip", "addr"], .ipAddr),
            (["ip", "route"], .ipRoute),
            (["ip", "-d", "link"], .ipLink),
        ]
        // Given log files replace the journal (which would be another pluto's).
        if logPaths.isEmpty {
            list.append((["journalctl", "-u", "ipsec", "--no-pager", "-o", "short-precise", "-n", "20000"], .plutoLog))
        }
        return list
    }

    public func collect() -> CollectedInputs {
        var out = CollectedInputs(label: "this host", isLive: true)
        let version = runner.run(["ipsec", "--version"], timeout: commandTimeout)
        let hasLibreswan: Bool
        out.versionBanner = version.stdout.split(separator: "\n").first.map(String.init)
        switch version.outcome {
        case .exited(0) where version.stdout.contains("strongSwan"):
            // strongSwan's `ipsec` has no whack: say what runs here rather than "pluto is not running".
            hasLibreswan = false
            out.skipped.append(SkippedInput(input: "ipsec --version", reason: "this host runs strongSwan, not Libreswan; ipsec-doctor reads Libreswan only (strongSwan support is planned)", code: .otherDaemon))
        case .exited(0) where version.stdout.lowercased().contains("swan"):
            hasLibreswan = true
        case .timedOut(let secs):
            // A slow or hung `ipsec` is not a missing one: say so, and still ask pluto (each call has its timeout).
            hasLibreswan = true
            out.skipped.append(SkippedInput(input: "ipsec --version", reason: "no answer within \(Int(secs)) s; killed (the Libreswan version is unknown)", code: .timedOut))
        default:
            hasLibreswan = false
            out.skipped.append(SkippedInput(input: "ipsec --version", reason: Self.libreswanMissing, code: .notInstalled))
        }
        for (argv, kind) in commands() {
            if !hasLibreswan && argv[0] == "ipsec" { continue }
            let name = argv.joined(separator: " ")
            let r = runner.run(argv, timeout: commandTimeout)
            switch r.outcome {
            case .exited(0) where kind == .plutoLog && r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "-- No entries --":
                out.skipped.append(SkippedInput(input: name, reason: "the journal has no entries for the ipsec unit", code: .empty, kind: kind))
            case .exited(0):
                out.documents.append(RawDocument(name: name, content: .text(r.stdout), kind: kind))
            case .exited(let code):
                let why = r.stderr.split(separator: "\n").first.map(String.init) ?? "no error text"
                out.skipped.append(SkippedInput(input: name, reason: "exited with status \(code): \(why)", code: .failed, kind: kind))
            case .timedOut(let s):
                out.skipped.append(SkippedInput(input: name, reason: "no answer within \(Int(s)) s; killed", code: .timedOut, kind: kind))
                out.timedOut.append(name)
            case .notFound where Self.optionalTools.contains(argv[0]):
                continue
            case .notFound:
                out.skipped.append(SkippedInput(input: name, reason: "`\(argv[0])` is not installed", code: .notInstalled, kind: kind))
            case .failedToStart(let e):
                out.skipped.append(SkippedInput(input: name, reason: "could not start: \(e)", code: .couldNotStart, kind: kind))
            }
        }
        let conf = configPath ?? path("etc/ipsec.conf")
        readFile(conf, kind: .ipsecConf, into: &out)
        readFile(secretsPath ?? path("etc/ipsec.secrets"), kind: .ipsecSecrets, into: &out)
        var logs = logPaths
        if logs.isEmpty {
            // `logfile=` in config setup, else the usual places.
            logs = Self.logfileSetting(conf).map { [$0] } ?? ["var/log/pluto.log", "var/log/pluto/pluto.log"].map(path)
                .filter { FileManager.default.fileExists(atPath: $0) }
        }
        for log in logs { readFile(log, kind: .plutoLog, into: &out) }
        out.documents.append(contentsOf: sampleXfrmStat(into: &out))
        return out
    }

    /// The reason recorded when this machine has no Libreswan (the report then cannot call it healthy).
    public static let libreswanMissing = "Libreswan is not installed on this machine (no working `ipsec` command); IKE state and logs were not collected"

    /// Tools whose absence is normal and not worth a "not collected" line.
    static let optionalTools: Set<String> = ["iptables-legacy-save"]

    /// `logfile=/var/log/pluto.log` from ipsec.conf, found without parsing the whole file.
    static func logfileSetting(_ conf: String) -> String? {
        guard let text = try? String(contentsOfFile: conf, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("logfile=") {
                let v = t.dropFirst("logfile=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                return v.hasPrefix("/") ? v : nil
            }
        }
        return nil
    }

    func path(_ rel: String) -> String { root == "/" ? "/" + rel : (root as NSString).appendingPathComponent(rel) }

    func readFile(_ p: String, kind: InputKind, into out: inout CollectedInputs) {
        if !FileManager.default.fileExists(atPath: p) {
            out.skipped.append(SkippedInput(input: p, reason: "does not exist", code: .missing, kind: kind))
        } else if !FileManager.default.isReadableFile(atPath: p) {
            out.skipped.append(SkippedInput(input: p, reason: "permission denied (run as root)", code: .permissionDenied, kind: kind))
        } else {
            out.documents.append(RawDocument(name: p, content: .file(path: p), kind: kind))
        }
    }

    /// Two samples `sampleInterval` apart, in the snapshot's xfrm_stat.txt format.
    func sampleXfrmStat(into out: inout CollectedInputs) -> [RawDocument] {
        let p = path("proc/net/xfrm_stat")
        guard let first = try? String(contentsOfFile: p, encoding: .utf8) else {
            out.skipped.append(SkippedInput(input: p, reason: "not readable (kernel without CONFIG_XFRM_STATISTICS, or no XFRM)", code: .unsupported, kind: .xfrmStat))
            return []
        }
        let t1 = ISO8601DateFormatter().string(from: Date())
        Thread.sleep(forTimeInterval: sampleInterval)
        let second = (try? String(contentsOfFile: p, encoding: .utf8)) ?? ""
        let t2 = ISO8601DateFormatter().string(from: Date())
        let text = "# \(t1)\n\(first)# \(t2)\n\(second)"
        return [RawDocument(name: p, content: .text(text), kind: .xfrmStat)]
    }
}

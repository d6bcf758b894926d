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

    public init(runner: any CommandRunner = SystemCommandRunner(), sampleInterval: Double = 3, commandTimeout: Double = 10, root: String = "/") {
        self.runner = runner
        self.sampleInterval = sampleInterval
        self.commandTimeout = commandTimeout
        self.root = root
    }

    /// The commands run, in order, with the kind of output each produces.
    public static let commands: [(argv: [String], kind: InputKind)] = [
        (["ipsec", "whack", "--trafficstatus"], .trafficStatus),
        (["ipsec", "whack", "--status"], .status),
        (["ip", "-s", "xfrm", "policy"], .xfrmPolicy),
        (["ip", "-s", "xfrm", "state"], .xfrmState),
        (["nft", "list", "ruleset"], .nftRuleset),
        (["iptables-save"], .iptablesSave),
        (["ip", "addr"], .ipAddr),
        (["ip", "route"], .ipRoute),
        (["ip", "-d", "link"], .ipLink),
        (["journalctl", "-u", "ipsec", "--no-pager", "-o", "short-precise", "-n", "20000"], .plutoLog),
    ]

    public func collect() -> CollectedInputs {
        var out = CollectedInputs(label: "this host", isLive: true)
        let version = runner.run(["ipsec", "--version"], timeout: commandTimeout)
        let hasLibreswan: Bool
        if case .exited(0) = version.outcome, version.stdout.lowercased().contains("swan") {
            hasLibreswan = true
        } else {
            hasLibreswan = false
            out.skipped.append(SkippedInput(
                input: "ipsec --version",
                reason: "Libreswan is not installed on this machine (no working `ipsec` command); IKE state and logs were not collected"))
        }
        for (argv, kind) in Self.commands {
            if !hasLibreswan && argv[0] == "ipsec" { continue }
            let name = argv.joined(separator: " ")
            let r = runner.run(argv, timeout: commandTimeout)
            switch r.outcome {
            case .exited(0):
                out.documents.append(RawDocument(name: name, content: .text(r.stdout), kind: kind))
            case .exited(let code):
                let why = r.stderr.split(separator: "\n").first.map(String.init) ?? "no error text"
                out.skipped.append(SkippedInput(input: name, reason: "exited with status \(code): \(why)"))
            case .timedOut(let s):
                out.skipped.append(SkippedInput(input: name, reason: "no answer within \(Int(s)) s; killed"))
            case .notFound:
                out.skipped.append(SkippedInput(input: name, reason: "`\(argv[0])` is not installed"))
            case .failedToStart(let e):
                out.skipped.append(SkippedInput(input: name, reason: "could not start: \(e)"))
            }
        }
        readFile(path("etc/ipsec.conf"), kind: .ipsecConf, into: &out)
        readFile(path("etc/ipsec.secrets"), kind: .ipsecSecrets, into: &out)
        for log in ["var/log/pluto.log", "var/log/pluto/pluto.log"] where FileManager.default.fileExists(atPath: path(log)) {
            readFile(path(log), kind: .plutoLog, into: &out)
        }
        out.documents.append(contentsOf: sampleXfrmStat(into: &out))
        return out
    }

    func path(_ rel: String) -> String { root == "/" ? "/" + rel : (root as NSString).appendingPathComponent(rel) }

    func readFile(_ p: String, kind: InputKind, into out: inout CollectedInputs) {
        if !FileManager.default.fileExists(atPath: p) {
            out.skipped.append(SkippedInput(input: p, reason: "does not exist"))
        } else if !FileManager.default.isReadableFile(atPath: p) {
            out.skipped.append(SkippedInput(input: p, reason: "permission denied (run as root)"))
        } else {
            out.documents.append(RawDocument(name: p, content: .file(path: p), kind: kind))
        }
    }

    /// Two samples `sampleInterval` apart, in the snapshot's xfrm_stat.txt format.
    func sampleXfrmStat(into out: inout CollectedInputs) -> [RawDocument] {
        let p = path("proc/net/xfrm_stat")
        guard let first = try? String(contentsOfFile: p, encoding: .utf8) else {
            out.skipped.append(SkippedInput(input: p, reason: "not readable (kernel without CONFIG_XFRM_STATISTICS, or no XFRM)"))
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

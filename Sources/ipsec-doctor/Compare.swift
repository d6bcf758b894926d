import ArgumentParser
import DoctorCore
import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorReport
import DoctorRules
import Foundation

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict how a tunnel will fail from the two ends' configurations, before anyone runs `ipsec up`.",
        discussion: """
            LEFT and RIGHT are each an ipsec.conf (with ipsec.secrets and ipsec.d/ beside it when present) or
            a snapshot directory. Connections that will talk to each other are paired (same name, or mirrored
            addresses), and each pair gets a verdict: ok, or the code diagnose gives after the negotiation
            (ike-version-mismatch, ike-proposal-mismatch, auth-failed, id-mismatch, psk-mismatch,
            esp-proposal-mismatch, ts-mismatch, shared-reqid, multi-subnet-tmpl-mismatch), with the lines of
            both files, both ends' effective proposals and what they have in common, and the change to make.
            Secrets are compared by fingerprint, never printed.

            Examples:
              ipsec-doctor compare west/ipsec.conf east/ipsec.conf
              ipsec-doctor compare -f json gw1/ gw2/

            Exit status: 0 every pair agrees, 1 a pair will fail (or risks it), 2 nothing to pair, 64 usage.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .shortAndLong, help: "text or json (docs/schema/compare.schema.json).")
    var format: Format = .text

    @Option(help: "Text: colour (auto: on a terminal, unless NO_COLOR is set or TERM=dumb).")
    var color: Diagnose.ColorChoice = .auto

    @Argument(help: "This end's ipsec.conf or snapshot directory.", completion: .file())
    var left: String

    @Argument(help: "The other end's ipsec.conf or snapshot directory.", completion: .file())
    var right: String

    func validate() throws {
        for p in [left, right] where !FileManager.default.fileExists(atPath: p) {
            throw ValidationError("\(p): no such file or directory")
        }
    }

    func run() throws {
        let compared: DoctorCore.Compared
        do {
            compared = try DoctorCore.compare(left, right)
        } catch DoctorCore.Failure.noConfig(let path) {
            for d in DoctorCore.loadEnd(path).diagnostics { FileHandle.standardError.write(Data((d.formatted + "\n").utf8)) }
            FileHandle.standardError.write(Data("ipsec-doctor: \(path): no ipsec.conf read\n".utf8))
            throw ExitCode(Diagnosis.ExitStatus.couldNotDiagnose.rawValue)
        }
        for d in compared.diagnostics { FileHandle.standardError.write(Data((d.formatted + "\n").utf8)) }
        let result = compared.result, l = compared.local, r = compared.peer
        for d in result.problems { FileHandle.standardError.write(Data((d.formatted + "\n").utf8)) }
        switch format {
        case .json: print(CompareReport.json(result, local: l.label, peer: r.label, toolVersion: JSONReport.toolVersion))
        case .text:
            let report = TextReport(color: Diagnose.useColor(color), width: Diagnose.terminalWidth())
            print(CompareReport.text(result, local: l.label, peer: r.label, report: report))
        }
        let status = CompareReport.exitStatus(result)
        if status != 0 { throw ExitCode(status) }
    }
}

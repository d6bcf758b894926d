import ArgumentParser
import DoctorReport
import Foundation

@main
struct IPsecDoctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipsec-doctor",
        abstract: "Tells why a Libreswan IPsec tunnel fails, and exactly how to fix it on both ends.",
        version: "ipsec-doctor \(JSONReport.toolVersion)",
        subcommands: [Diagnose.self, Compare.self, Codes.self],
        defaultSubcommand: Diagnose.self)

    static func main() {
        // A Swift binary on Linux reads its arguments from /proc/self/cmdline: without /proc (a bare chroot)
        // it sees none, not even its own name, and would diagnose this machine instead of the PATHs given.
        if CommandLine.arguments.isEmpty {
            FileHandle.standardError.write(Data("ipsec-doctor: cannot read the command line (is /proc mounted?)\n".utf8))
            Foundation.exit(Diagnosis.ExitStatus.usage.rawValue)
        }
        main(nil)
    }
}

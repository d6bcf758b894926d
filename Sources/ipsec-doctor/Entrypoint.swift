import ArgumentParser
import DoctorReport

@main
struct IPsecDoctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipsec-doctor",
        abstract: "Tells why a Libreswan IPsec tunnel fails, and exactly how to fix it on both ends.",
        version: "ipsec-doctor \(JSONReport.toolVersion)",
        subcommands: [Diagnose.self, Codes.self],
        defaultSubcommand: Diagnose.self)
}

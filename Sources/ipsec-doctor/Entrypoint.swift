import ArgumentParser

@main
struct IPsecDoctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipsec-doctor",
        abstract: "Tells why a Libreswan IPsec tunnel fails, and exactly how to fix it on both ends.",
        subcommands: [Diagnose.self, Codes.self],
        defaultSubcommand: Diagnose.self)
}

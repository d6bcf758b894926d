import DoctorModel
import DoctorRules

/// A finished diagnosis: what was read, what was found, what was skipped.
public struct Diagnosis: Sendable {
    public struct ConnectionStatus: Sendable, Codable {
        public var name: String
        /// `up`, `down` or `unknown`
        public var status: String
        public var rootCause: FindingCode?

        public init(name: String, status: String, rootCause: FindingCode?) {
            self.name = name
            self.status = status
            self.rootCause = rootCause
        }
    }

    public var local: String
    public var peer: String?
    public var connections: [ConnectionStatus]
    public var findings: [Finding]
    public var skipped: [SkippedInput]
    /// Rules not run for want of an input (the engine's explained skips).
    public var notChecked: [NotChecked] = []
    public var diagnostics: [InputDiagnostic]
    public var inputs: [String: InputKind]
    /// The other end's inputs (`--peer`), file -> kind.
    public var peerInputs: [String: InputKind] = [:]
    public var libreswanVersion: String?

    public init(
        local: String, peer: String?, connections: [ConnectionStatus], findings: [Finding], skipped: [SkippedInput],
        diagnostics: [InputDiagnostic], inputs: [String: InputKind], libreswanVersion: String?
    ) {
        self.local = local
        self.peer = peer
        self.connections = connections
        self.findings = findings
        self.skipped = skipped
        self.diagnostics = diagnostics
        self.inputs = inputs
        self.libreswanVersion = libreswanVersion
    }

    /// Documented exit statuses (docs/exit-codes.md). The one place they are decided.
    public enum ExitStatus: Int32 {
        case healthy = 0
        case problemsFound = 1
        case couldNotDiagnose = 2
        case usage = 64
    }

    /// Live mode on a machine without Libreswan: there is no IPsec to call healthy.
    public var libreswanMissing: Bool { skipped.contains { $0.input == "ipsec --version" && $0.reason.hasPrefix("Libreswan is not installed") } }

    public var exitStatus: ExitStatus {
        if findings.contains(where: { $0.severity == .error || $0.severity == .warning }) { return .problemsFound }
        if inputs.isEmpty || libreswanMissing { return .couldNotDiagnose }
        // Live: pluto's or the kernel's state not read (timed out, refused) is no evidence of health.
        if skipped.contains(where: { ($0.input.hasPrefix("ipsec whack") && !$0.reason.contains("Pluto is not running")) || $0.input.hasPrefix("ip -s xfrm") }) {
            return .couldNotDiagnose
        }
        // Healthy means IKE is known to be up: a connection whose state nothing tells (a config alone) is not.
        if !unconfirmed.isEmpty { return .couldNotDiagnose }
        return .healthy
    }

    /// Connections that no input shows established, while nothing was found wrong with them.
    public var unconfirmed: [String] { connections.filter { $0.status != "up" }.map(\.name) }
}

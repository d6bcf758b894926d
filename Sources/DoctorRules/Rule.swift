import DoctorModel

/// A check that turns facts into findings. One rule per file under Rules/,
/// named for what it finds, carrying its own examples from real lab captures.
public protocol Rule: Sendable {
    /// Stable finding code (`psk-mismatch`); part of the public contract.
    static var code: String { get }
    /// What it finds, one line (used in docs/findings.md and `ipsec-doctor codes`).
    static var summary: String { get }
    /// Real captures where the rule must, and must not, produce its code.
    static var examples: [RuleExample] { get }
    /// Codes that follow from this rule's finding on the same connection; the engine attaches them to it.
    static var explains: Set<String> { get }
    init()
    func evaluate(_ context: DiagnosisContext) -> [Finding]
}

extension Rule {
    public static var explains: Set<String> { [] }
}

/// A lab capture a rule is tested against: `examples/<scenario>/<side>`,
/// optionally with the other side as `--peer`.
public struct RuleExample: Sendable {
    public var scenario: String
    public var side: String
    public var withPeer: Bool
    public var triggers: Bool
    /// A substring of an evidence line the finding must cite (for triggering examples).
    public var cites: String?

    public static func triggering(_ scenario: String, _ side: String = "west", withPeer: Bool = false, cites: String? = nil) -> RuleExample {
        RuleExample(scenario: scenario, side: side, withPeer: withPeer, triggers: true, cites: cites)
    }

    public static func nonTriggering(_ scenario: String, _ side: String = "west", withPeer: Bool = false) -> RuleExample {
        RuleExample(scenario: scenario, side: side, withPeer: withPeer, triggers: false, cites: nil)
    }
}

/// Positions in the root-cause ladder (Batfish-style): the earlier a failure
/// happens in a tunnel's life, the lower its rank, and the more it explains.
public enum Rank {
    public static let reachability = 10
    public static let ikeVersion = 20
    public static let ikeProposal = 30
    public static let authentication = 40
    public static let childProposal = 50
    public static let trafficSelectors = 55
    public static let kernelInstall = 60
    public static let dataPathConfig = 70
    public static let dataPath = 80
    public static let liveness = 85
    public static let counters = 90
    public static let down = 95
    public static let advice = 99
}

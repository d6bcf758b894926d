import DoctorModel

/// A check that turns facts into findings. One rule per file under Rules/,
/// named for what it finds, carrying its own examples from real lab captures.
public protocol Rule: Sendable {
    /// Stable finding code (`psk-mismatch`); part of the public contract.
    static var code: FindingCode { get }
    /// Its rung on the root-cause ladder: the engine leads with the earliest cause of a connection.
    static var stage: Stage { get }
    /// The inputs it reads: each need is met when either end's capture holds one of its kinds. When one is
    /// not met the engine does not run the rule and reports it as not checked, with what was missing.
    static var needs: [InputNeed] { get }
    /// What it finds, one line (used in docs/findings.md and `ipsec-doctor codes`).
    static var summary: String { get }
    /// Real captures where the rule must, and must not, produce its code.
    static var examples: [RuleExample] { get }
    /// Codes that follow from this rule's finding on the same connection; the engine attaches them to it.
    static var explains: Set<FindingCode> { get }
    init()
    func evaluate(_ context: DiagnosisContext) -> [Finding]
}

extension Rule {
    public static var explains: Set<FindingCode> { [] }
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

/// One input a rule cannot do without: any one of `kinds` will do (the IKE story is told by pluto's log, by
/// `ipsec up` output or by `ipsec status` alike).
public struct InputNeed: Sendable, Hashable, CustomStringConvertible {
    public var kinds: [InputKind]
    /// What it is for, in a few words (`the IKE daemon's story`), for the not-checked line.
    public var what: String

    public init(_ what: String, _ kinds: [InputKind]) {
        self.what = what
        self.kinds = kinds
    }

    public var description: String { "\(what) (\(kinds.map(\.rawValue).joined(separator: " or ")))" }

    /// Pluto's account of the negotiation.
    public static let ikeStory = InputNeed("the IKE daemon's account", [.plutoLog, .ipsecUp, .status])
    public static let config = InputNeed("the configuration", [.ipsecConf])
    /// A mismatch read from the negotiation, or predicted from the two ends' configurations.
    public static let ikeStoryOrConfig = InputNeed("the IKE daemon's account or the configuration", ikeStory.kinds + [.ipsecConf])
    public static let ikeStoryOrSecrets = InputNeed("the IKE daemon's account or the secrets", ikeStory.kinds + [.ipsecSecrets])
    public static let secrets = InputNeed("the secrets", [.ipsecSecrets])
    /// Something that names the connections (the configuration, or the daemon's account of them).
    public static let connections = InputNeed("the connections", [.ipsecConf, .plutoLog, .ipsecUp, .status])
    /// Which Child SAs are up.
    public static let tunnelState = InputNeed("the tunnels' state", [.trafficStatus, .status, .plutoLog, .ipsecUp])
    public static let spd = InputNeed("the kernel's SPD", [.xfrmPolicy])
    public static let sad = InputNeed("the kernel's SAD", [.xfrmState])
    public static let counters = InputNeed("the kernel's IPsec counters", [.xfrmStat])
    public static let natRules = InputNeed("the NAT rules", [.nftRuleset, .nftJSON, .iptablesSave])
    public static let firewall = InputNeed("the firewall rules", [.nftRuleset, .nftJSON, .iptablesSave])
    public static let interfaces = InputNeed("the interfaces", [.ipAddr, .ipLink])
    public static let routes = InputNeed("the routes", [.ipRoute])
    public static let trafficTest = InputNeed("a test through the tunnel", [.ping])
    public static let monitor = InputNeed("the kernel's SA events", [.xfrmMonitor])
}

/// A rule the engine did not run because an input it needs is in neither end's capture.
public struct NotChecked: Sendable, Hashable, Codable {
    public var code: FindingCode
    /// The needs that were not met, each as `what (kind or kind)`.
    public var missing: [String]
    /// The stable names of the kinds that would meet them (`inputs[].kind`).
    public var kinds: [String]
    /// Why they are missing, when collection says (`ip -s xfrm state: no answer within 10 s; killed`).
    public var because: [String]?

    public init(code: FindingCode, missing: [InputNeed], skipped: [SkippedInput] = []) {
        self.code = code
        self.missing = missing.map(\.description)
        self.kinds = missing.flatMap { $0.kinds.map(\.id) }
        let why = skipped.filter { s in missing.contains { s.kind.map($0.kinds.contains) ?? false } }.map { "\($0.input): \($0.reason)" }
        self.because = why.isEmpty ? nil : why
    }
}

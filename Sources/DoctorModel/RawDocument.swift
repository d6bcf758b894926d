/// What an input document is. Decided from its file name when it is one of
/// the snapshot layout's names, otherwise from its content.
public enum InputKind: String, Sendable, Hashable, CaseIterable {
    case ipsecConf = "ipsec.conf"
    case ipsecSecrets = "ipsec.secrets"
    case ipsecUp = "ipsec up output"
    case plutoLog = "pluto log"
    case trafficStatus = "ipsec trafficstatus"
    case status = "ipsec status"
    case xfrmPolicy = "ip xfrm policy"
    case xfrmState = "ip xfrm state"
    case xfrmStat = "/proc/net/xfrm_stat"
    case xfrmMonitor = "ip xfrm monitor"
    case nftRuleset = "nft list ruleset"
    case nftJSON = "nft -j list ruleset"
    case iptablesSave = "iptables-save"
    case ipAddr = "ip addr"
    case ipRoute = "ip route"
    case ipLink = "ip link"
    case ping = "ping/tracepath"
    case meta = "meta.json"

    /// The stable machine name (JSON `inputs[].kind`, docs/schema/diagnose.schema.json); the raw value is the
    /// report's display name and may change.
    public var id: String {
        switch self {
        case .ipsecConf: "ipsec-conf"
        case .ipsecSecrets: "ipsec-secrets"
        case .ipsecUp: "ipsec-up"
        case .plutoLog: "pluto-log"
        case .trafficStatus: "ipsec-trafficstatus"
        case .status: "ipsec-status"
        case .xfrmPolicy: "ip-xfrm-policy"
        case .xfrmState: "ip-xfrm-state"
        case .xfrmStat: "xfrm-stat"
        case .xfrmMonitor: "ip-xfrm-monitor"
        case .nftRuleset: "nft-ruleset"
        case .nftJSON: "nft-json"
        case .iptablesSave: "iptables-save"
        case .ipAddr: "ip-addr"
        case .ipRoute: "ip-route"
        case .ipLink: "ip-link"
        case .ping: "ping"
        case .meta: "meta"
        }
    }
}

/// An input before parsing: a file to stream, or text a command printed.
public struct RawDocument: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case file(path: String)
        case text(String)
    }

    /// The name used in evidence (`west/pluto.log`, `ip -s xfrm state`).
    public var name: String
    public var content: Content
    /// Known kind (from the file name or the command that produced it); nil means "recognise by content".
    public var kind: InputKind?
    /// Line number of the first line (a section of a pasted file starts mid-file).
    public var firstLine: Int
    /// Secrets the capture holds elsewhere: masked in every line read from this document (in memory only).
    public var knownSecrets = KnownSecrets()

    public init(name: String, content: Content, kind: InputKind?, firstLine: Int = 1) {
        self.name = name
        self.content = content
        self.kind = kind
        self.firstLine = firstLine
    }
}

/// The raw inputs of one end, and what could not be collected.
public struct CollectedInputs: Sendable {
    public var label: String
    public var documents: [RawDocument]
    public var skipped: [SkippedInput]
    public var diagnostics: [InputDiagnostic]
    public var isLive: Bool
    /// The first line of `ipsec --version` (live), whichever daemon answered.
    public var versionBanner: String?
    /// Commands that hung and were killed at their timeout (live).
    public var timedOut: [String] = []

    public init(
        label: String, documents: [RawDocument] = [], skipped: [SkippedInput] = [],
        diagnostics: [InputDiagnostic] = [], isLive: Bool = false
    ) {
        self.label = label
        self.documents = documents
        self.skipped = skipped
        self.diagnostics = diagnostics
        self.isLive = isLive
    }
}

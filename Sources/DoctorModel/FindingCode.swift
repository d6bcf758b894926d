/// A finding's stable code (`psk-mismatch`): the public contract of `diagnose`, `compare`, the JSON and SARIF
/// reports and `codes`. Wording may change; a code does not. Typed so a misspelt code does not compile;
/// encoded as its plain string.
public struct FindingCode: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public var description: String { rawValue }
    public static func < (a: FindingCode, b: FindingCode) -> Bool { a.rawValue < b.rawValue }
}

/// Every code there is, in the words of the domain. A rule names its code from here; the catalog test holds
/// this list equal to the codes the rules produce.
extension FindingCode {
    public static let plutoNotRunning: FindingCode = "pluto-not-running"
    public static let firewallBlocksIKE: FindingCode = "firewall-blocks-ike"
    public static let peerIKENotRunning: FindingCode = "peer-ike-not-running"
    public static let peerUnreachable: FindingCode = "peer-unreachable"
    public static let ikeVersionMismatch: FindingCode = "ike-version-mismatch"
    public static let ikeProposalMismatch: FindingCode = "ike-proposal-mismatch"
    public static let idMismatch: FindingCode = "id-mismatch"
    public static let pskMismatch: FindingCode = "psk-mismatch"
    public static let authFailed: FindingCode = "auth-failed"
    public static let peerDeletesIKESA: FindingCode = "peer-deletes-ike-sa"
    public static let espProposalMismatch: FindingCode = "esp-proposal-mismatch"
    public static let tsMismatch: FindingCode = "ts-mismatch"
    public static let kernelSAInstallFailed: FindingCode = "kernel-sa-install-failed"
    public static let missingPolicy: FindingCode = "missing-policy"
    public static let missingSA: FindingCode = "missing-sa"
    public static let saVanished: FindingCode = "sa-vanished"
    public static let sharedReqid: FindingCode = "shared-reqid"
    public static let multiSubnetTmplMismatch: FindingCode = "multi-subnet-tmpl-mismatch"
    public static let natBeforeIPsec: FindingCode = "nat-before-ipsec"
    public static let repliesInClear: FindingCode = "replies-in-clear"
    public static let mtuBlackhole: FindingCode = "mtu-blackhole"
    public static let dpdTimeout: FindingCode = "dpd-timeout"
    public static let xfrmCounter: FindingCode = "xfrm-counter"
    public static let trafficFails: FindingCode = "traffic-fails"
    public static let tunnelDown: FindingCode = "tunnel-down"
    public static let debugLogging: FindingCode = "debug-logging"

    public static let all: [FindingCode] = [
        .plutoNotRunning, .firewallBlocksIKE, .peerIKENotRunning, .peerUnreachable, .ikeVersionMismatch,
        .ikeProposalMismatch, .idMismatch, .pskMismatch, .authFailed, .peerDeletesIKESA, .espProposalMismatch,
        .tsMismatch, .kernelSAInstallFailed, .missingPolicy, .missingSA, .saVanished, .sharedReqid,
        .multiSubnetTmplMismatch, .natBeforeIPsec, .repliesInClear, .mtuBlackhole, .dpdTimeout, .xfrmCounter,
        .trafficFails, .tunnelDown, .debugLogging,
    ]
}

/// The root-cause ladder (Batfish-style): where in a tunnel's life a failure happens. The earlier the stage,
/// the more it explains: a tunnel whose IKE SA never forms cannot show a data-path fault. Each rule sits on
/// one rung; the engine leads with the earliest. Finer rungs order causes that sit close together (an ID
/// refused is read before the PSK that an initiator cannot tell apart from it).
public enum Stage: String, Sendable, Codable, CaseIterable, Comparable {
    /// This end's IKE daemon is not running or aborted.
    case daemon
    /// This host's firewall drops IKE.
    case hostFirewall
    /// Nothing listens for IKE on the peer.
    case peerDaemon
    /// IKE packets get no answer: the path, the address, the peer host.
    case reachability
    case ikeVersion
    /// The IKE SA's algorithms (IKE_SA_INIT, Main Mode's SA payload).
    case ikeProposal
    /// leftid/rightid, the ID in the certificate.
    case identity
    /// The pre-shared key.
    case sharedSecret
    /// Certificates, keys, authby: the rest of authentication.
    case credentials
    /// The peer deletes the IKE SA it just accepted: it refuses something it does not name.
    case peerRefusal
    /// The Child SA's algorithms (ESP/AH, PFS).
    case childProposal
    case trafficSelectors
    /// The kernel refuses the SA pluto negotiated.
    case kernelInstall
    /// SPD entries for the tunnel.
    case spd
    /// SAD entries for the Child SAs.
    case sad
    /// Several Child SAs tied to one reqid.
    case reqid
    /// Subnet pairs whose templates take another pair's SA.
    case templates
    /// A NAT rule rewrites traffic before the policy lookup.
    case natBeforeIPsec
    /// Replies leave unencrypted.
    case repliesInClear
    /// Packets too big for the path once ESP is added.
    case pathMTU
    /// DPD: the peer stopped answering on an established tunnel.
    case liveness
    /// xfrm_stat counters.
    case counters
    /// The user's own test through the tunnel fails.
    case trafficTest
    /// The tunnel is down and nothing earlier says why.
    case down
    /// Advice that does not explain a failure (turn on logging).
    case advice

    /// Position on the ladder, 0 first (JSON `rank`).
    public var position: Int { Self.positions[self]! }
    private static let positions = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
    public static func < (a: Stage, b: Stage) -> Bool { a.position < b.position }
}

/// `ipsec trafficstatus`: one established Child SA.
public struct TrafficStatusEntry: Sendable, Hashable {
    public var serial: Int
    public var connection: String
    public var inBytes: UInt64
    public var outBytes: UInt64
    public var peerID: String?
    public var source: SourceLine

    public init(serial: Int, connection: String, inBytes: UInt64, outBytes: UInt64, peerID: String?, source: SourceLine) {
        self.serial = serial
        self.connection = connection
        self.inBytes = inBytes
        self.outBytes = outBytes
        self.peerID = peerID
        self.source = source
    }
}

/// A state line of `ipsec status` / `ipsec showstates`.
public struct StatusState: Sendable, Hashable {
    public var serial: Int
    public var connection: String
    /// `STATE_V2_ESTABLISHED_CHILD_SA`, `ESTABLISHED_IKE_SA`, or the 5.4 story text.
    public var state: String
    public var source: SourceLine

    public init(serial: Int, connection: String, state: String, source: SourceLine) {
        self.serial = serial
        self.connection = connection
        self.state = state
        self.source = source
    }

    public var isEstablishedChild: Bool {
        let s = state.uppercased()
        return s.contains("ESTABLISHED_CHILD_SA") || s.contains("QUICK_I2") || s.contains("QUICK_R2")
            || s.contains("IPSEC_I") || s.contains("IPSEC_R") || s.contains("ESTABLISHED CHILD SA")
            || s.contains("IPSEC SA ESTABLISHED")
    }
}

/// A NAT rule in the nat POSTROUTING path, normalised from nftables or iptables.
public struct NatRule: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable {
        case masquerade, snat, accept, `return`, other
    }

    /// `nft` or `iptables`
    public var backend: String
    /// nft `family table chain` or iptables chain.
    public var chain: String
    /// Order in the chain (0 first).
    public var position: Int
    public var saddr: IPPrefix?
    public var daddr: IPPrefix?
    public var saddrNegated: Bool
    public var daddrNegated: Bool
    public var outInterface: String?
    /// The rule matches IPsec policy (`-m policy --pol ipsec`, `ipsec out`, `meta ipsec exists`) and so exempts itself.
    public var matchesIPsecPolicy: Bool
    /// `-m policy --pol none`: applies only to non-IPsec traffic.
    public var excludesIPsecPolicy: Bool
    public var action: Action
    /// For nft: the table family (`ip`, `inet`); the chain's hook priority when known.
    public var family: String?
    public var table: String?
    public var source: SourceLine

    public init(
        backend: String, chain: String, position: Int, saddr: IPPrefix?, daddr: IPPrefix?, saddrNegated: Bool,
        daddrNegated: Bool, outInterface: String?, matchesIPsecPolicy: Bool, excludesIPsecPolicy: Bool,
        action: Action, family: String?, table: String?, source: SourceLine
    ) {
        self.backend = backend
        self.chain = chain
        self.position = position
        self.saddr = saddr
        self.daddr = daddr
        self.saddrNegated = saddrNegated
        self.daddrNegated = daddrNegated
        self.outInterface = outInterface
        self.matchesIPsecPolicy = matchesIPsecPolicy
        self.excludesIPsecPolicy = excludesIPsecPolicy
        self.action = action
        self.family = family
        self.table = table
        self.source = source
    }

    /// Would this rule match a packet from `src` to `dst` (ignoring interfaces)?
    public func matches(src: IPPrefix, dst: IPPrefix) -> Bool {
        func ok(_ p: IPPrefix?, _ neg: Bool, _ a: IPPrefix) -> Bool {
            guard let p else { return true }
            let hit = p.contains(a)
            return neg ? !p.overlaps(a) : hit
        }
        return ok(saddr, saddrNegated, src) && ok(daddr, daddrNegated, dst)
    }
}

/// A rule of an input filter chain (iptables filter INPUT, nft `type filter hook input`), reduced to
/// what decides whether IKE (UDP 500/4500) and ESP get in.
public struct FilterRule: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable {
        case accept, drop, reject, other
    }

    public var backend: String
    public var chain: String
    public var position: Int
    /// `udp`, `esp`, `tcp`, or nil for any protocol.
    public var proto: String?
    /// Destination ports (empty: any).
    public var dports: [Int]
    public var saddr: IPPrefix?
    /// The rule has further conditions (length, state, rate limits, interfaces...): it does not always apply.
    public var conditional: Bool
    public var action: Action
    public var source: SourceLine

    public init(
        backend: String, chain: String, position: Int, proto: String?, dports: [Int], saddr: IPPrefix?,
        conditional: Bool, action: Action, source: SourceLine
    ) {
        self.backend = backend
        self.chain = chain
        self.position = position
        self.proto = proto
        self.dports = dports
        self.saddr = saddr
        self.conditional = conditional
        self.action = action
        self.source = source
    }

    /// Does this rule match IKE/NAT-T (`udp`, `port`) or ESP (`esp`, nil) from `from`?
    public func matches(proto p: String, port: Int?, from: IPPrefix?) -> Bool {
        if let proto, proto != p { return false }
        if let port, !dports.isEmpty, !dports.contains(port) { return false }
        if port == nil && !dports.isEmpty { return false }
        if let saddr, let from, !saddr.contains(from) { return false }
        return true
    }
}

/// An input chain's default policy (`:INPUT DROP`, `policy drop;`).
public struct FilterPolicy: Sendable, Hashable {
    public var backend: String
    public var chain: String
    public var action: FilterRule.Action
    public var source: SourceLine

    public init(backend: String, chain: String, action: FilterRule.Action, source: SourceLine) {
        self.backend = backend
        self.chain = chain
        self.action = action
        self.source = source
    }
}

/// An interface from `ip addr` / `ip link`.
public struct NetInterface: Sendable, Hashable {
    public var name: String
    public var mtu: Int?
    public var addresses: [IPPrefix]
    public var source: SourceLine

    public init(name: String, mtu: Int?, addresses: [IPPrefix], source: SourceLine) {
        self.name = name
        self.mtu = mtu
        self.addresses = addresses
        self.source = source
    }
}

/// A route from `ip route`.
public struct Route: Sendable, Hashable {
    public var destination: String  // "default" or a prefix
    public var via: String?
    public var device: String?
    public var mtu: Int?
    public var source: SourceLine

    public init(destination: String, via: String?, device: String?, mtu: Int?, source: SourceLine) {
        self.destination = destination
        self.via = via
        self.device = device
        self.mtu = mtu
        self.source = source
    }
}

/// One ping run from `ping.txt`: the payload size and whether any reply came back.
public struct PingProbe: Sendable, Hashable {
    public var destination: String
    /// ICMP payload bytes (`-s`); the IP packet is payload + 28 (IPv4).
    public var payloadSize: Int
    public var dontFragment: Bool
    public var transmitted: Int
    public var received: Int
    /// `mtu=N` from "local error: message too long, mtu=N" / "Frag needed and DF set (mtu = N)".
    public var reportedMTU: Int?
    /// The address the ping was sent from (`from 10.1.0.1` in its PING line, `-I`): which subnet pair it tested.
    public var sourceAddress: String?
    public var source: SourceLine

    public init(
        destination: String, payloadSize: Int, dontFragment: Bool, transmitted: Int, received: Int,
        reportedMTU: Int?, sourceAddress: String? = nil, source: SourceLine
    ) {
        self.destination = destination
        self.sourceAddress = sourceAddress
        self.payloadSize = payloadSize
        self.dontFragment = dontFragment
        self.transmitted = transmitted
        self.received = received
        self.reportedMTU = reportedMTU
        self.source = source
    }
}

/// Everything known about one gateway, whatever it was read from (live
/// commands, a snapshot directory, pasted output). Rules read only this.
public struct EndpointSnapshot: Sendable {
    /// How to name this end in the report (`west`, `this host`).
    public var label: String
    public var config: IpsecConfig?
    public var secrets: [SecretEntry]?
    public var events = IKEEventLog()
    /// Files that contributed log lines (`ipsec-up.txt`, `pluto.log`).
    public var logFiles: [String] = []
    public var trafficStatus: [TrafficStatusEntry]?
    public var statusStates: [StatusState]?
    /// Connection names `ipsec status` lists as loaded.
    public var statusConnections: [String]?
    public var policies: [XfrmPolicy]?
    public var states: [XfrmState]?
    public var xfrmStat: [XfrmStatSample]?
    public var monitor: [XfrmMonitorEvent]?
    public var natRules: [NatRule]?
    /// Input filter rules and chain policies (the host firewall).
    public var filterRules: [FilterRule]?
    public var filterPolicies: [FilterPolicy]?
    public var interfaces: [NetInterface]?
    public var routes: [Route]?
    public var pings: [PingProbe]?
    /// Inputs that could not be collected or read.
    public var skipped: [SkippedInput] = []
    public var diagnostics: [InputDiagnostic] = []
    /// Files recognised, by kind (for the report header).
    public var inputs: [String: InputKind] = [:]
    /// True when this snapshot is the live machine.
    public var isLive = false
    /// `ipsec --version` if known.
    public var libreswanVersion: String?
    /// Whack's own words when it could not reach pluto (`whack: Pluto is not running (no "/run/pluto/pluto.ctl")`).
    public var plutoNotRunning: SourceLine?
    /// A whack command that pluto did not answer in time (the daemon is hung or overloaded).
    public var plutoUnresponsive: SourceLine?
    /// Another IKE daemon's banner where Libreswan was expected (`Linux strongSwan U5.9.8/K6.1.0`).
    public var otherIKEDaemon: SourceLine?

    public init(label: String) {
        self.label = label
    }

    /// Local addresses from `ip addr`.
    public var localAddresses: [IPPrefix] { interfaces?.flatMap(\.addresses) ?? [] }

    /// True when nothing usable was read: no fact came out of any input (every file empty, garbage, UTF-16,
    /// CR-only, refused). An empty SPD next to a real xfrm_stat is a fact; an empty SPD alone is not enough
    /// to call anything healthy.
    public var isEmpty: Bool {
        let conf = (config?.connections.isEmpty ?? true) && (config?.setup.isEmpty ?? true)
        return conf && (secrets?.isEmpty ?? true) && events.isEmpty && (trafficStatus?.isEmpty ?? true) && (statusStates?.isEmpty ?? true)
            && (statusConnections?.isEmpty ?? true) && (policies?.isEmpty ?? true) && (states?.isEmpty ?? true)
            && (xfrmStat?.isEmpty ?? true) && (natRules?.isEmpty ?? true) && (filterRules?.isEmpty ?? true)
            && (filterPolicies?.isEmpty ?? true) && (interfaces?.isEmpty ?? true) && (routes?.isEmpty ?? true)
            && (pings?.isEmpty ?? true) && (monitor?.isEmpty ?? true) && plutoNotRunning == nil
            && plutoUnresponsive == nil && otherIKEDaemon == nil
    }
}

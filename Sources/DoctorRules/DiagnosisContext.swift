import DoctorModel
import Foundation

/// What the rules see: this end, optionally the peer, and helpers that
/// answer the questions most rules ask.
public struct DiagnosisContext: Sendable {
    public let local: EndpointSnapshot
    public let peer: EndpointSnapshot?
    /// `--conn NAME`
    public let connectionFilter: String?
    /// Connection names to diagnose: configured ones, plus any the logs or `ipsec status` talk about.
    public let connectionNames: [String]
    /// Computed once: every rule asks for configs and Child SAs by name, for every connection of a hub.
    private let configs: [String: ConnectionConfig]
    private let peerConfigs: [String: ConnectionConfig]
    private let trafficByName: Set<String>
    let localPSKs: PSKIndex
    let peerPSKs: PSKIndex
    /// Each connection's subnet pairs, and the connection that owns each exact pair (either way round): rules
    /// ask which tunnel a policy or SA belongs to for every one of a hub's tens of thousands.
    private let geometries: [String: TunnelGeometry]
    private let pairOwner: [PairKey: String]
    /// The typed model of each connection, made when a rule first asks (a hub has thousands).
    private let models = ModelCache()

    final class ModelCache: @unchecked Sendable {
        private let lock = NSLock()
        private var local: [String: EffectiveConnection] = [:]
        private var peer: [String: EffectiveConnection] = [:]

        func get(_ name: String, peer isPeer: Bool, _ make: () -> EffectiveConnection) -> EffectiveConnection {
            lock.lock()
            defer { lock.unlock() }
            if let m = isPeer ? peer[name] : local[name] { return m }
            let m = make()
            if isPeer { peer[name] = m } else { local[name] = m }
            return m
        }
    }

    struct PairKey: Hashable {
        var a: IPPrefix
        var b: IPPrefix
    }

    public init(local: EndpointSnapshot, peer: EndpointSnapshot? = nil, connectionFilter: String? = nil) {
        var local = local
        self.peer = peer
        self.connectionFilter = connectionFilter
        var names: [String] = local.config?.connections.map(\.name) ?? []
        var seen = Set(names)
        for n in local.events.connectionNames.sorted() + (local.statusConnections ?? []) where !seen.contains(n) {
            names.append(n)
            seen.insert(n)
        }
        // A fragment that names no connection is still diagnosed: under the peer's address when the
        // lines give one, else under "unknown connection".
        if names.isEmpty, local.events.hasUnnamed {
            let name = Self.unnamedConnection(local.events)
            local.events = local.events.filingUnnamed(under: name)
            names = [name]
        }
        self.local = local
        self.connectionNames = connectionFilter.map { f in names.filter { $0 == f } } ?? names
        self.configs = Dictionary((local.config?.connections ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.peerConfigs = Dictionary((peer?.config?.connections ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.trafficByName = Set((local.trafficStatus ?? []).map(\.connection))
        self.localPSKs = PSKIndex(local.secrets)
        self.peerPSKs = PSKIndex(peer?.secrets)
        var geometries: [String: TunnelGeometry] = [:], owner: [PairKey: String] = [:]
        for name in connectionNames {
            guard let c = configs[name], let g = TunnelGeometry(c) else { continue }
            geometries[name] = g
            for (l, r) in g.pairs {
                if owner[PairKey(a: l.network, b: r.network)] == nil { owner[PairKey(a: l.network, b: r.network)] = name }
                if owner[PairKey(a: r.network, b: l.network)] == nil { owner[PairKey(a: r.network, b: l.network)] = name }
            }
        }
        self.geometries = geometries
        self.pairOwner = owner
    }

    /// What this end will negotiate for NAME, in the daemon-neutral model (Libreswan's config read by its
    /// adapter, with the defaults of the capture's version); nil without a configuration for it.
    public func connection(_ name: String) -> EffectiveConnection? {
        guard let c = configs[name] else { return nil }
        return models.get(name, peer: false) { LibreswanAdapter.effective(c, version: local.libreswanVersion) }
    }

    /// The peer's side of the same tunnel (its mirrored connection), in its own view.
    public func peerConnection(_ name: String) -> EffectiveConnection? {
        guard let c = peerConfig(name) else { return nil }
        return models.get(name, peer: true) { LibreswanAdapter.effective(c, version: peer?.libreswanVersion) }
    }

    /// The remedy step that makes SETTING so on one end's connection NAME (this end's, or the peer's mirror
    /// of it), written by the daemon's adapter as the exact line to replace or add; nil when that end's
    /// configuration is not at hand.
    public func change(_ setting: Setting, on end: End, _ name: String, why: String) -> RemedyStep? {
        guard let conn = end == .peer ? peerConfig(name) : configs[name] else { return nil }
        let version = end == .peer ? peer?.libreswanVersion : local.libreswanVersion
        let (key, value) = LibreswanAdapter.line(setting, in: conn, major: LibreswanAdapter.major(version))
        // The lines it replaces: its own, and the other spelling of the same setting.
        let old = ([key] + LibreswanAdapter.replaced(setting, in: conn)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            .compactMap { conn[$0] }
        let remove = old.map { $0.source.text.trimmingCharacters(in: .whitespaces) }
        guard let value else {
            return remove.isEmpty ? nil : .config(end, why, file: old.first?.source.file, connection: conn.name, remove: remove, add: [])
        }
        return .config(end, why, file: old.first?.source.file ?? conn.header.file, connection: conn.name, remove: remove, add: ["\(key)=\(value)"])
    }

    /// The same, or without that end's configuration the line to add to its connection (orientation
    /// unknown: written as if this end were left; version unknown: Libreswan 4's words).
    public func changeOrAdd(_ setting: Setting, on end: End, _ name: String, why: String) -> RemedyStep {
        if let step = change(setting, on: end, name, why: why) { return step }
        let blank = ConnectionConfig(name: name, header: SourceLine(file: "", line: 0, text: "conn \(name)"), values: [:])
        let version = end == .peer ? peer?.libreswanVersion : local.libreswanVersion
        let (key, value) = LibreswanAdapter.line(setting, in: blank, major: LibreswanAdapter.major(version))
        return .config(end, why, file: nil, connection: name, remove: [], add: value.map { ["\(key)=\($0)"] } ?? [])
    }

    /// Every connection one end has (this end's, or the peer's), in the model: what a responder can match.
    public func allConnections(peer isPeer: Bool) -> [EffectiveConnection] {
        let side = isPeer ? peer : local
        return (side?.config?.connections ?? []).map { c in
            // This end's are the ones rules ask for by name: made once.
            !isPeer && configs[c.name].map { $0.header == c.header } == true
                ? models.get(c.name, peer: false) { LibreswanAdapter.effective(c, version: local.libreswanVersion) }
                : LibreswanAdapter.effective(c, version: side?.libreswanVersion)
        }
    }

    /// How a connection authenticates, in the words of its configuration: the line that sets it, or the
    /// daemon's default.
    public func describeAuth(_ c: EffectiveConnection?) -> String {
        guard let c else { return "?" }
        return c.local.auth.source.map { $0.text.trimmingCharacters(in: .whitespaces) } ?? "authby=\(LibreswanAdapter.keyword(c.local.auth.value)) (the default)"
    }

    /// An ID change on END's connection NAME also re-keys the ipsec.secrets entry pluto will look up.
    public func rekeyedSecret(on end: End, _ name: String, from old: String, to new: String) -> [RemedyStep] {
        guard let conn = end == .peer ? peerConfig(name) : configs[name] else { return [] }
        return RemedyBuilder.rekeyedSecret(end == .peer ? peerPSKs : localPSKs, conn, from: old, to: new, end: end)
    }

    /// The connection's subnet pairs and gateway addresses, from its config.
    func geometry(_ name: String) -> TunnelGeometry? { geometries[name] }

    /// The connection whose subnet pair covers SRC -> DST (either way round): an exact pair is a lookup, a
    /// wider selector a scan in connection order; with one connection, that one.
    func connection(covering src: IPPrefix, _ dst: IPPrefix) -> String? {
        if let name = pairOwner[PairKey(a: src.network, b: dst.network)] { return name }
        for name in connectionNames {
            guard let g = geometries[name] else { continue }
            for (l, r) in g.pairs where (src.contains(l) && dst.contains(r)) || (src.contains(r) && dst.contains(l)) { return name }
        }
        return connectionNames.count == 1 ? connectionNames.first : nil
    }

    public func config(_ name: String) -> ConnectionConfig? { configs[name] }

    /// The kinds of input either end's capture holds: what rules may need.
    public var inputKindsRead: Set<InputKind> { Set(local.inputs.values).union(peer?.inputs.values ?? [:].values) }

    /// `peer 192.0.2.2` when every unnamed line that names an address names the same one.
    static func unnamedConnection(_ events: IKEEventLog) -> String {
        let addrs = Set(IKEEventKind.allCases.flatMap { events.events($0) }.filter { $0.connection == nil }
            .compactMap { $0.details["peerAddress"] ?? $0.details["complainant"] })
        if addrs.count == 1, let a = addrs.first { return "peer \(a)" }
        return "unknown connection"
    }

    /// The peer's definition of the same tunnel: same name, or the one whose addresses mirror ours.
    public func peerConfig(_ name: String) -> ConnectionConfig? {
        guard let peerCfg = peer?.config else { return nil }
        if let same = peerConfigs[name] { return same }
        guard let mine = config(name), let myAddr = mine.local("")?.value, let theirAddr = mine.remote("")?.value else { return nil }
        return peerCfg.connections.first { $0.local("")?.value == theirAddr && $0.remote("")?.value == myAddr }
    }

    /// Does this end have an established Child SA for the connection?
    /// nil when nothing tells (no trafficstatus, no status, no log).
    public func isUp(_ name: String) -> Bool? {
        // In a pasted session, a status printed before the log says the Child SA came up is older news.
        if let up = local.events.last(.childEstablished, connection: name), !failedAfter(up, name),
            printedBefore(up.source, [.trafficStatus, .status])
        {
            return true
        }
        if local.trafficStatus != nil {
            if trafficByName.contains(name) { return true }
            if local.statusStates == nil { return false }
        }
        if let st = local.statusStates {
            return st.contains { $0.connection == name && $0.isEstablishedChild }
        }
        if local.trafficStatus != nil { return false }
        if let up = local.events.last(.childEstablished, connection: name) { return !failedAfter(up, name) }
        return local.events.isEmpty ? nil : false
    }

    /// A failure of the connection logged after UP.
    func failedAfter(_ up: IKEEvent, _ name: String) -> Bool {
        let failures: [IKEEventKind] = [.timeout, .fatal, .dpdAction, .authFailedReceived, .tsUnacceptableReceived, .childNoProposalReceived]
        return failures.compactMap { local.events.last($0, connection: name) }
            .contains { ($0.source.file, $0.source.line) > (up.source.file, up.source.line) }
    }

    /// Every section of these kinds is a part of LINE's own pasted session (`west.console.txt:27`) that
    /// starts before it.
    func printedBefore(_ line: SourceLine, _ kinds: Set<InputKind>) -> Bool {
        let sections = local.inputs.filter { kinds.contains($0.value) }.map(\.key)
        return !sections.isEmpty && sections.allSatisfy { key in
            guard let colon = key.lastIndex(of: ":"), let start = Int(key[key.index(after: colon)...]) else { return false }
            return key[..<colon] == line.file && start < line.line
        }
    }

    /// Events of a kind for a connection on this end, then on the peer.
    public func localEvents(_ kind: IKEEventKind, _ name: String) -> [IKEEvent] {
        Self.events(kind, of: local, connection: name, config: configs[name])
    }

    public func peerEvents(_ kind: IKEEventKind, _ name: String) -> [IKEEvent] {
        guard let peer else { return [] }
        // The peer may name the tunnel differently: use its mirrored connection's name then.
        let peerName = peerConfigs[name] != nil ? name : (peerConfig(name)?.name ?? name)
        return Self.events(kind, of: peer, connection: peerName, config: peerConfigs[peerName])
    }

    /// Named events plus packet-level ones (`packet from 192.0.2.1:500: ...`) that belong to the
    /// connection: same peer address, or the only connection there is.
    static func events(_ kind: IKEEventKind, of side: EndpointSnapshot, connection name: String, config: ConnectionConfig?) -> [IKEEvent] {
        let named = side.events.events(kind, connection: name)
        let unnamed = side.events.unnamedEvents(kind)
        guard !unnamed.isEmpty else { return named }
        let single = (side.config?.connections.count ?? 0) <= 1
        return named + unnamed.filter { e in
            if let addr = e.details["peerAddress"], let remote = config?.remote("")?.value {
                return remote == addr || remote.hasPrefix("%")
            }
            return single
        }
    }

    /// Both ends' events of a kind (local first).
    public func anyEvents(_ kind: IKEEventKind, _ name: String) -> [IKEEvent] { localEvents(kind, name) + peerEvents(kind, name) }

    /// Up to `n` evidence lines: first and last occurrences, deduplicated.
    public static func sample(_ events: [IKEEvent], _ n: Int = 2) -> [SourceLine] {
        var out: [SourceLine] = []
        for e in events.prefix(1) + events.suffix(max(0, n - 1)) where !out.contains(e.source) { out.append(e.source) }
        return out
    }

    /// How this end authenticates for the connection: its config's authby, else what its log says
    /// (`psk`, `signature`, `null`); nil when neither tells.
    public func authMethod(_ name: String) -> String? {
        if let c = config(name) { return c.usesPSK ? "psk" : c.authby.hasPrefix("null") ? "null" : "signature" }
        // Else what the session's NSS certificate work says (it names no connection).
        return (localEvents(.authMethod, name).last ?? local.events.events(.authMethod).last { $0.connection == nil })?.details["method"]
    }

    /// The peer's address for NAME: its config's right=, else the address a log line of this end names
    /// (`packet from 192.1.2.23:500: ...`, an ICMP error's complainant); nil when nothing says.
    public func peerAddress(_ name: String) -> String? {
        if let r = config(name)?.remote("")?.value, !r.hasPrefix("%") { return r }
        return (localEvents(.icmpError, name).last?.details["complainant"]).flatMap { $0.isEmpty ? nil : $0 }
            ?? local.events.events(ofConnection: name).lazy.compactMap { $0.details["peerAddress"] }.first
    }

    /// The peer's address as a command argument: a placeholder to replace when nothing says (`host the peer`
    /// would not run when pasted).
    public func peerAddressArgument(_ name: String) -> String { peerAddress(name) ?? "PEER_ADDRESS" }

    /// `ipsec` commands spelled for this end's Libreswan version.
    public var cli: IpsecCLI { IpsecCLI(version: local.libreswanVersion) }

    /// Label of the peer end in remedies.
    public var peerLabel: String { peer?.label ?? "the peer" }
    public var localLabel: String { local.label }
}

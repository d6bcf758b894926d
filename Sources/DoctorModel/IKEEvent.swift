/// A classified line from pluto's log, `ipsec up` output or the journal.
///
/// Libreswan's wording drifts between 3.x, 4.x and 5.x; the parser matches
/// stable tokens (notify names, exchange names, fixed phrases) and reduces each
/// line to one of these kinds, so rules never look at raw wording.
public enum IKEEventKind: String, Sendable, Hashable, Codable, CaseIterable {
    // Progress
    case initiating  // "initiating IKEv2 connection", "initiating Main Mode"
    case ikeEstablished  // "established IKE SA", "ISAKMP SA established", "IKE SA established {"
    case childEstablished  // "established Child SA", "IPsec SA established"
    case retransmission  // "<STATE>: retransmission; will wait"
    case timeout  // "<STATE>: N second timeout exceeded after N retransmits" / "max number of retransmissions"
    // Reachability
    case icmpError  // "asynchronous network error report"
    case ikev1Dropped  // "ignoring IKEv1 packet as policy is set to silently drop"
    case ikeVersionRefused  // INVALID_MAJOR_VERSION from the peer; "global ikev1-policy=reject does not allow IKEv1 connections"
    // IKE SA (phase 1) proposals
    case ikeNoProposalReceived  // initiator: NO_PROPOSAL_CHOSEN in IKE_SA_INIT / IKEv1 informational in Main Mode
    case ikeNoProposalLocal  // responder: "no local proposal matches remote proposals ...:IKE:" / "no acceptable Oakley Transform"
    case invalidKE  // INVALID_KE_PAYLOAD (self-healing unless "not acceptable")
    // Authentication
    case authFailedReceived  // initiator: "rejected by peer: AUTHENTICATION_FAILED"
    case pskHashMismatch  // responder: "computed hash does not match" / "AUTH mismatch"
    case ikev1HashMismatch  // "Hash Payload does not match" / INVALID_HASH_INFORMATION / "mismatch of preshared secrets"
    case authTimeout  // "Possible authentication failure" timeout (IKEv1 STATE_MAIN_I3, IKEv2 IKE_AUTH_I)
    case authMethodMismatch  // "peer attempted PSK authentication but we want"
    case noPSKFound  // "no PSK found for"
    case peerIDMismatch  // "Peer ID '...' mismatched"
    case idRejectedReceived  // IKEv1 initiator: INVALID_ID_INFORMATION during Main/Aggressive Mode (phase 1 ID refused)
    case noSuitableConnection  // "no suitable connection found", "no connection has been authorized"
    case redirected  // IKEv2 redirect: "IKE_AUTH response redirects to new gateway 192.1.3.33" (RFC 5685)
    case ourID  // the ID type this end sends: status `our idtype: IPV4_ADDR; our id=192.1.2.45` (3.x `ID_IPV4_ADDR`), debug `|    ID type: ID_IPV4_ADDR (0x1)`
    case authMethod  // the method this end authenticates with: "our auth:rsasig", "policy: PSK+...", "with digital-signature"
    case certificateError  // NSS: ERROR, X509: authentication failed
    // Child SA (phase 2)
    case childNoProposalReceived  // initiator: Child SA rejected with NO_PROPOSAL_CHOSEN / QM informational
    case childNoProposalLocal  // responder: "matching remote ESP/AH proposals failed" / "no acceptable Proposal in IPsec SA"
    case tsUnacceptableReceived  // initiator: TS_UNACCEPTABLE
    case tsNoMatchLocal  // responder: "compatible Traffic Selectors" / "responding with TS_UNACCEPTABLE"
    case invalidIDReceived  // IKEv1 initiator: INVALID_ID_INFORMATION
    case ikev1NotifyReceived  // IKEv1 informational notify; the classifier resolves it to a specific kind
    case ikev1NoConnectionForQuickMode  // IKEv1 responder: "cannot respond to IPsec SA request because no connection is known"
    case quickModeNoProposalTimeout  // "perhaps peer likes no proposal"
    // Kernel and liveness
    case kernelSAInstallFailed  // "netlink response for Add SA" / XFRM_MSG_NEWSA with errno
    case kernelSAGone  // "netlink response for Get SA esp.4ef0eaa5@192.0.2.2: No such process": pluto's SA is not in the kernel
    case dpdAction  // "DPD action", "liveness action", liveness timeouts in ESTABLISHED states
    case establishedIKESADeleted  // "deleting state (STATE_V2_ESTABLISHED_IKE_SA) aged 0.27s and NOT sending notification"
    case fatal  // "encountered fatal error in state"
    // The daemon itself
    case plutoAborted  // "FATAL ERROR: ..." at start-up, systemd "ipsec.service: Failed with result"

    /// About the daemon, not a connection: never filed under a fragment's stand-in connection.
    public var isHostWide: Bool { self == .plutoAborted }
}

/// One classified log line.
public struct IKEEvent: Sendable, Hashable {
    public var kind: IKEEventKind
    /// The quoted connection name (`"westnet-eastnet"` -> `westnet-eastnet`), without instance suffixes.
    public var connection: String?
    /// The state serial (`#3`).
    public var serial: Int?
    /// The state name the line mentions (`STATE_MAIN_I3`, `IKE_AUTH_I`), if any.
    public var state: String?
    /// Extra details parsed from the line (notify name, errno, complainant, proposals).
    public var details: [String: String]
    public var source: SourceLine

    public init(
        kind: IKEEventKind, connection: String?, serial: Int?, state: String?, details: [String: String],
        source: SourceLine
    ) {
        self.kind = kind
        self.connection = connection
        self.serial = serial
        self.state = state
        self.details = details
        self.source = source
    }
}

/// The classified events of one end, bounded in memory: per (connection, kind)
/// it keeps the count, the first occurrences and the latest ones. A gigabyte
/// log costs the same memory as a short one.
public struct IKEEventLog: Sendable {
    public struct Key: Hashable, Sendable {
        public var connection: String?
        public var kind: IKEEventKind
    }

    public struct Bucket: Sendable {
        public var count = 0
        public var first: [IKEEvent] = []
        public var latest: [IKEEvent] = []
    }

    public private(set) var buckets: [Key: Bucket] = [:]
    /// The keys of each kind: a question about one kind (all connections) reads its buckets, not every
    /// bucket of a hub's log.
    private var keysByKind: [IKEEventKind: [Key]] = [:]
    /// Total lines read from logs, for the report.
    public var linesRead = 0
    static let keepFirst = 2
    static let keepLatest = 3

    public init() {}

    public mutating func append(_ event: IKEEvent) {
        let key = Key(connection: event.connection, kind: event.kind)
        if buckets[key] == nil { keysByKind[key.kind, default: []].append(key) }
        var bucket = buckets[key] ?? Bucket()
        bucket.count += 1
        if bucket.first.count < Self.keepFirst {
            bucket.first.append(event)
        } else {
            bucket.latest.append(event)
            if bucket.latest.count > Self.keepLatest { bucket.latest.removeFirst() }
        }
        buckets[key] = bucket
    }

    /// Appends LATER, the log of what comes after this one (the next chunk of the same file, the next file),
    /// exactly as if its events had been appended one by one: counts add up, the first occurrences are the
    /// earliest overall and the latest the last overall. Both are known without the dropped middle: the
    /// first ones are this log's kept prefix (then LATER's), the last ones LATER's kept tail (then this one's).
    public mutating func merge(_ later: IKEEventLog) {
        for (key, b) in later.buckets {
            guard let a = buckets[key] else {
                buckets[key] = b
                keysByKind[key.kind, default: []].append(key)
                continue
            }
            let known = a.first + a.latest + b.first + b.latest
            var m = Bucket()
            m.count = a.count + b.count
            m.first = Array(known.prefix(Self.keepFirst))
            m.latest = Array(known.dropFirst(m.first.count).suffix(min(Self.keepLatest, m.count - m.first.count)))
            buckets[key] = m
        }
        linesRead += later.linesRead
    }

    /// Kept events of a kind (all connections when `connection` is nil), in file order.
    public func events(_ kind: IKEEventKind, connection: String? = nil) -> [IKEEvent] {
        Self.inFileOrder(selected(kind, connection).flatMap { $0.first + $0.latest })
    }

    /// Kept events of a kind that name no connection (`packet from 192.0.2.1:500: ...`), in file order.
    public func unnamedEvents(_ kind: IKEEventKind) -> [IKEEvent] {
        buckets[Key(connection: nil, kind: kind)].map { Self.inFileOrder($0.first + $0.latest) } ?? []
    }

    public func count(_ kind: IKEEventKind, connection: String? = nil) -> Int {
        selected(kind, connection).reduce(0) { $0 + $1.count }
    }

    /// The buckets of KIND: one connection's (a lookup), or every connection's (through the kind's keys).
    private func selected(_ kind: IKEEventKind, _ connection: String?) -> [Bucket] {
        if let connection { return buckets[Key(connection: connection, kind: kind)].map { [$0] } ?? [] }
        return (keysByKind[kind] ?? []).compactMap { buckets[$0] }
    }

    static func inFileOrder(_ events: [IKEEvent]) -> [IKEEvent] {
        events.count < 2 ? events : events.sorted { ($0.source.file, $0.source.line) < ($1.source.file, $1.source.line) }
    }

    /// Every kept event of one connection, of every kind.
    public func events(ofConnection name: String) -> [IKEEvent] {
        IKEEventKind.allCases.flatMap { k in buckets[Key(connection: name, kind: k)].map { $0.first + $0.latest } ?? [] }
    }

    /// The most recent event of a kind.
    public func last(_ kind: IKEEventKind, connection: String? = nil) -> IKEEvent? {
        events(kind, connection: connection).last
    }

    public func first(_ kind: IKEEventKind, connection: String? = nil) -> IKEEvent? {
        events(kind, connection: connection).first
    }

    /// The same log with the events that name no connection (a pasted fragment, `packet from ...` lines)
    /// filed under `name`, so a fragment's finding is reported rather than dropped.
    public func filingUnnamed(under name: String) -> IKEEventLog {
        var out = IKEEventLog()
        out.linesRead = linesRead
        for (key, bucket) in buckets {
            let k = key.connection == nil && !key.kind.isHostWide ? Key(connection: name, kind: key.kind) : key
            if out.buckets[k] == nil { out.keysByKind[k.kind, default: []].append(k) }
            var b = out.buckets[k] ?? Bucket()
            b.count += bucket.count
            b.first += bucket.first.map { e in var e = e; e.connection = k.connection; return e }
            b.latest += bucket.latest.map { e in var e = e; e.connection = k.connection; return e }
            out.buckets[k] = b
        }
        return out
    }

    /// True when some event names no connection.
    public var hasUnnamed: Bool { buckets.keys.contains { $0.connection == nil && !$0.kind.isHostWide } }

    /// Connection names that appear in any event.
    public var connectionNames: Set<String> { Set(buckets.keys.compactMap(\.connection)) }

    public var isEmpty: Bool { buckets.isEmpty }
}

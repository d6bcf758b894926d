/// Policy direction in the SPD. Socket policies (per-socket bypass) are kept apart.
public enum PolicyDirection: String, Sendable, Hashable, Codable {
    case `in`, out, fwd
    case socketIn = "socket in", socketOut = "socket out", socketFwd = "socket fwd"
}

/// One `tmpl` of an SPD policy: which SA (proto, reqid, mode, tunnel endpoints) must carry the traffic.
public struct XfrmTemplate: Sendable, Hashable {
    public var src: String
    public var dst: String
    public var proto: String
    public var reqid: UInt32
    public var mode: String
    public var spi: UInt32?

    public init(src: String, dst: String, proto: String, reqid: UInt32, mode: String, spi: UInt32? = nil) {
        self.src = src
        self.dst = dst
        self.proto = proto
        self.reqid = reqid
        self.mode = mode
        self.spi = spi
    }
}

/// A Security Policy Database entry (`ip xfrm policy`).
public struct XfrmPolicy: Sendable, Hashable {
    public var src: IPPrefix
    public var dst: IPPrefix
    public var upperProto: String?
    public var direction: PolicyDirection
    public var action: String  // allow | block
    public var priority: UInt32?
    public var templates: [XfrmTemplate]
    /// All lines of the block, for evidence.
    public var lines: [SourceLine]

    public init(
        src: IPPrefix, dst: IPPrefix, upperProto: String?, direction: PolicyDirection, action: String,
        priority: UInt32?, templates: [XfrmTemplate], lines: [SourceLine]
    ) {
        self.src = src
        self.dst = dst
        self.upperProto = upperProto
        self.direction = direction
        self.action = action
        self.priority = priority
        self.templates = templates
        self.lines = lines
    }

    public var isSocketPolicy: Bool {
        direction == .socketIn || direction == .socketOut || direction == .socketFwd
    }
}

/// A Security Association Database entry (`ip xfrm state`). Keys are never kept.
public struct XfrmState: Sendable, Hashable {
    public var src: String
    public var dst: String
    public var proto: String
    public var spi: UInt32
    public var reqid: UInt32
    public var mode: String
    /// Algorithm lines as `(kind, name, bits)`: `("aead", "rfc4106(gcm(aes))", 128)` (icv/trunc bits).
    public var algorithms: [XfrmAlgorithm]
    /// NAT-T encapsulation (`encap type espinudp sport 4500 dport 4500`).
    public var encapType: String?
    public var currentBytes: UInt64?
    public var currentPackets: UInt64?
    public var integrityFailed: UInt64?
    public var lines: [SourceLine]

    public init(
        src: String, dst: String, proto: String, spi: UInt32, reqid: UInt32, mode: String,
        algorithms: [XfrmAlgorithm], encapType: String?, currentBytes: UInt64?, currentPackets: UInt64?,
        integrityFailed: UInt64?, lines: [SourceLine]
    ) {
        self.src = src
        self.dst = dst
        self.proto = proto
        self.spi = spi
        self.reqid = reqid
        self.mode = mode
        self.algorithms = algorithms
        self.encapType = encapType
        self.currentBytes = currentBytes
        self.currentPackets = currentPackets
        self.integrityFailed = integrityFailed
        self.lines = lines
    }

    /// A larval SA (IKE still negotiating): SPI 0 or no algorithm.
    public var isLarval: Bool { spi == 0 || algorithms.isEmpty }
}

public struct XfrmAlgorithm: Sendable, Hashable {
    /// `aead`, `enc`, `auth-trunc`, `auth`, `comp`
    public var kind: String
    /// Kernel name: `rfc4106(gcm(aes))`, `cbc(aes)`, `hmac(sha256)`.
    public var name: String
    /// ICV bits (aead) or truncation bits (auth-trunc).
    public var bits: Int?

    public init(kind: String, name: String, bits: Int?) {
        self.kind = kind
        self.name = name
        self.bits = bits
    }
}

/// One sample of `/proc/net/xfrm_stat`.
public struct XfrmStatSample: Sendable, Hashable {
    /// The `# <ISO-8601>` header before the sample, if any.
    public var time: String?
    public var counters: [String: UInt64]
    /// The line of each counter, for evidence.
    public var lines: [String: SourceLine]

    public init(time: String?, counters: [String: UInt64], lines: [String: SourceLine]) {
        self.time = time
        self.counters = counters
        self.lines = lines
    }
}

/// An event line from `ip xfrm monitor` that names an SA (for the request/reply SPI story).
public struct XfrmMonitorEvent: Sendable, Hashable {
    public var kind: String  // "sa", "acquire", "expire", "delete", "policy", "other"
    public var src: String?
    public var dst: String?
    public var spi: UInt32?
    public var reqid: UInt32?
    public var source: SourceLine

    public init(kind: String, src: String?, dst: String?, spi: UInt32?, reqid: UInt32?, source: SourceLine) {
        self.kind = kind
        self.src = src
        self.dst = dst
        self.spi = spi
        self.reqid = reqid
        self.source = source
    }
}

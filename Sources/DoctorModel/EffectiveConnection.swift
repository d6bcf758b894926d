/// What one end of a tunnel will negotiate, in the daemon's neutral terms: built from a daemon's
/// configuration by an adapter (Libreswan's: DoctorRules/Compare/LibreswanAdapter.swift), read by `compare`.
/// Every value keeps the line it came from; a value the daemon takes by default has none.
public struct EffectiveConnection: Sendable {
    public var name: String
    /// The section that defines it (`conn NAME`).
    public var header: SourceLine
    public var ikeVersion: Sourced<IKEVersion>
    /// IKE SA proposals (phase 1) and Child SA proposals (phase 2, ESP), expanded the way the daemon expands
    /// them: what it will offer as initiator and accept as responder.
    public var ike: Sourced<[Proposal]>
    public var esp: Sourced<[Proposal]>
    /// This end and the other end, as this end's configuration describes them.
    public var local: Endpoint
    public var remote: Endpoint
    public var mode: Sourced<Mode>
    /// A fixed reqid (`reqid=`): every Child SA of the connection shares it.
    public var reqid: Sourced<Int>?
    /// What the daemon does with it at start (`auto=`: `start`, `add`, `route`, `ondemand`, `ignore`).
    public var startup: Sourced<String>?
    /// Dead peer detection: the probe interval, the timeout and what is done then (nil: the daemon's default).
    public var dpd = DPD()
    /// A fixed MTU for the tunnel's routes (`mtu=`).
    public var mtu: Sourced<Int>?

    public struct DPD: Sendable {
        public var delay: Sourced<String>?
        public var timeout: Sourced<String>?
        public var action: Sourced<String>?

        public init(delay: Sourced<String>? = nil, timeout: Sourced<String>? = nil, action: Sourced<String>? = nil) {
            self.delay = delay
            self.timeout = timeout
            self.action = action
        }
    }

    public init(
        name: String, header: SourceLine, ikeVersion: Sourced<IKEVersion>, ike: Sourced<[Proposal]>,
        esp: Sourced<[Proposal]>, local: Endpoint, remote: Endpoint, mode: Sourced<Mode>, reqid: Sourced<Int>?
    ) {
        self.name = name
        self.header = header
        self.ikeVersion = ikeVersion
        self.ike = ike
        self.esp = esp
        self.local = local
        self.remote = remote
        self.mode = mode
        self.reqid = reqid
    }

    /// How many Child SAs the connection makes: one per pair of subnets.
    public var childSAs: Int { max(local.subnets.value.count, 1) * max(remote.subnets.value.count, 1) }

    public enum IKEVersion: String, Sendable, Hashable {
        case v1 = "IKEv1", v2 = "IKEv2"
    }

    public enum Mode: String, Sendable, Hashable {
        case tunnel, transport
        /// Not negotiated: traffic matching it bypasses IPsec (`type=passthrough`).
        case passthrough
    }

    public enum AuthMethod: String, Sendable, Hashable {
        case psk, rsasig, ecdsa, null, eap, unknown
    }

    /// One end: where it is, who it says it is, how it proves it, what it protects.
    public struct Endpoint: Sendable {
        /// `left=` / `right=`: an address, a name, `%any`, `%defaultroute`.
        public var address: Sourced<String>?
        /// The ID this end sends (configured, else its address, which the daemon then sends as ID_IPV4_ADDR).
        public var id: Sourced<String>?
        public var auth: Sourced<AuthMethod>
        /// The subnets behind it (`leftsubnet=`, `leftsubnets=`); the address itself when none is set.
        public var subnets: Sourced<[IPPrefix]>
        /// Whether the subnets were configured (false: the address stands for them).
        public var subnetsConfigured: Bool
        /// The certificate it authenticates with (its NSS nickname, `leftcert=`).
        public var certificate: Sourced<String>?
        /// Whether the ID was configured (false: the address stands for it).
        public var idConfigured: Bool

        public init(address: Sourced<String>?, id: Sourced<String>?, auth: Sourced<AuthMethod>, subnets: Sourced<[IPPrefix]>,
                    subnetsConfigured: Bool = true, certificate: Sourced<String>? = nil, idConfigured: Bool = true) {
            self.address = address
            self.id = id
            self.auth = auth
            self.subnets = subnets
            self.subnetsConfigured = subnetsConfigured
            self.certificate = certificate
            self.idConfigured = idConfigured
        }
    }
}

/// A value and the line it came from; nil when it is the daemon's default.
public struct Sourced<Value: Sendable>: Sendable {
    public var value: Value
    public var source: SourceLine?

    public init(_ value: Value, _ source: SourceLine?) {
        self.value = value
        self.source = source
    }
}

/// One proposal: the transforms of each type one end offers together (IKEv2 RFC 7296 §3.3), each set the
/// alternatives within that type. Names are the IANA-style names Libreswan's `ipsec algparse` prints
/// (`AES_CBC_256`, `HMAC_SHA2_256_128`, `DH19`), so two ends' proposals compare as sets.
public struct Proposal: Sendable, Hashable, CustomStringConvertible {
    public var encryption: [String]
    /// IKE: the pseudo-random function; empty for ESP.
    public var prf: [String]
    /// Integrity; `NONE` with an AEAD cipher.
    public var integrity: [String]
    /// IKE: the key exchange groups; ESP: the PFS groups (empty: none, or the IKE SA's).
    public var dh: [String]

    public init(encryption: [String], prf: [String], integrity: [String], dh: [String]) {
        self.encryption = encryption
        self.prf = prf
        self.integrity = integrity
        self.dh = dh
    }

    /// algparse's notation: `AES_CBC_256-HMAC_SHA2_512-DH20` (IKE, integrity implied by the PRF),
    /// `AES_CBC_128-HMAC_SHA2_256_128` (ESP).
    public var description: String {
        var parts = [encryption.joined(separator: "+")]
        if !prf.isEmpty { parts.append(prf.joined(separator: "+")) } else if !integrity.isEmpty { parts.append(integrity.joined(separator: "+")) }
        if !dh.isEmpty { parts.append(dh.joined(separator: "+")) }
        return parts.joined(separator: "-")
    }

    /// The transforms both proposals hold, per type; nil when some type has none in common (no agreement).
    /// An encryption algorithm without a key length (`AES_CBC`) stands for each of its key lengths.
    public func common(with other: Proposal, checkDH: Bool = true) -> Proposal? {
        let enc = Self.commonCiphers(encryption, other.encryption)
        let prf = self.prf.filter(other.prf.contains)
        let integ = integrity.filter(other.integrity.contains)
        let dh = self.dh.filter(other.dh.contains)
        guard !enc.isEmpty, self.prf.isEmpty == other.prf.isEmpty, self.prf.isEmpty || !prf.isEmpty,
            integrity.isEmpty || other.integrity.isEmpty || !integ.isEmpty,
            !checkDH || self.dh.isEmpty || other.dh.isEmpty || !dh.isEmpty
        else { return nil }
        return Proposal(encryption: enc, prf: prf, integrity: integ, dh: dh)
    }

    static func commonCiphers(_ a: [String], _ b: [String]) -> [String] {
        var out: [String] = []
        for x in a {
            for y in b {
                let hit = x == y ? x : y.hasPrefix(x + "_") && Int(y.dropFirst(x.count + 1)) != nil ? y
                    : x.hasPrefix(y + "_") && Int(x.dropFirst(y.count + 1)) != nil ? x : nil
                if let hit, !out.contains(hit) { out.append(hit) }
            }
        }
        return out
    }
}

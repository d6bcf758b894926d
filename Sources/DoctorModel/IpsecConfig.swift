import Foundation

/// One `key=value` of ipsec.conf with the line that set it.
public struct ConfigValue: Sendable, Hashable {
    public var value: String
    public var source: SourceLine

    public init(value: String, source: SourceLine) {
        self.value = value
        self.source = source
    }
}

/// A `conn NAME` section after `%default` and `also=` were applied.
///
/// Libreswan names the two ends left and right; which of them is this host is
/// decided by orientation (`localIsLeft`), the way pluto does it: the side whose
/// address is on a local interface.
public struct ConnectionConfig: Sendable, Hashable {
    public var name: String
    /// Where `conn NAME` was written.
    public var header: SourceLine
    /// Effective keys (lower-cased), each with the line that set it.
    public var values: [String: ConfigValue]
    /// True when left is this host. Defaults to true when nothing tells.
    public var localIsLeft: Bool

    public init(name: String, header: SourceLine, values: [String: ConfigValue], localIsLeft: Bool = true) {
        self.name = name
        self.header = header
        self.values = values
        self.localIsLeft = localIsLeft
    }

    public subscript(key: String) -> ConfigValue? { values[key.lowercased()] }

    /// The value of a per-end key for this host (`local("subnet")` -> leftsubnet or rightsubnet).
    public func local(_ suffix: String) -> ConfigValue? { values[(localIsLeft ? "left" : "right") + suffix] }
    /// The value of a per-end key for the peer.
    public func remote(_ suffix: String) -> ConfigValue? { values[(localIsLeft ? "right" : "left") + suffix] }
    /// The config key name for this host's end (`leftsubnet`).
    public func localKey(_ suffix: String) -> String { (localIsLeft ? "left" : "right") + suffix }
    public func remoteKey(_ suffix: String) -> String { (localIsLeft ? "right" : "left") + suffix }

    /// Subnets of one end: `leftsubnets={a,b}` or `leftsubnet=a` (or the host address).
    public func subnets(local: Bool) -> [String] {
        let side = (local == localIsLeft) ? "left" : "right"
        if let many = values[side + "subnets"] { return Self.splitList(many.value) }
        if let one = values[side + "subnet"] { return Self.splitList(one.value) }
        return []
    }

    /// The IKE versions this connection allows.
    public var ikeVersion: IKEVersionPolicy {
        if let kx = values["keyexchange"]?.value.lowercased() {
            if kx == "ikev1" { return .v1Only }
            if kx == "ikev2" { return .v2Only }
        }
        if let v2 = values["ikev2"]?.value.lowercased() {
            switch v2 {
            case "no", "never": return .v1Only
            case "insist", "yes", "propose", "permit": return .v2Only
            default: break
            }
        }
        return .v2Only  // Libreswan 4.x and 5.x default
    }

    /// `authby=` as written, or Libreswan's default.
    public var authby: String { values["authby"]?.value.lowercased() ?? "rsasig" }

    public var usesPSK: Bool { authby.split(separator: ",").contains { $0 == "secret" || $0 == "psk" } }

    /// `{a,b}`, `"a b"`, `a,b` -> [a, b]
    public static func splitList(_ raw: String) -> [String] {
        let trimmed = raw.trimmingCharacters(in: CharacterSet(charactersIn: "{}\" "))
        return trimmed.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
    }
}

public enum IKEVersionPolicy: String, Sendable, Hashable {
    case v1Only = "IKEv1", v2Only = "IKEv2"
}

/// A parsed ipsec.conf (and everything it includes).
public struct IpsecConfig: Sendable, Hashable {
    /// `config setup` keys.
    public var setup: [String: ConfigValue]
    public var connections: [ConnectionConfig]
    /// The files read, in order (the main file first, then includes).
    public var files: [String]

    public init(setup: [String: ConfigValue] = [:], connections: [ConnectionConfig] = [], files: [String] = []) {
        self.setup = setup
        self.connections = connections
        self.files = files
    }

    public func connection(named name: String) -> ConnectionConfig? {
        connections.first { $0.name == name }
    }
}

/// One ipsec.secrets entry. The secret itself is never kept: only a
/// fingerprint, enough to tell whether two ends hold the same PSK.
public struct SecretEntry: Sendable, Hashable {
    public var ids: [String]
    /// `PSK`, `RSA`, `XAUTH`, ...
    public var kind: String
    /// FNV-1a 64 of the secret's bytes, or nil when there is no inline secret.
    public var fingerprint: UInt64?
    /// The line with the secret masked.
    public var source: SourceLine

    public init(ids: [String], kind: String, fingerprint: UInt64?, source: SourceLine) {
        self.ids = ids
        self.kind = kind
        self.fingerprint = fingerprint
        self.source = source
    }

    /// True when this entry would be chosen for the pair of IDs (either order, `%any` matches anything).
    public func matches(_ a: String?, _ b: String?) -> Bool {
        if ids.isEmpty { return true }
        func has(_ id: String?) -> Bool {
            guard let id else { return false }
            return ids.contains(id) || ids.contains("%any") || ids.contains("%any6")
        }
        if ids.count == 1 { return has(a) || has(b) }
        return has(a) && has(b)
    }
}


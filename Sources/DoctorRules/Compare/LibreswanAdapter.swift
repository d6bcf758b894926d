import DoctorModel
import Foundation

/// Libreswan's ipsec.conf connection -> the daemon-neutral `EffectiveConnection`: the keys read once here,
/// with Libreswan's defaults for what is absent, so what reads the model never looks up left/right keys.
enum LibreswanAdapter {
    /// CONN seen from the end that is `left` when LOCALISLEFT; MAJOR is the Libreswan major version whose
    /// defaults apply. Values that cannot be read (an `ike=` Libreswan would reject) are returned as problems.
    static func effective(_ conn: ConnectionConfig, localIsLeft: Bool, major: Int) -> (EffectiveConnection, [InputDiagnostic]) {
        var c = conn
        c.localIsLeft = localIsLeft
        var problems: [InputDiagnostic] = []
        let version = c.ikeVersion == .v1Only ? EffectiveConnection.IKEVersion.v1 : .v2
        let versionSource = c["keyexchange"]?.source ?? c["ikev2"]?.source
        func proposals(_ key: ConfigValue?, _ kind: LibreswanProposals.Kind) -> Sourced<[Proposal]> {
            do {
                return Sourced(try LibreswanProposals.expand(key?.value, kind, ikev2: version == .v2, major: major), key?.source)
            } catch {
                problems.append(InputDiagnostic(file: key?.source.file ?? c.header.file, line: key?.source.line, message: "\(error)"))
                return Sourced([], key?.source)
            }
        }
        let ike = proposals(c["ike"], .ike)
        let esp = proposals(c["esp"] ?? c["phase2alg"], .esp)
        func endpoint(local: Bool) -> EffectiveConnection.Endpoint {
            let value = { (suffix: String) in local ? c.local(suffix) : c.remote(suffix) }
            let address = value("").map { Sourced($0.value, $0.source) }
            // Without an ID an end sends its address (ID_IPV4_ADDR/ID_IPV6_ADDR).
            let id = value("id").map { Sourced($0.value, $0.source) } ?? address
            let key = local ? c.localKey("subnets") : c.remoteKey("subnets")
            let source = c[key]?.source ?? value("subnet")?.source
            var subnets = c.subnets(local: local).compactMap(IPPrefix.init)
            if subnets.isEmpty, let a = address?.value, let host = IPPrefix(a) { subnets = [host] }
            let authValue = value("auth") ?? c["authby"]
            return EffectiveConnection.Endpoint(
                address: address, id: id, auth: Sourced(auth(authValue?.value ?? "rsasig"), authValue?.source), subnets: Sourced(subnets, source),
                subnetsConfigured: !c.subnets(local: local).isEmpty, certificate: value("cert").map { Sourced($0.value, $0.source) },
                idConfigured: value("id") != nil)
        }
        let types: [String: EffectiveConnection.Mode] = ["transport": .transport, "passthrough": .passthrough]
        let mode = c["type"].map { Sourced(types[$0.value.lowercased()] ?? .tunnel, $0.source) } ?? Sourced(.tunnel, nil)
        let reqid = c["reqid"].flatMap { v in Int(v.value).map { Sourced($0, v.source) } }
        let sourced = { (key: String) in c[key].map { Sourced($0.value, $0.source) } }
        var effective = EffectiveConnection(
            name: c.name, header: c.header, ikeVersion: Sourced(version, versionSource), ike: ike, esp: esp,
            local: endpoint(local: true), remote: endpoint(local: false), mode: mode, reqid: reqid)
        effective.startup = sourced("auto")
        effective.dpd = .init(delay: sourced("dpddelay"), timeout: sourced("dpdtimeout"), action: sourced("dpdaction"))
        effective.mtu = c["mtu"].flatMap { v in Int(v.value).map { Sourced($0, v.source) } }
        return (effective, problems)
    }

    /// The same, for diagnose: the connection as the snapshot oriented it (this end is the one whose
    /// address the host holds), with the defaults of the snapshot's Libreswan version.
    static func effective(_ conn: ConnectionConfig, version: String?) -> EffectiveConnection {
        effective(conn, localIsLeft: conn.localIsLeft, major: major(version)).0
    }

    /// What a connection offers, for an explanation: the line as written with the typed model's expansion
    /// (`ike=aes256-sha2;dh20 (AES_CBC_256-HMAC_SHA2_512-DH20)`), or for an absent key the version's defaults.
    static func describe(_ proposals: Sourced<[Proposal]>, _ kind: LibreswanProposals.Kind, version: String?) -> String {
        let expanded = proposals.value.map(\.description).joined(separator: ", ")
        if let line = proposals.source { return "\(line.text.trimmingCharacters(in: .whitespaces)) (\(expanded))" }
        return "Libreswan \(major(version)).x's default \(kind == .ike ? "IKE" : "ESP") proposals (\(expanded))"
    }

    /// The value of a `key=value` line as written (`aes128-sha2;modp2048` of `ike=aes128-sha2;modp2048`).
    static func written(_ line: SourceLine?) -> String? {
        guard let line, let eq = line.text.firstIndex(of: "=") else { return nil }
        return line.text[line.text.index(after: eq)...].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// The `authby=` word for a method, as the remedy writes it.
    static func keyword(_ auth: EffectiveConnection.AuthMethod) -> String {
        switch auth {
        case .psk: "secret"
        case .rsasig: "rsasig"
        case .ecdsa: "ecdsa"
        case .null: "null"
        case .eap: "eaponly"
        case .unknown: "rsasig"
        }
    }

    /// The keys whose lines a setting replaces: its own, and the other spelling of the same thing
    /// (`rightsubnets=` when `rightsubnet=` is written).
    static func replaced(_ setting: Setting, in conn: ConnectionConfig) -> [String] {
        switch setting {
        case .localSubnets: return [conn.localKey("subnet"), conn.localKey("subnets")]
        case .remoteSubnets: return [conn.remoteKey("subnet"), conn.remoteKey("subnets")]
        case .esp: return ["esp", "phase2alg"]
        case .ikeVersion: return ["ikev2", "keyexchange"]
        default: return []
        }
    }

    /// Where a setting lives in CONN, in this end's view: the key to write (`rightid`, `leftsubnets`) and the
    /// value in Libreswan's syntax. MAJOR picks the IKE version keyword (`keyexchange=` on 5.x).
    static func line(_ setting: Setting, in conn: ConnectionConfig, major: Int) -> (key: String, value: String?) {
        // One subnet is `leftsubnet=`, several `leftsubnets={...}` (the other spelling's line goes: `replaces`).
        func subnets(local: Bool, _ list: [IPPrefix]) -> (String, String?) {
            let plural = list.count > 1
            let key = local ? conn.localKey(plural ? "subnets" : "subnet") : conn.remoteKey(plural ? "subnets" : "subnet")
            let words = list.map(\.description)
            return (key, plural ? "{\(words.joined(separator: ","))}" : words.first)
        }
        switch setting {
        case .localID(let id): return (conn.localKey("id"), id)
        case .remoteID(let id): return (conn.remoteKey("id"), id)
        case .localSubnets(let list): return subnets(local: true, list)
        case .remoteSubnets(let list): return subnets(local: false, list)
        case .auth(let method): return ("authby", keyword(method))
        case .ikeVersion(let v):
            return major >= 5 ? ("keyexchange", v == .v2 ? "ikev2" : "ikev1") : ("ikev2", v == .v2 ? "insist" : "no")
        case .ike(let value): return ("ike", value)
        case .esp(let value): return (conn["phase2alg"] != nil && conn["esp"] == nil ? "phase2alg" : "esp", value)
        case .reqid(let r): return ("reqid", r.map(String.init))
        case .startup(let v): return ("auto", v)
        case .mtu(let m): return ("mtu", m.map(String.init))
        case .dpdAction(let a): return ("dpdaction", a)
        }
    }

    /// `authby=` / `leftauth=` words -> the method (the first of a list: what an initiator uses).
    static func auth(_ raw: String) -> EffectiveConnection.AuthMethod {
        let first = raw.lowercased().split(separator: ",").first.map(String.init) ?? ""
        switch first {
        case "secret", "psk": return .psk
        case "rsasig", "rsa", "rsa-sha1", "rsa-sha2", "rsa-sha2_256", "rsa-sha2_384", "rsa-sha2_512", "pubkey": return .rsasig
        case "ecdsa", "ecdsa-sha2", "ecdsa-sha2_256", "ecdsa-sha2_384", "ecdsa-sha2_512": return .ecdsa
        case "null": return .null
        case "eaponly", "eap": return .eap
        default: return .unknown
        }
    }

    /// The Libreswan major version a snapshot names (`Libreswan 5.2`); 4 when unknown.
    static func major(_ version: String?) -> Int {
        let digits = version.map { v in v.drop { !$0.isNumber }.prefix { $0.isNumber } } ?? ""
        return Int(digits) ?? 4
    }
}

/// A change a remedy makes to one end's connection, in the model's terms; the daemon's adapter writes it as
/// that daemon's config line (`Setting.remoteID("@west")` is Libreswan's `rightid=@west` on a left-oriented
/// end). A nil value removes the setting (its default applies).
public enum Setting: Sendable, Hashable {
    case localID(String), remoteID(String)
    case localSubnets([IPPrefix]), remoteSubnets([IPPrefix])
    case auth(EffectiveConnection.AuthMethod)
    case ikeVersion(EffectiveConnection.IKEVersion)
    case ike(String), esp(String)
    case reqid(Int?)
    case startup(String)
    case mtu(Int?)
    case dpdAction(String)
}

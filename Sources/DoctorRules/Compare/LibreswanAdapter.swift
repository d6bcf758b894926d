import DoctorModel

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
            return EffectiveConnection.Endpoint(address: address, id: id, auth: Sourced(auth(authValue?.value ?? "rsasig"), authValue?.source), subnets: Sourced(subnets, source))
        }
        let mode = c["type"].map { Sourced($0.value.lowercased() == "transport" ? EffectiveConnection.Mode.transport : .tunnel, $0.source) } ?? Sourced(.tunnel, nil)
        let reqid = c["reqid"].flatMap { v in Int(v.value).map { Sourced($0, v.source) } }
        let effective = EffectiveConnection(
            name: c.name, header: c.header, ikeVersion: Sourced(version, versionSource), ike: ike, esp: esp,
            local: endpoint(local: true), remote: endpoint(local: false), mode: mode, reqid: reqid)
        return (effective, problems)
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

    /// What CONN offers for KIND, as the typed model expands it, for an explanation: `ike=VALUE
    /// (AES_CBC_256-HMAC_SHA2_512-DH20)`, or for an absent key `Libreswan 4.x's defaults (AES_GCM_16_256-...,
    /// ...)`. nil when the value cannot be read.
    static func describeProposals(_ conn: ConnectionConfig, _ kind: LibreswanProposals.Kind, version: String?) -> String? {
        let key = kind == .ike ? conn["ike"] : conn["esp"] ?? conn["phase2alg"]
        let major = major(version)
        guard let list = try? LibreswanProposals.expand(key?.value, kind, ikev2: conn.ikeVersion == .v2Only, major: major) else { return nil }
        let expanded = list.map(\.description).joined(separator: ", ")
        if let key { return "\(key.source.text.trimmingCharacters(in: .whitespaces)) (\(expanded))" }
        return "Libreswan \(major).x's default \(kind == .ike ? "IKE" : "ESP") proposals (\(expanded))"
    }
}

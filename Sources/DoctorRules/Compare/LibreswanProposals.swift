import DoctorModel

/// Libreswan's `ike=` / `esp=` (`phase2alg=`) values as the proposals the daemon builds from them: each
/// comma-separated proposal parsed (`ENCR[-PRF|INTEG][-DH]` or `ENCR[-PRF|INTEG][;DH]`, each part a
/// `+`-joined list), names normalised to what `ipsec algparse` prints, and every part a proposal leaves out
/// filled from the version's defaults (lib/libswan/ike_info.c and esp_info.c at v3.32, v4.10 and v5.0):
///
///     ike=aes256-sha2_512;dh20        ->  AES_CBC_256-HMAC_SHA2_512-DH20
///     ike=aes                         ->  AES_CBC-HMAC_SHA2_512+HMAC_SHA2_256-MODP2048+...+DH31   (IKEv2)
///     esp=aes_gcm256                  ->  AES_GCM_16_256-NONE
///     (no esp=, IKEv2, 4.x)           ->  AES_GCM_16_256-NONE, AES_GCM_16_128-NONE, AES_CBC_256-..., ...
///
/// A test holds the expansion to the installed `ipsec algparse` on every value the lab uses and more.
enum LibreswanProposals {
    enum Kind { case ike, esp }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// The proposals VALUE (nil: the key is absent) makes for KIND, IKE VERSION and Libreswan MAJOR version.
    static func expand(_ value: String?, _ kind: Kind, ikev2: Bool, major: Int) throws -> [Proposal] {
        let d = Defaults(kind, ikev2: ikev2, major: major)
        guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            return d.proposals.map { fill(Proposal(encryption: [$0], prf: [], integrity: [], dh: []), kind, d) }
        }
        var out: [Proposal] = []
        for text in value.lowercased().split(separator: ",") {
            // A `!` at the end (strict) only says "no other proposals": the list is what it is.
            var t = text.trimmingCharacters(in: .whitespaces)
            if t.hasSuffix("!") { t.removeLast() }
            var dhPart: Substring?
            if let semi = t.firstIndex(of: ";") {
                dhPart = t[t.index(after: semi)...]
                t = String(t[..<semi])
            }
            var parts = t.split(separator: "-", omittingEmptySubsequences: false)
            guard let first = parts.first, !first.isEmpty else { throw ParseError(description: "empty proposal in `\(value)`") }
            let encryption = try first.split(separator: "+").map { try cipher(String($0)) }
            parts.removeFirst()
            var p = Proposal(encryption: encryption, prf: [], integrity: [], dh: [])
            if let second = parts.first {
                // The second part is a PRF/integrity list, unless it is a group (`aes256-modp2048` is accepted).
                if second.split(separator: "+").allSatisfy({ group(String($0)) != nil }) {
                    p.dh = try groups(second)
                } else {
                    let names = try second.split(separator: "+").map { try mac(String($0), kind) }
                    if kind == .ike { p.prf = names.map(\.prf) } else { p.integrity = names.map(\.integrity) }
                }
                parts.removeFirst()
            }
            if let third = parts.first { p.dh = try groups(third) }
            if let dhPart { p.dh = try groups(dhPart) }
            out.append(fill(p, kind, d))
        }
        return out
    }

    /// Fills what a proposal leaves out from the defaults; AEAD ciphers take no integrity.
    static func fill(_ p: Proposal, _ kind: Kind, _ d: Defaults) -> Proposal {
        var p = p
        let aead = p.encryption.allSatisfy(isAEAD)
        switch kind {
        case .ike:
            if p.prf.isEmpty { p.prf = d.prf }
            if p.dh.isEmpty { p.dh = d.dh }
            p.integrity = aead ? ["NONE"] : p.prf
        case .esp:
            if p.integrity.isEmpty { p.integrity = aead ? ["NONE"] : d.integrity }
        }
        return p
    }

    static func isAEAD(_ cipher: String) -> Bool {
        cipher.hasPrefix("AES_GCM") || cipher.hasPrefix("AES_CCM") || cipher == "CHACHA20_POLY1305"
    }

    /// `aes256` -> AES_CBC_256, `aes_gcm` -> AES_GCM_16, `aes_gcm_a128` -> AES_GCM_8_128, `3des` -> 3DES.
    static func cipher(_ raw: String) throws -> String {
        let s = raw.replacingOccurrences(of: "aes_cbc", with: "aes")
        let fixed = ["3des": "3DES_CBC", "3des_cbc": "3DES_CBC", "chacha20_poly1305": "CHACHA20_POLY1305", "chacha20poly1305": "CHACHA20_POLY1305", "null": "NULL"]
        if let f = fixed[s] { return f }
        let families: [(prefix: String, name: String)] = [
            ("aes_gcm_a", "AES_GCM_8"), ("aes_gcm_b", "AES_GCM_12"), ("aes_gcm_c", "AES_GCM_16"), ("aes_gcm_16", "AES_GCM_16"),
            ("aes_gcm_12", "AES_GCM_12"), ("aes_gcm_8", "AES_GCM_8"), ("aes_gcm", "AES_GCM_16"),
            ("aes_ccm_a", "AES_CCM_8"), ("aes_ccm_b", "AES_CCM_12"), ("aes_ccm_c", "AES_CCM_16"), ("aes_ccm", "AES_CCM_16"),
            ("aes_ctr", "AES_CTR"), ("camellia_cbc", "CAMELLIA_CBC"), ("camellia", "CAMELLIA_CBC"), ("aes", "AES_CBC"),
        ]
        for f in families where s.hasPrefix(f.prefix) {
            var rest = s.dropFirst(f.prefix.count)
            if rest.first == "_" { rest = rest.dropFirst() }
            if rest.isEmpty { return f.name }
            if let bits = Int(rest), [128, 192, 256].contains(bits) { return "\(f.name)_\(bits)" }
        }
        throw ParseError(description: "encryption algorithm `\(raw)` is not recognised")
    }

    /// The PRF and the ESP integrity name of one hash: `sha2_256` -> HMAC_SHA2_256 / HMAC_SHA2_256_128.
    static func mac(_ raw: String, _ kind: Kind) throws -> (prf: String, integrity: String) {
        switch raw {
        case "sha1", "sha": return ("HMAC_SHA1", "HMAC_SHA1_96")
        case "sha2", "sha256", "sha2_256": return ("HMAC_SHA2_256", "HMAC_SHA2_256_128")
        case "sha384", "sha2_384": return ("HMAC_SHA2_384", "HMAC_SHA2_384_192")
        case "sha512", "sha2_512": return ("HMAC_SHA2_512", "HMAC_SHA2_512_256")
        case "md5": return ("HMAC_MD5", "HMAC_MD5_96")
        case "aes_xcbc", "aesxcbc": return ("AES_XCBC", "AES_XCBC_96")
        case "null", "none": return ("NONE", "NONE")
        default: throw ParseError(description: "\(kind == .ike ? "PRF" : "integrity") algorithm `\(raw)` is not recognised")
        }
    }

    /// `modp2048`, `dh14` -> MODP2048; `dh19`, `ecp256` -> DH19; `curve25519`, `dh31` -> DH31.
    static func group(_ raw: String) -> String? {
        let modp = ["1024": 2, "1536": 5, "2048": 14, "3072": 15, "4096": 16, "6144": 17, "8192": 18]
        if raw.hasPrefix("modp"), modp[String(raw.dropFirst(4))] != nil { return "MODP" + raw.dropFirst(4) }
        let ecp = ["ecp256": "DH19", "ecp_256": "DH19", "ecp384": "DH20", "ecp_384": "DH20", "ecp521": "DH21", "ecp_521": "DH21",
                   "curve25519": "DH31", "none": "NONE"]
        if let e = ecp[raw] { return e }
        if raw.hasPrefix("dh"), let n = Int(raw.dropFirst(2)) {
            if let m = modp.first(where: { $0.value == n }) { return "MODP" + m.key }
            if [19, 20, 21, 22, 23, 24, 31].contains(n) { return "DH\(n)" }
        }
        return nil
    }

    static func groups(_ part: Substring) throws -> [String] {
        try part.split(separator: "+").map {
            guard let g = group(String($0)) else { throw ParseError(description: "DH group `\($0)` is not recognised") }
            return g
        }
    }

    /// Defaults by protocol, IKE version and Libreswan major version (the source at v3.32, v4.10, v5.0).
    struct Defaults {
        var proposals: [String]
        var prf: [String] = []
        var integrity: [String] = []
        var dh: [String] = []

        init(_ kind: Kind, ikev2: Bool, major: Int) {
            let v2Ciphers = major >= 5
                ? ["AES_GCM_16_256", "AES_GCM_16_128", "CHACHA20_POLY1305", "AES_CBC_256", "AES_CBC_128"]
                : ["AES_GCM_16_256", "AES_GCM_16_128", "AES_CBC_256", "AES_CBC_128"]
            switch (kind, ikev2) {
            case (.ike, true):
                proposals = v2Ciphers
                prf = ["HMAC_SHA2_512", "HMAC_SHA2_256"]
                dh = major >= 5
                    ? ["DH19", "DH20", "DH21", "DH31", "MODP4096", "MODP3072", "MODP2048", "MODP8192"]
                    : ["MODP2048", "MODP3072", "MODP4096", "MODP8192", "DH19", "DH20", "DH21", "DH31"]
            case (.ike, false):
                proposals = ["AES_CBC", "3DES_CBC"]
                prf = ["HMAC_SHA2_256", "HMAC_SHA2_512", "HMAC_SHA1"]
                dh = major >= 5 ? ["MODP2048", "MODP1536", "DH19", "DH31"] : ["MODP2048", "MODP1536"]
            case (.esp, true):
                proposals = v2Ciphers
                integrity = ["HMAC_SHA2_512_256", "HMAC_SHA2_256_128"]
            case (.esp, false):
                proposals = major >= 5 ? ["AES_CBC", "AES_GCM_16_128", "AES_GCM_16_256", "3DES_CBC"] : ["AES_CBC"]
                integrity = major >= 5 ? ["HMAC_SHA1_96", "HMAC_SHA2_512_256", "HMAC_SHA2_256_128"] : ["HMAC_SHA1_96"]
            }
        }
    }
}

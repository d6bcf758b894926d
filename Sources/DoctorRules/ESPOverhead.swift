import DoctorModel

/// ESP overhead and the largest inner packet that fits a path MTU, as the
/// kernel computes it (`esp_init_state`, `xfrm_state_mtu`; reference §5,
/// verified against measured pings in user-mode Linux).
public struct ESPOverhead: Sendable, Hashable {
    public var ivBytes: Int
    public var icvBytes: Int
    /// Padding alignment: ALIGN(cipher block size, 4).
    public var blockBytes: Int
    public var tunnel: Bool
    public var ipv6: Bool
    /// NAT-T UDP encapsulation adds 8 bytes.
    public var natT: Bool
    /// Human-readable algorithm name for explanations.
    public var algorithm: String

    public var outerHeader: Int { tunnel ? (ipv6 ? 40 : 20) : 0 }

    /// max_inner = floor((PMTU - H_outer - U - 8 - IV - ICV) / B) * B - 2  (tunnel)
    public func maxInner(pathMTU: Int) -> Int {
        let h = tunnel ? outerHeader : (ipv6 ? 40 : 20)
        let room = pathMTU - h - (natT ? 8 : 0) - 8 - ivBytes - icvBytes
        let aligned = (room / blockBytes) * blockBytes - 2
        return tunnel ? aligned : aligned + h
    }

    /// On-wire size of an inner packet of `inner` bytes.
    public func outerSize(inner: Int) -> Int {
        let padded = ((inner + 2 + blockBytes - 1) / blockBytes) * blockBytes
        return outerHeader + (natT ? 8 : 0) + 8 + ivBytes + padded + icvBytes
    }

    /// From the kernel SA (`ip xfrm state`).
    public static func from(state: XfrmState) -> ESPOverhead? {
        var iv = 0, icv = 0, block = 4
        var names: [String] = []
        for a in state.algorithms {
            names.append(a.name)
            switch a.kind {
            case "aead":
                iv = 8
                icv = (a.bits ?? 128) / 8
                block = 4
            case "enc":
                if a.name.contains("cbc(aes)") || a.name.contains("cbc(camellia)") { iv = 16; block = 16 }
                else if a.name.contains("des3") || a.name.contains("cbc(des") { iv = 8; block = 8 }
                else if a.name.contains("ctr") { iv = 8; block = 4 }
                else if a.name.contains("null") { iv = 0; block = 4 }
                else { iv = 16; block = 16 }
            case "auth-trunc", "auth":
                icv = (a.bits ?? 96) / 8
            default:
                break
            }
        }
        guard !state.algorithms.isEmpty else { return nil }
        return ESPOverhead(ivBytes: iv, icvBytes: icv, blockBytes: block, tunnel: state.mode == "tunnel",
                           ipv6: state.dst.contains(":"), natT: state.encapType != nil, algorithm: names.joined(separator: " + "))
    }

    /// From Libreswan's negotiated transform (`xfrm=AES_GCM_16_256-NONE`, `AES_CBC_128-HMAC_SHA1_96`).
    public static func from(libreswanXfrm x: String, tunnel: Bool = true, ipv6: Bool = false, natT: Bool = false) -> ESPOverhead {
        let u = x.uppercased()
        var iv = 16, icv = 12, block = 16
        if u.contains("GCM") || u.contains("CCM") || u.contains("CHACHA") || u.contains("GMAC") {
            iv = 8; block = 4
            icv = u.contains("_12") ? 12 : u.contains("_8") && !u.contains("_8_") ? 8 : 16
        } else if u.contains("CTR") { iv = 8; block = 4 }
        else if u.contains("3DES") { iv = 8; block = 8 }
        if !(u.contains("GCM") || u.contains("CCM") || u.contains("CHACHA") || u.contains("GMAC")) {
            if u.contains("SHA2_512") { icv = 32 } else if u.contains("SHA2_384") { icv = 24 } else if u.contains("SHA2_256") { icv = 16 } else { icv = 12 }
        }
        return ESPOverhead(ivBytes: iv, icvBytes: icv, blockBytes: block, tunnel: tunnel, ipv6: ipv6, natT: natT, algorithm: x)
    }
}

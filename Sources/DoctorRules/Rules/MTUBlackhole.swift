import DoctorModel

/// Large packets vanish in the tunnel while small ones pass: the path MTU is below what ESP needs.
struct MTUBlackhole: Rule {
    static let code: FindingCode = .mtuBlackhole
    static let stage: Stage = .pathMTU
    static let needs: [InputNeed] = [.trafficTest]
    static let summary = "Large packets cannot cross the tunnel: computed ESP overhead vs egress MTU and DF-ping evidence give the exact mtu= and MSS clamp."
    static let examples: [RuleExample] = [
        .triggering("mtu-blackhole", cites: "100% packet loss"),
        .triggering("ipv6-mtu-blackhole", cites: "packets transmitted"),
        .triggering("mtu-narrow-link", cites: "packets transmitted"),
        .nonTriggering("healthy"),
        .nonTriggering("missing-policy"),
    ]

    func evaluate(_ ctx: DiagnosisContext) -> [Finding] {
        guard let pings = ctx.local.pings?.filter({ $0.dontFragment && $0.payloadSize > 0 }), !pings.isEmpty else { return [] }
        let ok = pings.filter { $0.received > 0 }
        // Silent loss only: a local "message too long" is the kernel doing its job, not a blackhole.
        let lost = pings.filter { $0.received == 0 && $0.reportedMTU == nil }
        guard let largestOK = ok.max(by: { $0.payloadSize < $1.payloadSize }),
            let smallestLost = lost.filter({ $0.payloadSize > largestOK.payloadSize }).min(by: { $0.payloadSize < $1.payloadSize })
        else { return [] }
        let name = ctx.connectionNames.first { ctx.isUp($0) == true } ?? ctx.connectionNames.first
        let conn = name.flatMap { ctx.connection($0) }
        let peerAddr = conn?.remote.address?.value
        let overhead = self.overhead(ctx, name: name, peer: peerAddr)
        let egress = egressMTU(ctx, peer: peerAddr)
        // The inner packet is the ping payload plus ICMP and IP headers: 8 + 20 (IPv4) or 8 + 40 (IPv6).
        let innerV6 = largestOK.destination.contains(":")
        let headers = innerV6 ? 48 : 28
        let okInner = largestOK.payloadSize + headers
        let lostInner = smallestLost.payloadSize + headers
        let okOuter = overhead.outerSize(inner: okInner)
        let lostOuter = overhead.outerSize(inner: lostInner)
        let egressMax = overhead.maxInner(pathMTU: egress.mtu)
        guard lostInner <= egressMax else { return [] }  // the local kernel would have refused it with EMSGSIZE
        let mtu = overhead.maxInner(pathMTU: okOuter)
        let mss = mtu - (innerV6 ? 60 : 40)
        let geo = name.flatMap { ctx.geometry($0) }
        // A local host address inside the local subnet, to source the verification ping from.
        let sourceIP = ctx.local.localAddresses.compactMap { a -> String? in
            let host = String(a.description.split(separator: "/")[0])
            guard let h = IPPrefix(host), geo?.localSubnets.contains(where: { $0.contains(h) }) == true else { return nil }
            return host
        }.first ?? "<an address in \(geo?.localSubnets.first?.description ?? "the local subnet")>"
        let l = geo?.localSubnets.first?.description ?? "<local subnet>"
        let r = geo?.remoteSubnets.first?.description ?? "<remote subnet>"
        var evidence = [largestOK.source, smallestLost.source]
        if let src = egress.source { evidence.append(src) }
        if let st = ctx.local.states?.first(where: { $0.dst == peerAddr && !$0.isLarval }) { evidence += st.lines.filter { $0.text.contains("aead") || $0.text.contains("enc ") || $0.text.contains("auth") || $0.text.contains("encap") } }
        if let m = conn?.mtu?.source { evidence.append(m) }
        return [Finding(
            code: Self.code, severity: .error, connection: name,
            title: "Packets above \(okInner) bytes vanish in the tunnel (path MTU below \(lostOuter)): set mtu=\(mtu)",
            explanation: """
                With DF set, a \(largestOK.payloadSize)-byte ping (\(okInner)-byte packet) crosses the tunnel but a \
                \(smallestLost.payloadSize)-byte one (\(lostInner) bytes) is lost without any ICMP error. ESP \
                (\(overhead.algorithm), \(overhead.tunnel ? "tunnel" : "transport") mode, \(overhead.ipv6 ? "IPv6" : "IPv4")\
                \(overhead.natT ? ", NAT-T" : "")) adds \(overhead.outerHeader + (overhead.natT ? 8 : 0) + 8 + overhead.ivBytes + overhead.icvBytes + 2)+ bytes: \
                those packets are \(okOuter) and \(lostOuter) bytes on the wire. The egress interface allows \
                \(egress.mtu) (max inner \(egressMax)), so the loss happens further on the path: its MTU is \
                between \(okOuter) and \(lostOuter - 1) bytes, and the router there does not send "fragmentation \
                needed" (a PMTU blackhole). Small packets (ping, SSH login) work; bulk transfers stall.
                """,
            evidence: evidence,
            remedy: Remedy(summary: "Lower the tunnel MTU to \(mtu) and clamp TCP MSS to \(mss) on both ends.", steps: [
                ctx.changeOrAdd(.mtu(mtu), on: .both, name ?? "CONN", why: "Largest inner packet whose ESP packet (\(okOuter) bytes) is known to cross the path"),
            ] + HostFirewall(ctx.local).clampMSS(.local, from: l, to: r, mss: mss, ipv6: innerV6)
              + HostFirewall(ctx.peer).clampMSS(.peer, from: r, to: l, mss: mss, ipv6: innerV6)
              + sweep(okPayload: largestOK.payloadSize, lostPayload: smallestLost.payloadSize, headers: headers,
                      best: overhead.maxInner(pathMTU: lostOuter - 1), mtu: mtu, source: sourceIP, destination: largestOK.destination) + [
                .check(.local, "Verify: this DF ping must now pass", "ping -M do -s \(mtu - headers) -I \(sourceIP) \(largestOK.destination)"),
            ]),
            stage: Self.stage)]
    }

    /// When the sizes tried leave room (the path may allow up to `best`, the remedy sets `mtu`), the DF ping
    /// sweep over the sizes between the largest that passed and the smallest lost finds the exact limit:
    /// no ICMP comes back from a blackhole, so tracepath cannot.
    func sweep(okPayload: Int, lostPayload: Int, headers: Int, best: Int, mtu: Int, source: String, destination: String) -> [RemedyStep] {
        guard best > mtu, lostPayload - okPayload > 4 else { return [] }
        let first = okPayload + 4, last = lostPayload - 1
        return [.check(.local, "Optional: the path allows an inner packet of \(mtu) to \(best) bytes; find the largest size that crosses (then mtu= that size + \(headers))",
                       "for s in $(seq \(first) 4 \(last)); do ping -c 1 -W 1 -M do -s $s -I \(source) \(destination) >/dev/null && echo \"$s ok\" || echo \"$s lost\"; done")]
    }

    func overhead(_ ctx: DiagnosisContext, name: String?, peer: String?) -> ESPOverhead {
        if let st = ctx.local.states?.first(where: { $0.dst == peer && !$0.isLarval }) ?? ctx.local.states?.first(where: { !$0.isLarval }),
            let o = ESPOverhead.from(state: st)
        {
            return o
        }
        if let name, let x = ctx.local.events.last(.childEstablished, connection: name)?.details["xfrm"] {
            return ESPOverhead.from(libreswanXfrm: x)
        }
        return ESPOverhead.from(libreswanXfrm: "AES_GCM_16_256")  // Libreswan's default ESP
    }

    func egressMTU(_ ctx: DiagnosisContext, peer: String?) -> (mtu: Int, source: SourceLine?) {
        if let peer, let p = IPPrefix(peer), let ifs = ctx.local.interfaces,
            let i = ifs.first(where: { $0.addresses.contains { $0.contains(p) } }) ?? ifs.first(where: { $0.name != "lo" && !$0.addresses.isEmpty }),
            let m = i.mtu
        {
            return (m, i.source)
        }
        return (1500, nil)
    }
}

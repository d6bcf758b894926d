import DoctorModel
import Foundation

/// Parses `ip addr` and `ip [-d] link`: interfaces, their MTU and addresses.
///
///     2: vw@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
///         inet 192.0.2.1/24 scope global vw
public enum IpAddrParser {
    public static func parse(_ document: RawDocument) -> ([NetInterface], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        var out: [NetInterface] = []
        for (n, raw) in lines {
            let w = raw.split(separator: " ").map(String.init)
            guard let first = w.first else { continue }
            if raw.first?.isNumber == true, first.hasSuffix(":"), w.count > 2 {
                var name = w[1].trimmingSuffix(":")
                if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
                let mtu = XfrmBlocks.value(after: "mtu", in: w).flatMap { Int($0) }
                out.append(NetInterface(name: name, mtu: mtu, addresses: [], source: SourceLine(file: document.name, line: n, text: raw)))
            } else if first == "inet" || first == "inet6", w.count > 1, let p = IPPrefix(w[1]), !out.isEmpty {
                out[out.count - 1].addresses.append(p)
            }
        }
        return (out, [])
    }
}

/// Parses `ip route`.
///
///     default via 192.0.2.254 dev vw
///     10.2.0.0/24 via 192.0.2.2 dev vw src 10.1.0.1 mtu 1400
public enum IpRouteParser {
    public static func parse(_ document: RawDocument) -> ([Route], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        var out: [Route] = []
        var diags: [InputDiagnostic] = []
        for (n, raw) in lines where !raw.hasPrefix(" ") && !raw.hasPrefix("\t") && !raw.isEmpty && !raw.hasPrefix("#") {
            var w = raw.split(separator: " ").map(String.init)
            // `unreachable 10.9.0.0/16`, `local 10.1.0.1 dev lo table local`: the type, then the destination.
            if let first = w.first, routeTypes.contains(first), w.count > 1 { w.removeFirst() }
            guard let dest = w.first, isDestination(dest) else {
                diags.append(InputDiagnostic(file: document.name, line: n, message: "not an ip route line: '\(Redactor.excerpt(Substring(raw)))'"))
                continue
            }
            out.append(Route(
                destination: dest, via: XfrmBlocks.value(after: "via", in: w), device: XfrmBlocks.value(after: "dev", in: w),
                mtu: XfrmBlocks.value(after: "mtu", in: w).flatMap { Int($0) }, source: SourceLine(file: document.name, line: n, text: raw)))
        }
        return (out, diags)
    }

    static let routeTypes: Set<String> = ["unicast", "local", "broadcast", "multicast", "anycast", "unreachable", "blackhole", "prohibit", "throw", "nat"]

    /// `default`, an IPv4 or IPv6 address or prefix: what an `ip route` line starts with.
    static func isDestination(_ w: String) -> Bool { w == "default" || IPPrefix(w) != nil }
}

/// Parses ping runs (as the user ran them, optionally after a `$ ping ...` prompt line) and tracepath's pmtu.
///
///     $ ping -c 2 -W 2 -M do -s 1400 -I 10.1.0.1 10.2.0.1
///     PING 10.2.0.1 (10.2.0.1) from 10.1.0.1 : 1400(1428) bytes of data.
///     ping: local error: message too long, mtu=1438
///     2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1012ms
public enum PingParser {
    public static func parse(_ document: RawDocument) -> ([PingProbe], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        var out: [PingProbe] = []
        var df = false
        var current: PingProbe?
        for (n, raw) in lines {
            let t = raw.trimmingCharacters(in: .whitespaces)
            if let cmd = InputRecognizer.promptCommand(String(t)) {
                df = cmd.contains("-M do") || cmd.contains("-Mdo") || cmd.contains("-D")
                continue
            }
            if t.hasPrefix("PING ") {
                // IPv4: `PING 10.2.0.1 (10.2.0.1) from 10.1.0.1 : 1400(1428) bytes of data.`
                // IPv6: `PING fd02::1(fd02::1) from fd01::1 : 1000 data bytes`
                let w = t.split(separator: " ").map(String.init)
                var size = 56
                if let i = w.firstIndex(of: "data"), i > 0, w.count > i + 1, w[i + 1].hasPrefix("bytes") {
                    size = Int(w[i - 1]) ?? 56
                } else if let i = w.firstIndex(of: "bytes"), i > 0 {
                    size = Int(w[i - 1].split(separator: "(").first ?? "") ?? 56
                }
                let dest = w.count > 1 ? String(w[1].split(separator: "(").first ?? Substring(w[1])) : "?"
                let from = w.firstIndex(of: "from").flatMap { $0 + 1 < w.count ? w[$0 + 1] : nil }
                current = PingProbe(destination: dest, payloadSize: size, dontFragment: df, transmitted: 0, received: 0,
                                    reportedMTU: nil, sourceAddress: from, source: SourceLine(file: document.name, line: n, text: raw))
            } else if t.contains("mtu=") || t.contains("mtu = ") || t.contains("mtu: ") {
                let digits = t.components(separatedBy: "mtu").last?.filter(\.isNumber) ?? ""
                current?.reportedMTU = Int(digits)
                current?.dontFragment = true
            } else if t.contains("packets transmitted") {
                let w = t.split(separator: " ").map(String.init)
                current?.transmitted = Int(w.first ?? "") ?? 0
                if let i = w.firstIndex(where: { $0.hasPrefix("received") }), i > 0 { current?.received = Int(w[i - 1]) ?? 0 }
                if var c = current {
                    c.source = SourceLine(file: document.name, line: n, text: raw)
                    out.append(c)
                }
                current = nil
            } else if t.contains("pmtu "), let last = t.split(separator: " ").last, let v = Int(last) {
                out.append(PingProbe(destination: "tracepath", payloadSize: 0, dontFragment: true, transmitted: 0, received: 0,
                                     reportedMTU: v, source: SourceLine(file: document.name, line: n, text: raw)))
            }
        }
        return (out, [])
    }
}

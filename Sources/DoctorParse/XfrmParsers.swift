import DoctorModel
import Foundation

/// Splits `ip xfrm` output into blocks: a block starts at a line without
/// leading whitespace (`src ... dst ...`), its detail lines start with a TAB.
/// `ip -o` output (`\` + TAB joins) is unfolded first.
enum XfrmBlocks {
    static func blocks(_ lines: [(Int, String)]) -> [[(Int, String)]] {
        var out: [[(Int, String)]] = []
        for (n, raw) in lines {
            // -o (oneline): "src ... \	proto esp ..." -> separate logical lines with the same number
            let parts = raw.contains("\\\t") ? raw.components(separatedBy: "\\\t").enumerated().map { $0.offset == 0 ? $0.element : "\t" + $0.element } : [raw]
            for line in parts {
                if line.isEmpty { continue }
                if line.first != " " && line.first != "\t" {
                    out.append([(n, line)])
                } else if !out.isEmpty {
                    out[out.count - 1].append((n, line))
                }
            }
        }
        return out
    }

    static func words(_ s: String) -> [String] {
        s.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    static func value(after key: String, in w: [String]) -> String? {
        guard let i = w.firstIndex(of: key), i + 1 < w.count else { return nil }
        return w[i + 1]
    }

    /// `0x00002001(8193)` -> 0x2001; `16389(0x00004005)` -> 16389
    static func hexOrDec(_ s: String) -> UInt32? {
        let head = s.split(separator: "(").first.map(String.init) ?? s
        if head.hasPrefix("0x") { return UInt32(head.dropFirst(2), radix: 16) }
        return UInt32(head)
    }
}

/// Parses `ip [-s] xfrm policy` (iproute2 text; see the kernel reference §3.2).
///
///     src 10.1.0.0/24 dst 10.2.0.0/24 uid 0
///     	dir out action allow index 9 priority 1757393 ptype main share any flag  (0x00000000)
///     	tmpl src 192.0.2.1 dst 192.0.2.2
///     		proto esp reqid 16389 mode tunnel
///
/// Socket policies (`socket in`) are kept but marked; `Deleted`/`Updated` prefixes (monitor) are tolerated.
public enum XfrmPolicyParser {
    public static func parse(_ document: RawDocument) -> ([XfrmPolicy], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        return parse(lines: lines, file: document.name)
    }

    public static func parse(lines: [(Int, String)], file: String) -> ([XfrmPolicy], [InputDiagnostic]) {
        var out: [XfrmPolicy] = []
        var diags: [InputDiagnostic] = []
        for block in XfrmBlocks.blocks(lines) {
            guard let (n0, head) = block.first else { continue }
            var w = XfrmBlocks.words(head)
            while let f = w.first, ["Deleted", "Updated", "Expired"].contains(f) { w.removeFirst() }
            guard w.first == "src", let srcS = XfrmBlocks.value(after: "src", in: w), let dstS = XfrmBlocks.value(after: "dst", in: w),
                let src = IPPrefix(srcS), let dst = IPPrefix(dstS)
            else {
                if !head.hasPrefix("#") && !head.hasPrefix("$") {
                    diags.append(InputDiagnostic(file: file, line: n0, message: "not an ip xfrm policy line: '\(Redactor.excerpt(Substring(head)))'"))
                }
                continue
            }
            var dir: PolicyDirection?
            var action = "allow"
            var priority: UInt32?
            var templates: [XfrmTemplate] = []
            var pendingTmpl: (String, String)?
            for (_, line) in block.dropFirst() {
                let lw = XfrmBlocks.words(line)
                guard let first = lw.first else { continue }
                switch first {
                case "dir":
                    dir = PolicyDirection(rawValue: lw.count > 1 ? lw[1] : "")
                    if let a = XfrmBlocks.value(after: "action", in: lw) { action = a }
                    priority = XfrmBlocks.value(after: "priority", in: lw).flatMap { UInt32($0) }
                case "socket":
                    dir = PolicyDirection(rawValue: "socket " + (lw.count > 1 ? lw[1] : ""))
                case "tmpl":
                    pendingTmpl = (XfrmBlocks.value(after: "src", in: lw) ?? "0.0.0.0", XfrmBlocks.value(after: "dst", in: lw) ?? "0.0.0.0")
                case "proto":
                    // A truncated capture can end a template at `proto` with no value: no template then.
                    if let (ts, td) = pendingTmpl, lw.count > 1 {
                        templates.append(XfrmTemplate(
                            src: ts, dst: td, proto: lw[1],
                            reqid: XfrmBlocks.value(after: "reqid", in: lw).flatMap(XfrmBlocks.hexOrDec) ?? 0,
                            mode: XfrmBlocks.value(after: "mode", in: lw) ?? "tunnel",
                            spi: XfrmBlocks.value(after: "spi", in: lw).flatMap(XfrmBlocks.hexOrDec)))
                        pendingTmpl = nil
                    }
                default:
                    continue
                }
            }
            guard let dir else {
                diags.append(InputDiagnostic(file: file, line: n0, message: "policy without a 'dir' line"))
                continue
            }
            let srcLines = block.map { SourceLine(file: file, line: $0.0, text: Redactor.redact(Substring($0.1))) }
            out.append(XfrmPolicy(
                src: src, dst: dst, upperProto: XfrmBlocks.value(after: "proto", in: w), direction: dir, action: action,
                priority: priority, templates: templates, lines: srcLines))
        }
        return (out, diags)
    }
}

/// Parses `ip [-s] xfrm state`. Keys are never kept, and evidence lines are masked.
///
///     src 192.0.2.2 dst 192.0.2.1
///     	proto esp spi 0x00002001(8193) reqid 1(0x00000001) mode tunnel
///     	replay-window 32 seq 0x00000000 flag  (0x00000000)
///     	aead rfc4106(gcm(aes)) 0x0203...1415 (160 bits) 128
///     	lifetime current:
///     	  420(bytes), 5(packets)
///     	stats:
///     	  replay-window 0 replay 0 failed 0
public enum XfrmStateParser {
    public static func parse(_ document: RawDocument) -> ([XfrmState], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        return parse(lines: lines, file: document.name)
    }

    public static func parse(lines: [(Int, String)], file: String) -> ([XfrmState], [InputDiagnostic]) {
        var out: [XfrmState] = []
        var diags: [InputDiagnostic] = []
        for block in XfrmBlocks.blocks(lines) {
            guard let (n0, head) = block.first else { continue }
            var w = XfrmBlocks.words(head)
            while let f = w.first, ["Deleted", "Updated", "Expired"].contains(f) { w.removeFirst() }
            guard w.first == "src", let src = XfrmBlocks.value(after: "src", in: w), let dst = XfrmBlocks.value(after: "dst", in: w) else {
                if !head.hasPrefix("#") && !head.hasPrefix("$") {
                    diags.append(InputDiagnostic(file: file, line: n0, message: "not an ip xfrm state line: '\(Redactor.excerpt(Substring(head)))'"))
                }
                continue
            }
            var proto = "esp", spi: UInt32 = 0, reqid: UInt32 = 0, mode = "tunnel"
            var algs: [XfrmAlgorithm] = []
            var encap: String?
            var bytes: UInt64?, packets: UInt64?, failed: UInt64?
            var inCurrent = false, inStats = false, sawProto = false
            for (_, line) in block.dropFirst() {
                let lw = XfrmBlocks.words(line)
                guard let first = lw.first else { continue }
                if first == "lifetime" { inCurrent = lw.count > 1 && lw[1] == "current:"; inStats = false; continue }
                if first == "stats:" { inStats = true; inCurrent = false; continue }
                switch first {
                case "proto" where !sawProto:
                    sawProto = true
                    proto = lw.count > 1 ? lw[1] : "esp"
                    spi = XfrmBlocks.value(after: "spi", in: lw).flatMap(XfrmBlocks.hexOrDec) ?? 0
                    reqid = XfrmBlocks.value(after: "reqid", in: lw).flatMap(XfrmBlocks.hexOrDec) ?? 0
                    mode = XfrmBlocks.value(after: "mode", in: lw) ?? "tunnel"
                case "aead", "enc", "auth", "auth-trunc", "comp":
                    let name = lw.count > 1 ? lw[1] : "?"
                    // `aead NAME 0xKEY (160 bits) 128` / `auth-trunc NAME 0xKEY (256 bits) 128`: last number = icv/trunc bits
                    var bits: Int?
                    if first == "aead" || first == "auth-trunc", let last = lw.last, let b = Int(last) { bits = b }
                    algs.append(XfrmAlgorithm(kind: first, name: name, bits: bits))
                case "encap":
                    encap = XfrmBlocks.value(after: "type", in: lw)
                default:
                    if inCurrent, first.hasSuffix("(bytes),") {
                        bytes = UInt64(first.dropLast("(bytes),".count))
                        packets = lw.count > 1 ? UInt64(lw[1].replacingOccurrences(of: "(packets)", with: "")) : nil
                    } else if inStats, first == "replay-window" {
                        failed = XfrmBlocks.value(after: "failed", in: lw).flatMap { UInt64($0) }
                    }
                }
            }
            let srcLines = block.map { SourceLine(file: file, line: $0.0, text: Redactor.redact(Substring($0.1))) }
            out.append(XfrmState(
                src: src, dst: dst, proto: proto, spi: spi, reqid: reqid, mode: mode, algorithms: algs, encapType: encap,
                currentBytes: bytes, currentPackets: packets, integrityFailed: failed, lines: srcLines))
        }
        return (out, diags)
    }
}

/// Parses /proc/net/xfrm_stat, one or more samples, each optionally headed by `# <ISO-8601 time>`.
///
///     # 2026-11-23T11:01:14Z
///     XfrmInError             	0
///     XfrmInTmplMismatch      	3
///
/// Counters are read by name, never by position: the list grows with kernel versions.
public enum XfrmStatParser {
    public static func parse(_ document: RawDocument) -> ([XfrmStatSample], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        return parse(lines: lines, file: document.name)
    }

    public static func parse(lines: [(Int, String)], file: String) -> ([XfrmStatSample], [InputDiagnostic]) {
        var samples: [XfrmStatSample] = []
        var diags: [InputDiagnostic] = []
        var current: XfrmStatSample?
        for (n, line) in lines {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            if t.hasPrefix("#") || t.hasPrefix("$") {
                if let c = current, !c.counters.isEmpty { samples.append(c) }
                let time = t.dropFirst().trimmingCharacters(in: .whitespaces)
                current = XfrmStatSample(time: time.first?.isNumber == true ? time : nil, counters: [:], lines: [:])
                continue
            }
            let w = XfrmBlocks.words(t)
            guard w.count == 2, w[0].hasPrefix("Xfrm"), let v = UInt64(w[1]) else {
                diags.append(InputDiagnostic(file: file, line: n, message: "not an xfrm_stat counter line: '\(Redactor.excerpt(Substring(t)))'"))
                continue
            }
            if current == nil { current = XfrmStatSample(time: nil, counters: [:], lines: [:]) }
            // A counter seen again without a header starts a new sample (concatenated cat outputs).
            if current?.counters[w[0]] != nil, let c = current {
                samples.append(c)
                current = XfrmStatSample(time: nil, counters: [:], lines: [:])
            }
            current?.counters[w[0]] = v
            current?.lines[w[0]] = SourceLine(file: file, line: n, text: line)
        }
        if let c = current, !c.counters.isEmpty { samples.append(c) }
        return (samples, diags)
    }
}

/// Parses `ip [-t] xfrm monitor` for the SA each event names (the SPI/reqid trail of the field report).
///
///     src 192.0.2.2 dst 192.0.2.1
///     	proto esp spi 0x9ce4e77 reqid 16389 mode tunnel
public enum XfrmMonitorParser {
    public static func parse(_ document: RawDocument) -> ([XfrmMonitorEvent], [InputDiagnostic]) {
        let (lines, unreadable) = LineSource.lines(of: document)
        if let unreadable { return ([], [unreadable]) }
        var out: [XfrmMonitorEvent] = []
        for block in XfrmBlocks.blocks(lines) {
            guard let (n0, head) = block.first else { continue }
            let w = XfrmBlocks.words(head)
            var kind = "other"
            if head.hasPrefix("acquire") { kind = "acquire" }
            else if head.hasPrefix("Deleted") { kind = "delete" }
            else if head.hasPrefix("Expired") { kind = "expire" }
            else if w.contains("src") { kind = "sa" }
            var spi: UInt32?, reqid: UInt32?
            for (_, line) in block.dropFirst() {
                let lw = XfrmBlocks.words(line)
                if lw.first == "proto" {
                    spi = XfrmBlocks.value(after: "spi", in: lw).flatMap(XfrmBlocks.hexOrDec)
                    reqid = XfrmBlocks.value(after: "reqid", in: lw).flatMap(XfrmBlocks.hexOrDec)
                }
                if lw.first == "dir" { kind = kind == "sa" ? "policy" : kind }
            }
            out.append(XfrmMonitorEvent(
                kind: kind, src: XfrmBlocks.value(after: "src", in: w), dst: XfrmBlocks.value(after: "dst", in: w),
                spi: spi, reqid: reqid, source: SourceLine(file: document.name, line: n0, text: Redactor.redact(Substring(head)))))
        }
        return (out, [])
    }
}

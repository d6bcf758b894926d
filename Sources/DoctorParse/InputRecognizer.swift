import DoctorModel
import Foundation

/// Decides what a document is when its name does not say, and splits pasted
/// terminal sessions at their prompt lines (`# ip xfrm state`, `$ ipsec status`)
/// so each command's output is parsed by the right parser.
public enum InputRecognizer {
    /// The kind a command line produces (`ip -s xfrm state` -> .xfrmState).
    public static func kind(ofCommand cmd: String) -> InputKind? {
        let w = cmd.split(separator: " ").map(String.init).filter { !$0.hasPrefix("-") || $0 == "-j" }
        let s = " " + w.joined(separator: " ") + " "
        if s.contains(" ipsec ") || s.contains(" whack ") {
            if s.contains("trafficstatus") || s.contains(" traffic ") { return .trafficStatus }
            if s.contains(" status ") || s.contains("--status") || s.contains("showstates") || s.contains("briefstatus") { return .status }
            if s.contains(" up ") || s.contains("--up") || s.contains("--initiate") || s.contains(" start ") { return .ipsecUp }
        }
        if cmd.contains("--trafficstatus") { return .trafficStatus }
        if cmd.contains("--status") { return .status }
        if cmd.contains("--initiate") { return .ipsecUp }
        if s.contains(" xfrm ") {
            if s.contains(" monitor ") { return .xfrmMonitor }
            if s.contains(" policy ") || s.contains(" pol ") || s.contains(" po ") { return .xfrmPolicy }
            if s.contains(" state ") || s.contains(" sa ") || s.contains(" s ") { return .xfrmState }
        }
        if s.contains("xfrm_stat") { return .xfrmStat }
        if s.contains(" nft ") { return cmd.contains(" -j") ? .nftJSON : .nftRuleset }
        if s.contains("iptables-save") || s.contains("iptables-legacy-save") || s.contains("iptables-nft-save") { return .iptablesSave }
        if s.contains(" ip ") {
            if s.contains(" addr ") || s.contains(" a ") || s.contains(" address ") { return .ipAddr }
            if s.contains(" route ") || s.contains(" r ") { return .ipRoute }
            if s.contains(" link ") || s.contains(" l ") { return .ipLink }
        }
        if s.contains(" journalctl ") || s.contains("pluto.log") || s.contains(" tail ") { return .plutoLog }
        // NSS certificate tools: their command line and output tell how this end authenticates (the log
        // classifier reads them), so the prompt line goes with the section, as a ping's does.
        if s.contains(" certutil ") || s.contains(" pk12util ") || s.hasPrefix(" ipsec import ") { return .plutoLog }
        if s.contains(" ping ") || s.contains(" tracepath ") { return .ping }
        if s.contains("ipsec.conf") { return .ipsecConf }
        if s.contains("ipsec.secrets") { return .ipsecSecrets }
        return nil
    }

    static func isNSSTool(_ cmd: String) -> Bool {
        let s = " " + cmd + " "
        return s.contains(" certutil ") || s.contains(" pk12util ") || s.hasPrefix(" ipsec import ")
    }

    static let promptCommands: Set<String> = [
        "ipsec", "ip", "nft", "iptables-save", "iptables-legacy-save", "iptables-nft-save", "cat", "journalctl", "ping",
        "tracepath", "sudo", "whack", "tail", "grep", "less", "more", "head", "vi", "vim", "view", "nano", "sed", "awk",
        "zcat", "zless", "bat", "ping6", "tracepath6", "doas", "certutil", "pk12util",
    ]

    /// The command of a shell prompt line, else nil:
    ///
    ///     # ip -s xfrm state                 $ sudo ipsec status             root@gw:~# ip xfrm policy
    ///     gw:~ # cat /etc/ipsec.secrets      gw# less /etc/ipsec.conf       [root@gw ~]# ipsec trafficstatus
    ///
    /// The prompt is at most two short words ending in `#`, `$` or `>`; the command must be one that
    /// shows IPsec state or a file, so a config comment or a log line is not taken for a prompt.
    public static func promptCommand(_ line: String) -> String? {
        let t = Substring(line.trimmingCharacters(in: .whitespaces))
        var rest: Substring?
        if t.hasPrefix("# ") || t.hasPrefix("$ ") || t.hasPrefix("> ") {
            rest = t.dropFirst(2)
        } else {
            for sign in ["# ", "$ ", "> "] {
                guard let r = t.range(of: sign) else { continue }
                let prompt = t[..<r.upperBound].dropLast()
                if prompt.count <= 64, prompt.split(separator: " ").count <= 2, !prompt.contains("\"") {
                    rest = t[r.upperBound...]
                    break
                }
            }
        }
        guard let rest else { return nil }
        var words = rest.split(separator: " ").map(String.init)
        while let w = words.first, w == "sudo" || w == "doas" { words.removeFirst() }
        guard let first = words.first, promptCommands.contains(first) || first.hasSuffix("/ipsec") else { return nil }
        return words.joined(separator: " ")
    }

    /// A prompt alone on its line, the command on the next one, indented: how Libreswan's test suite
    /// transcripts (`testing/pluto/*/west.console.txt`) and some serial consoles show a session.
    ///
    ///     west #
    ///      ipsec auto --up westnet-eastnet-ikev2
    ///     "westnet-eastnet-ikev2" #1: initiating IKEv2 connection
    static func isBarePrompt(_ line: String) -> Bool {
        guard line.hasSuffix(" #") || line.hasSuffix(" $") || line == "#" else { return false }
        let host = line.dropLast(2)
        return host.count <= 64 && !host.contains(" ") && !host.contains("\"")
    }

    /// Section boundaries of a pasted session: (index of the boundary line, the command, lines the boundary takes).
    /// A bare prompt is a boundary even when its command is unknown (`echo done`): its output is not the last one's.
    static func boundaries(_ lines: [(Int, String)]) -> [(index: Int, command: String?, width: Int)] {
        var out: [(index: Int, command: String?, width: Int)] = []
        var i = 0
        while i < lines.count {
            let line = lines[i].1
            if isBarePrompt(line) {
                if i + 1 < lines.count, lines[i + 1].1.hasPrefix(" "), !isBarePrompt(lines[i + 1].1) {
                    out.append((i, promptCommand("# " + lines[i + 1].1.trimmingCharacters(in: .whitespaces)), 2))
                    i += 2
                    continue
                }
                out.append((i, nil, 1))
            } else if let cmd = promptCommand(line) {
                out.append((i, cmd, 1))
            }
            i += 1
        }
        return out
    }

    /// Guesses the kind from content (the first lines).
    public static func sniff(_ lines: ArraySlice<(Int, String)>) -> InputKind? {
        var score: [InputKind: Int] = [:]
        let classifier = PlutoLogClassifier()
        for (_, l) in lines.prefix(300) {
            let t = l.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("{\"nftables\"") || t.hasPrefix("{ \"nftables\"") { return .nftJSON }
            if t.hasPrefix("Xfrm"), t.split(whereSeparator: { $0 == " " || $0 == "\t" }).count == 2 { score[.xfrmStat, default: 0] += 3 }
            if l.hasPrefix("\tproto ") && l.contains(" spi ") { score[.xfrmState, default: 0] += 5 }
            if l.hasPrefix("\tdir ") || l.hasPrefix("\tsocket ") { score[.xfrmPolicy, default: 0] += 5 }
            if t.hasPrefix("acquire proto") || t.hasPrefix("Async event") || t.hasPrefix("Deleted src") || t.hasPrefix("Flushed ") { score[.xfrmMonitor, default: 0] += 10 }
            if t.hasPrefix("table ip") || t.hasPrefix("table inet") || t.hasPrefix("table ip6") { score[.nftRuleset, default: 0] += 10 }
            if t == "*nat" || t == "*filter" || t.hasPrefix(":POSTROUTING") || t.hasPrefix("-A POSTROUTING") { score[.iptablesSave, default: 0] += 10 }
            if t.contains("type=ESP") && t.contains("inBytes=") { score[.trafficStatus, default: 0] += 10 }
            if t.contains("Pluto is not running") { score[.status, default: 0] += 10 }
            if t.contains("using kernel interface") || t.contains("Total IPsec connections") || t.contains("IKE SAs: total") { score[.status, default: 0] += 10 }
            if t.hasPrefix("PING ") || t.contains("packets transmitted") || t.contains(" pmtu ") { score[.ping, default: 0] += 5 }
            if t == "config setup" || (t.hasPrefix("conn ") && !t.contains(":")) { score[.ipsecConf, default: 0] += 10 }
            if l.hasPrefix("    ") || l.hasPrefix("\t"), t.contains("="), !t.contains(" ") { score[.ipsecConf, default: 0] += 1 }
            if t.contains(": PSK ") || t.contains(": RSA") || t.hasPrefix(": PSK") || t.contains(": XAUTH ") { score[.ipsecSecrets, default: 0] += 10 }
            if t.first?.isNumber == true, t.contains(": <"), t.contains(" mtu ") { score[.ipLink, default: 0] += 2 }
            if t.hasPrefix("inet ") || t.hasPrefix("inet6 ") { score[.ipAddr, default: 0] += 3 }
            if t.hasPrefix("default via ") || (t.first?.isNumber == true && t.contains("/") && (t.contains(" dev ") || t.contains(" via ")) && !t.contains(": <")) {
                score[.ipRoute, default: 0] += 3
            }
            if t.contains("pluto[") || t.contains("Starting Pluto") { score[.plutoLog, default: 0] += 5 }
            let msg = LogPrefix.strip(Substring(t))
            if msg.hasPrefix("\"") && msg.contains("\" #") { score[.plutoLog, default: 0] += 2 }
            // A pasted fragment (one line, no name, no timestamp) is a log when pluto's own words are in it.
            if classifier.kind(of: LowerBytes(msg)) != nil || msg.contains("STATE_MAIN_") || msg.contains("STATE_QUICK_")
                || msg.contains("IKE_SA_INIT") || msg.contains("STATE_PARENT_") || msg.contains("STATE_V2_")
                || msg.hasPrefix("NSS: ") || (msg.hasPrefix("testing ") && msg.hasSuffix(":"))  // pluto's start-up self-test
            {
                score[.plutoLog, default: 0] += 3
            }
        }
        // ip addr output is an ip link output with inet lines.
        if let a = score[.ipAddr], a > 0 { score[.ipLink] = nil }
        return score.max { $0.value < $1.value }.map(\.key)
    }

    /// Resolves a document into one or more typed documents.
    public static func resolve(_ doc: RawDocument) -> ([RawDocument], [InputDiagnostic]) {
        if let kind = doc.kind, kind != .ipsecUp { return ([doc], []) }
        // Logs can be huge: sniff only the head, never split them.
        var head: [(Int, String)] = []
        do {
            try LineSource(doc).forEach { n, s in
                head.append((n, String(s)))
                return head.count < 400
            }
        } catch {
            return ([], [InputDiagnostic(file: doc.name, line: nil, message: "\(error)")])
        }
        let bare = head.contains { isBarePrompt($0.1) }
        let prompts = bare ? boundaries(head).map { head[$0.index] } : head.filter { promptCommand($0.1) != nil }
        let looksLikeLog = sniff(head[...]) == .plutoLog && prompts.count <= 1
        if doc.kind == .ipsecUp || looksLikeLog || prompts.isEmpty {
            if doc.kind != nil { return ([doc], []) }
            if let kind = sniff(head[...]) { return ([RawDocument(name: doc.name, content: doc.content, kind: kind, firstLine: doc.firstLine)], []) }
            return ([], [InputDiagnostic(file: doc.name, line: nil, message: "not recognised as any supported input; skipped")])
        }
        // A pasted session: split at prompts (whole file, it is small). The sections keep the raw text (a
        // secrets section must still be fingerprinted); whoever reads them reads through LineSource again.
        guard let all = try? LineSource(doc).allRawLines() else { return ([], []) }
        var out: [RawDocument] = []
        var diags: [InputDiagnostic] = []
        var sectionStart = 0
        var sectionCommand: String?
        var bareSession = false
        func flush(upTo end: Int) {
            let output = all[sectionStart..<end]
            // An NSS tool's command says something even when it printed nothing (`certutil -D -n east`).
            let nss = sectionCommand.map(Self.isNSSTool) == true && sectionStart > 0
            guard nss || (!output.isEmpty && output.contains(where: { !$0.1.trimmingCharacters(in: .whitespaces).isEmpty })) else { return }
            let kind = sectionCommand.flatMap(kind(ofCommand:)) ?? sniff(output)
            guard let kind else {
                // A transcript's `echo done` or helper-script output is not worth a warning each.
                if bareSession && output.count <= 3 { return }
                diags.append(InputDiagnostic(file: doc.name, line: output.first?.0, message: "section not recognised (\(sectionCommand.map { Redactor.redact(Substring($0)) } ?? "no command")); skipped"))
                return
            }
            // A ping's flags (`-M do -s 1400`) are on its prompt line: the ping parser needs that line too.
            let withPrompt = kind == .ping || nss
            let slice = withPrompt && sectionCommand != nil && sectionStart > 0 ? all[(sectionStart - 1)..<end] : output
            let text = slice.map(\.1).joined(separator: "\n")
            out.append(RawDocument(name: doc.name, content: .text(text), kind: kind, firstLine: slice.first?.0 ?? 1))
        }
        bareSession = all.contains { isBarePrompt($0.1) }
        if bareSession {
            for b in boundaries(all) {
                flush(upTo: b.index)
                sectionStart = b.index + b.width
                sectionCommand = b.command
            }
        } else {
            for (i, (_, line)) in all.enumerated() {
                if let cmd = promptCommand(line) {
                    flush(upTo: i)
                    sectionStart = i + 1
                    sectionCommand = cmd
                }
            }
        }
        flush(upTo: all.count)
        return (out, diags)
    }
}

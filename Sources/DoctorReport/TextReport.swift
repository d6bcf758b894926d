import DoctorModel

/// The report for people: root cause first, evidence compiler-style, the fix as lines to paste.
public struct TextReport {
    public var color: Bool
    /// List every input read (`-v`); by default only their number.
    public var verbose: Bool
    /// Prose is wrapped to this many columns (the terminal's width; 110 when not a terminal).
    public var width: Int

    public init(color: Bool, verbose: Bool = false, width: Int = 110) {
        self.color = color
        self.verbose = verbose
        self.width = max(40, width)
    }

    func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    func bold(_ s: String) -> String { paint(s, "1") }
    func sev(_ s: Severity) -> String {
        switch s {
        case .error: paint("error", "1;31")
        case .warning: paint("warning", "1;33")
        case .info: paint("info", "1;36")
        }
    }

    /// Escapes control characters except colour codes (`ESC [ digits ; m`), which only change colours.
    static func keepingColours(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let esc = rest.firstIndex(of: "\u{1B}") {
            out += String(rest[..<esc]).escapingControlCharacters
            let after = rest[rest.index(after: esc)...]
            let params = after.dropFirst().prefix { $0.isNumber || $0 == ";" }
            if after.first == "[", params.endIndex < after.endIndex, after[params.endIndex] == "m" {
                out += "\u{1B}[" + params + "m"
                rest = after[after.index(after: params.endIndex)...]
            } else {
                out += "\\x1B"
                rest = after
            }
        }
        return out + String(rest).escapingControlCharacters
    }

    /// The answer first: the first line is the lead finding, compiler style (`error[psk-mismatch]
    /// "office": ...`), or the verdict; what was diagnosed and from what comes at the end.
    public func render(_ d: Diagnosis) -> String {
        var out: [String] = []
        if d.libreswanMissing {
            out.append(bold("Libreswan is not installed on this machine: there is no IPsec to diagnose here. Give captured outputs as PATH."))
        } else if d.findings.isEmpty && d.exitStatus == .couldNotDiagnose {
            // Never "healthy" on no evidence: say what is missing instead.
            let names = d.unconfirmed.prefix(5).map { "\"\($0)\"" }.joined(separator: ", ")
            let why = d.inputs.isEmpty ? "nothing usable was read"
                : d.skipped.contains(where: { $0.input.hasPrefix("ipsec whack") || $0.input.hasPrefix("ip -s xfrm") }) ? "the IKE daemon's or the kernel's state could not be read (see Not collected)"
                : "nothing wrong was found in what was read, but nothing shows \(names) established: add `ipsec trafficstatus` and the pluto log (or the `ipsec up` output)"
            out.append(bold("Could not diagnose: \(why)."))
        } else if d.findings.isEmpty {
            out.append(paint("No problems found.", "32"))
        }
        if d.findings.isEmpty { out.append("") }
        for (i, f) in d.findings.enumerated() {
            out += renderFinding(f, index: i, lead: i == 0 || d.findings[i - 1].connection != f.connection)
        }
        if !d.skipped.isEmpty {
            out.append(bold("Not collected:"))
            for s in d.skipped { out.append("  - \(s.input): \(s.reason)") }
            out.append("")
        }
        if !d.notChecked.isEmpty {
            // One line per missing input, the checks it would have allowed after it.
            out.append(bold("Not checked (no input for them):"))
            var byNeed: [String: [String]] = [:], order: [String] = []
            for n in d.notChecked {
                let need = n.missing.joined(separator: "; ") + (n.because.map { " (not collected: " + $0.joined(separator: "; ") + ")" } ?? "")
                if byNeed[need] == nil { order.append(need) }
                byNeed[need, default: []].append(n.code.rawValue)
            }
            for need in order { out += wrap("- " + (byNeed[need] ?? []).joined(separator: ", ") + ": needs " + need, indent: "  ", then: "    ") }
            out.append("")
        }
        if !d.diagnostics.isEmpty {
            out.append(bold("Input warnings:"))
            for w in d.diagnostics.prefix(20) { out.append("  " + w.formatted) }
            if d.diagnostics.count > 20 { out.append("  ... and \(d.diagnostics.count - 20) more") }
            out.append("")
        }
        var header = "diagnosed \(d.local)"
        if let p = d.peer { header += " (peer: \(p))" }
        if let v = d.libreswanVersion { header += " — \(v)" }
        out.append(bold(header) + ": " + (d.inputs.isEmpty ? "nothing usable was read" : verbose || d.inputs.count <= 3
            ? "read \(d.inputs.count) input(s): " + Set(d.inputs.values.map(\.rawValue)).sorted().joined(separator: ", ")
            : "read \(d.inputs.count) inputs (-v lists them)"))
        for c in d.connections {
            let status = c.status == "up" ? paint("up", "32") : c.status == "down" ? paint("down", "31") : c.status
            out.append("  connection \"\(c.name)\": \(status)" + (c.rootCause.map { ", root cause: \($0)" } ?? ""))
        }
        let errors = d.findings.filter { $0.severity == .error }.count
        let warnings = d.findings.filter { $0.severity == .warning }.count
        out.append("\(errors) error(s), \(warnings) warning(s); exit status \(d.exitStatus.rawValue)")
        // Last line of defence: whatever a capture smuggled into a field cannot act on the terminal; the
        // report's own colours are put back.
        let text = out.joined(separator: "\n")
        return color ? Self.keepingColours(text) : text.escapingControlCharacters
    }

    func renderFinding(_ f: Finding, index: Int, lead: Bool) -> [String] {
        var out: [String] = []
        // Compiler style: `error[psk-mismatch] "office": title`. Other findings of the same connection are
        // rival causes; say so, since the first one is the root cause.
        let conn = f.connection.map { "\"\($0)\": " } ?? ""
        out.append("\(sev(f.severity))[\(f.code)] \(conn)\(bold(f.title))" + (lead ? "" : paint("  (another cause)", "2")))
        // An ambiguous finding leads with the ambiguity and the checks that decide it, before any fix.
        if let cands = f.candidates, !cands.isEmpty {
            out.append("  " + bold("ambiguous:") + " the evidence fits \(cands.count) causes; decide before fixing:")
            for c in cands { out.append(contentsOf: wrap("- \(c.code)\(c.cause.map { " (\($0))" } ?? ""): \(c.decidedBy)", indent: "    ", then: "      ")) }
        }
        out.append(contentsOf: wrap(f.explanation, indent: "  "))
        if !f.evidence.isEmpty {
            out.append("  " + bold("evidence:"))
            for e in f.evidence { out.append("    " + paint("\(e.file):\(e.line):", "2") + " " + e.text.trimmingLeadingSpace()) }
        }
        out.append(contentsOf: wrap(bold("fix:") + " " + f.remedy.summary, indent: "  ", then: "       ", escapes: bold("fix:").count - "fix:".count))
        for (n, s) in f.remedy.steps.enumerated() {
            let end = switch s.end {
            case .local: "[this end]"
            case .peer: "[peer]"
            case .both: "[both ends]"
            }
            switch s.kind {
            case .config:
                var where_ = s.file.map { " in \($0)" } ?? ""
                if let c = s.connection { where_ += c == "config setup" ? " (config setup)" : " (conn \(c))" }
                out.append(contentsOf: wrap("\(n + 1). \(end) \(s.summary)\(where_):", indent: "    ", then: "         "))
                for r in s.remove { out.append("         " + paint("- \(r)", "31")) }
                for a in s.add { out.append("         " + paint("+ \(a)", "32")) }
            case .command, .check:
                out.append(contentsOf: wrap("\(n + 1). \(end) \(s.summary):", indent: "    ", then: "         "))
                if let c = s.command { out.append("         $ " + c) }
            }
        }
        if !f.symptoms.isEmpty {
            out.append("  " + bold("follows from it:"))
            for s in f.symptoms {
                out.append("    - \(s.severity.rawValue)[\(s.code)] \(s.title)")
                for e in s.evidence.prefix(2) { out.append("        " + paint("\(e.file):\(e.line):", "2") + " " + e.text.trimmingLeadingSpace()) }
            }
        }
        out.append("")
        return out
    }

    /// Prose in lines of at most `width` columns: the first after `indent`, the rest after `then` (a hanging
    /// indent for numbered steps). Commands and config lines are never wrapped: they must paste as they are.
    /// `escapes` counts the characters of colour codes in the text, which take no column.
    func wrap(_ text: String, indent: String, then: String? = nil, escapes: Int = 0) -> [String] {
        let rest = then ?? indent
        var lines: [String] = []
        var current = indent, hidden = escapes, lead = indent.count
        for word in text.split(separator: " ") {
            if current.count - hidden + word.count + 1 > width && current.count > lead {
                lines.append(current)
                current = rest
                hidden = 0
                lead = rest.count
            }
            current += (current.count > lead ? " " : "") + word
        }
        if current.count > lead { lines.append(current) }
        return lines
    }
}

extension String {
    func trimmingLeadingSpace() -> String { String(drop(while: { $0 == " " || $0 == "\t" })) }
}

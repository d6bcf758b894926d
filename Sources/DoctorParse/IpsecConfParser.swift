import DoctorModel
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Parses Libreswan's ipsec.conf, following `include` (with globs, relative to
/// the including file), applying `conn %default` and `also=`.
///
/// Input (a real lab file, scripts/lab):
///
///     config setup
///         ikev1-policy=accept
///
///     conn westnet-eastnet
///         left=192.0.2.1
///         leftid=@west
///         leftsubnet=10.1.0.0/24
///         leftsubnets={10.1.0.0/24,10.1.1.0/24}   # several Child SAs
///         authby=secret
///
/// Section bodies are indented; `#` starts a comment outside quotes; a line
/// ending in `\` continues on the next. A line that is neither a section
/// header nor `key=value` becomes a diagnostic, and parsing goes on.
public struct IpsecConfParser {
    struct RawSection {
        var kind: String  // "config", "conn", "ca"
        var name: String
        var header: SourceLine
        var values: [(String, ConfigValue)] = []
    }

    public private(set) var diagnostics: [InputDiagnostic] = []
    var sections: [RawSection] = []
    var files: [String] = []
    var visited: Set<String> = []
    /// Maps a real path to the name used in evidence (the snapshot path as given).
    let displayName: (String) -> String

    public init(displayName: @escaping (String) -> String = { $0 }) {
        self.displayName = displayName
    }

    /// Where `include` may read. A capture's includes resolve inside the directory of its top ipsec.conf,
    /// never on the analyst's machine (`include /etc/ipsec.d/*.conf` means the capture's `ipsec.d/`); pasted
    /// text has no directory, so its includes are not followed; live, the gateway's own paths are the truth.
    enum IncludeScope { case host, capture(root: String), none }
    var includeScope = IncludeScope.host

    /// Parses `document` and the files it includes.
    public static func parse(_ document: RawDocument, localAddresses: [IPPrefix] = [], confined: Bool = false) -> (IpsecConfig, [InputDiagnostic]) {
        var p = IpsecConfParser()
        if confined {
            p.includeScope = Self.baseDir(of: document).map { .capture(root: Self.realPath($0) ?? $0) } ?? .none
        }
        p.read(document, baseDir: Self.baseDir(of: document), depth: 0)
        return (p.build(localAddresses: localAddresses), p.diagnostics)
    }

    static func baseDir(of doc: RawDocument) -> String? {
        if case .file(let path) = doc.content { return (path as NSString).deletingLastPathComponent }
        return nil
    }

    mutating func read(_ document: RawDocument, baseDir: String?, depth: Int) {
        guard depth < 10 else {
            diagnostics.append(InputDiagnostic(file: document.name, line: nil, message: "include nesting deeper than 10; stopped"))
            return
        }
        if case .file(let path) = document.content {
            let real = (path as NSString).standardizingPath
            if visited.contains(real) { return }
            visited.insert(real)
        }
        files.append(document.name)
        let lines: [(Int, String)]
        do { lines = try LineSource(document).allLines() } catch {
            diagnostics.append(InputDiagnostic(file: document.name, line: nil, message: "\(error)"))
            return
        }
        var current: Int? = nil
        var pending = ""
        var pendingLine = 0
        for (n, rawLine) in lines {
            var text = rawLine
            if !pending.isEmpty { text = pending + text.drop(while: { $0 == " " || $0 == "\t" }) }
            if text.hasSuffix("\\") {
                if pending.isEmpty { pendingLine = n }
                pending = String(text.dropLast())
                continue
            }
            let lineNo = pending.isEmpty ? n : pendingLine
            pending = ""
            let stripped = Self.stripComment(text)
            let trimmed = stripped.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let source = SourceLine(file: document.name, line: lineNo, text: Redactor.redact(Substring(rawLine)))
            let indented = text.first == " " || text.first == "\t"
            if !indented {
                let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                switch words.first {
                case "config" where words.count == 2 && words[1] == "setup":
                    sections.append(RawSection(kind: "config", name: "setup", header: source))
                    current = sections.count - 1
                    continue
                case "conn" where words.count == 2, "ca" where words.count == 2:
                    sections.append(RawSection(kind: words[0], name: words[1], header: source))
                    current = sections.count - 1
                    continue
                case "include" where words.count >= 2:
                    current = nil
                    include(words[1], from: document, baseDir: baseDir, line: lineNo, depth: depth)
                    continue
                case "version":
                    continue
                default:
                    break
                }
            }
            guard let eq = trimmed.firstIndex(of: "=") else {
                diagnostics.append(InputDiagnostic(file: document.name, line: lineNo, message: "cannot parse '\(Redactor.excerpt(Substring(trimmed)))': expected key=value"))
                continue
            }
            guard let idx = current else {
                // Only the key: a value outside any section may be anything, a secret pasted in the wrong file too.
                let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces).prefix(40)
                diagnostics.append(InputDiagnostic(file: document.name, line: lineNo, message: "'\(key)=...' is outside any conn or config setup section"))
                continue
            }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
            sections[idx].values.append((key, ConfigValue(value: value, source: source)))
        }
    }

    /// `include /etc/ipsec.d/*.conf`
    mutating func include(_ pattern: String, from doc: RawDocument, baseDir: String?, line: Int, depth: Int) {
        var matches: [String]
        switch includeScope {
        case .none:
            diagnostics.append(InputDiagnostic(file: doc.name, line: line, message: "include \(pattern): not followed (pasted text; give the capture directory instead)"))
            return
        case .capture(let root):
            // /etc/ipsec.d/x.conf -> ROOT/ipsec.d/x.conf; /elsewhere/x -> ROOT/elsewhere/x; relative as usual.
            let inside: String
            if pattern.hasPrefix("/") {
                let rel = pattern.hasPrefix("/etc/") ? String(pattern.dropFirst("/etc/".count)) : String(pattern.dropFirst())
                inside = (root as NSString).appendingPathComponent(rel)
            } else {
                inside = ((baseDir ?? root) as NSString).appendingPathComponent(pattern)
            }
            matches = []
            for path in Self.glob(inside) {
                guard let real = Self.realPath(path), real == root || real.hasPrefix(root + "/") else {
                    diagnostics.append(InputDiagnostic(file: doc.name, line: line, message: "include \(pattern): \(path) leads out of the capture; not read"))
                    continue
                }
                matches.append(path)
            }
        case .host:
            let absolute = pattern.hasPrefix("/") ? pattern : ((baseDir ?? ".") as NSString).appendingPathComponent(pattern)
            matches = Self.glob(absolute)
        }
        if matches.isEmpty && !pattern.contains("*") {
            diagnostics.append(InputDiagnostic(file: doc.name, line: line, message: { if case .host = includeScope { return true } else { return false } }()
                ? "include \(pattern): no such file" : "include \(pattern): not in the capture (includes of a capture resolve inside it)"))
        }
        for path in matches {
            guard Self.isRegularFile(path) else {
                diagnostics.append(InputDiagnostic(file: doc.name, line: line, message: "include \(pattern): \(path) is not a regular file; not read"))
                continue
            }
            read(RawDocument(name: path, content: .file(path: path), kind: .ipsecConf),
                 baseDir: (path as NSString).deletingLastPathComponent, depth: depth + 1)
        }
    }

    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    static func isRegularFile(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    /// Removes a `#` comment that is not inside quotes.
    static func stripComment(_ s: String) -> String {
        var inQuote = false
        for (i, c) in s.enumerated() {
            if c == "\"" { inQuote.toggle() }
            if c == "#" && !inQuote { return String(s.prefix(i)) }
        }
        return s
    }

    /// Applies %default and also= and orients each connection.
    func build(localAddresses: [IPPrefix]) -> IpsecConfig {
        var setup: [String: ConfigValue] = [:]
        var byName: [String: RawSection] = [:]
        var order: [String] = []
        for s in sections {
            if s.kind == "config" {
                for (k, v) in s.values { setup[k] = v }
            } else if s.kind == "conn" {
                if byName[s.name] == nil { order.append(s.name) }
                byName[s.name] = s
            }
        }
        let defaults = byName["%default"]
        var expansion = AlsoExpansion(byName: byName)
        var conns: [ConnectionConfig] = []
        for name in order where name != "%default" {
            guard let sec = byName[name] else { continue }
            var values: [String: ConfigValue] = [:]
            for (k, v) in defaults?.values ?? [] { values[k] = v }
            // also= sections are applied first (depth first, each once), the connection's own keys win.
            for (k, v) in expansion.expanded(name) { values[k] = v }
            if values["auto"]?.value == "ignore" && name.hasPrefix("%") { continue }
            var conn = ConnectionConfig(name: name, header: sec.header, values: values)
            conn.localIsLeft = Self.orient(values, localAddresses: localAddresses)
            conns.append(conn)
        }
        return IpsecConfig(setup: setup, connections: conns, files: files)
    }

    /// `also=` expansion without recursion (a chain can be thousands deep) and with each section expanded
    /// once (linear in the configuration's size); a cycle is cut where it closes.
    struct AlsoExpansion {
        let byName: [String: RawSection]
        var memo: [String: [String: ConfigValue]] = [:]

        init(byName: [String: RawSection]) { self.byName = byName }

        static func targets(_ s: RawSection) -> [String] {
            s.values.filter { $0.0 == "also" }.flatMap { $0.1.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
        }

        /// The keys of section `name` with its also= sections applied under them. A section whose expansion
        /// cut a cycle is remembered only for this call: from another start the cycle closes elsewhere.
        mutating func expanded(_ name: String) -> [String: ConfigValue] {
            if let m = memo[name] { return m }
            guard let root = byName[name] else { return [:] }
            var local: [String: [String: ConfigValue]] = [:]
            var inProgress: Set<String> = [name]
            var stack: [(name: String, targets: [String], next: Int, cut: Bool)] = [(name, Self.targets(root), 0, false)]
            while let top = stack.last {
                if top.next < top.targets.count {
                    stack[stack.count - 1].next += 1
                    let t = top.targets[top.next]
                    if inProgress.contains(t) {
                        stack[stack.count - 1].cut = true
                    } else if memo[t] == nil, local[t] == nil, let sec = byName[t] {
                        inProgress.insert(t)
                        stack.append((t, Self.targets(sec), 0, false))
                    }
                    continue
                }
                var values: [String: ConfigValue] = [:]
                for t in top.targets where t != top.name { for (k, v) in memo[t] ?? local[t] ?? [:] { values[k] = v } }
                for (k, v) in byName[top.name]?.values ?? [] where k != "also" { values[k] = v }
                if top.cut { local[top.name] = values } else { memo[top.name] = values }
                inProgress.remove(top.name)
                stack.removeLast()
                if top.cut, !stack.isEmpty { stack[stack.count - 1].cut = true }
            }
            return memo[name] ?? local[name] ?? [:]
        }
    }

    /// Left is local unless right's address (not left's) is one of ours.
    static func orient(_ values: [String: ConfigValue], localAddresses: [IPPrefix]) -> Bool {
        func isLocal(_ key: String) -> Bool {
            guard let v = values[key]?.value, let p = IPPrefix(v) else { return false }
            return localAddresses.contains { $0.bytes == p.bytes }
        }
        if isLocal("left") { return true }
        if isLocal("right") { return false }
        return true
    }
}

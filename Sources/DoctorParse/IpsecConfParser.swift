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

    /// Parses `document` and the files it includes.
    public static func parse(_ document: RawDocument, localAddresses: [IPPrefix] = []) -> (IpsecConfig, [InputDiagnostic]) {
        var p = IpsecConfParser()
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
                diagnostics.append(InputDiagnostic(file: document.name, line: lineNo, message: "cannot parse '\(Redactor.redact(Substring(trimmed)))': expected key=value"))
                continue
            }
            guard let idx = current else {
                diagnostics.append(InputDiagnostic(file: document.name, line: lineNo, message: "'\(trimmed)' is outside any conn or config setup section"))
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
        let absolute = pattern.hasPrefix("/") ? pattern : ((baseDir ?? ".") as NSString).appendingPathComponent(pattern)
        var matches = Self.glob(absolute)
        // A snapshot keeps ipsec.d/ beside ipsec.conf: map /etc/ipsec.d/... there when the absolute path is absent.
        if matches.isEmpty, pattern.hasPrefix("/etc/"), let baseDir {
            let rel = String(pattern.dropFirst("/etc/".count))
            matches = Self.glob((baseDir as NSString).appendingPathComponent(rel))
        }
        if matches.isEmpty && !pattern.contains("*") {
            diagnostics.append(InputDiagnostic(file: doc.name, line: line, message: "include \(pattern): no such file"))
        }
        for path in matches {
            read(RawDocument(name: path, content: .file(path: path), kind: .ipsecConf),
                 baseDir: (path as NSString).deletingLastPathComponent, depth: depth + 1)
        }
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
        var conns: [ConnectionConfig] = []
        for name in order where name != "%default" {
            guard let sec = byName[name] else { continue }
            var values: [String: ConfigValue] = [:]
            for (k, v) in defaults?.values ?? [] { values[k] = v }
            // also= sections are applied first, the connection's own keys win.
            var seen: Set<String> = [name]
            func applyAlso(_ s: RawSection) {
                for (k, v) in s.values where k == "also" {
                    for target in v.value.split(separator: " ").map(String.init) where !seen.contains(target) {
                        seen.insert(target)
                        if let t = byName[target] {
                            applyAlso(t)
                            for (k2, v2) in t.values where k2 != "also" { values[k2] = v2 }
                        }
                    }
                }
            }
            applyAlso(sec)
            for (k, v) in sec.values where k != "also" { values[k] = v }
            if values["auto"]?.value == "ignore" && name.hasPrefix("%") { continue }
            var conn = ConnectionConfig(name: name, header: sec.header, values: values)
            conn.localIsLeft = Self.orient(values, localAddresses: localAddresses)
            conns.append(conn)
        }
        return IpsecConfig(setup: setup, connections: conns, files: files)
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

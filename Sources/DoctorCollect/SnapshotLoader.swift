import DoctorModel
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Reads captured outputs: a snapshot directory (the documented layout), or
/// individual files of any name (recognised later by content).
public enum SnapshotLoader {
    /// The snapshot layout's file names and what they hold.
    public static let knownNames: [String: InputKind] = [
        "ipsec.conf": .ipsecConf, "ipsec.secrets": .ipsecSecrets, "ipsec-up.txt": .ipsecUp,
        "ipsec-trafficstatus.txt": .trafficStatus, "ipsec-status.txt": .status,
        "ip-xfrm-policy.txt": .xfrmPolicy, "ip-xfrm-state.txt": .xfrmState, "xfrm_stat.txt": .xfrmStat,
        "ip-xfrm-monitor.txt": .xfrmMonitor, "nft-ruleset.txt": .nftRuleset, "nft-ruleset.json": .nftJSON,
        "iptables-save.txt": .iptablesSave, "ip-addr.txt": .ipAddr, "ip-route.txt": .ipRoute,
        "ip-link.txt": .ipLink, "pluto.log": .plutoLog, "journal.txt": .plutoLog, "ping.txt": .ping,
        "meta.json": .meta,
    ]

    /// Loads PATHs (directories or files) into raw documents. A missing path is a diagnostic, not a crash.
    public static func load(paths: [String], label: String? = nil) -> CollectedInputs {
        var result = CollectedInputs(label: label ?? defaultLabel(paths))
        let fm = FileManager.default
        var readStdin = false
        for path in paths {
            if path == "-" || path == "/dev/stdin" {
                // Read once: a second `-` would find stdin at its end and look like an empty capture.
                if readStdin {
                    result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "standard input is given twice; read once"))
                } else {
                    loadStandardInput(into: &result)
                }
                readStdin = true
                continue
            }
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "no such file or directory"))
                continue
            }
            if let real = realPath(path), real == "/proc" || real == "/sys" || real.hasPrefix("/proc/") || real.hasPrefix("/sys/") {
                // Kernel files are not captures: live mode reads the few it needs, these never.
                result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "a /proc or /sys path is not a capture; not read (live mode, without PATH, reads what it needs)"))
            } else if isDir.boolValue {
                loadDirectory(path, into: &result)
            } else if !isRegularFile(path) {
                result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "not a regular file (a FIFO, device or socket); not read"))
            } else if fm.isReadableFile(atPath: path) {
                let base = (path as NSString).lastPathComponent
                result.documents.append(RawDocument(name: path, content: .file(path: path), kind: knownNames[base]))
            } else {
                result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "permission denied"))
            }
        }
        return result
    }

    /// A rotated log's kind: `pluto.log.1`, `journal.txt.2` (logrotate's numbering) or `pluto.log-20261201`.
    static func rotatedLog(_ name: String) -> InputKind? {
        for base in ["pluto.log", "journal.txt"] where name.hasPrefix(base + ".") || name.hasPrefix(base + "-") {
            let suffix = name.dropFirst(base.count + 1)
            if !suffix.isEmpty && suffix.allSatisfy(\.isNumber) { return .plutoLog }
        }
        return nil
    }

    /// The tool that decompresses a compressed capture file (`pluto.log.2.gz` -> gunzip), else nil.
    static func compressedBy(_ name: String) -> String? {
        if name.hasSuffix(".gz") { return "gunzip" }
        if name.hasSuffix(".xz") { return "unxz" }
        if name.hasSuffix(".bz2") { return "bunzip2" }
        if name.hasSuffix(".zst") { return "unzstd" }
        return nil
    }

    /// The most read from standard input (256 MiB, the structured-input bound); a longer stream is cut and
    /// the cut stated. A pipe cannot be read twice, so the text is kept in memory; for more, give a file.
    public static let maxStandardInputBytes = 256 << 20
    /// The name standard input has in evidence (`stdin:12`).
    public static let standardInputName = "stdin"

    /// Reads all of standard input (a paste, `journalctl ... |`, a file redirected with `<`) as one document
    /// recognised by content: a pasted session is split into its sections like a file.
    static func loadStandardInput(into result: inout CollectedInputs, fd: Int32 = STDIN_FILENO) {
        if isatty(fd) == 1 {
            FileHandle.standardError.write(Data("ipsec-doctor: reading standard input; end it with Ctrl-D\n".utf8))
        }
        var bytes: [UInt8] = []
        var cut = false
        let chunk = 1 << 16
        var block = [UInt8](repeating: 0, count: chunk)
        while true {
            let got = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunk) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 {
                result.diagnostics.append(InputDiagnostic(file: standardInputName, line: nil, message: "cannot read standard input: \(String(cString: strerror(errno)))"))
                return
            }
            if got == 0 { break }
            let room = maxStandardInputBytes - bytes.count
            bytes.append(contentsOf: block[0..<min(got, room)])
            if got > room {
                cut = true
                break
            }
        }
        if cut {
            result.diagnostics.append(InputDiagnostic(file: standardInputName, line: nil, message: "more than \(maxStandardInputBytes >> 20) MiB: only the first \(maxStandardInputBytes >> 20) MiB are read; give the file as PATH to read all of it"))
        }
        guard !bytes.isEmpty else {
            result.diagnostics.append(InputDiagnostic(file: standardInputName, line: nil, message: "standard input is empty"))
            return
        }
        result.documents.append(RawDocument(name: standardInputName, content: .text(String(decoding: bytes, as: UTF8.self)), kind: nil))
    }

    static func loadDirectory(_ dir: String, into result: inout CollectedInputs) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else {
            result.diagnostics.append(InputDiagnostic(file: dir, line: nil, message: "cannot list directory"))
            return
        }
        for name in names.sorted() {
            let path = (dir as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: path, isDirectory: &isDir)
            // ipsec.d/*.conf is reached through ipsec.conf's include; other subdirectories are not ours.
            if isDir.boolValue { continue }
            if name.hasPrefix(".") || name == "expect.json" { continue }
            // Only the capture's own regular files: a FIFO would hang the read, a device never end, and a
            // symlink out of the directory would read the analyst's machine.
            guard isRegularFile(path) else {
                if fm.fileExists(atPath: path) || (try? fm.destinationOfSymbolicLink(atPath: path)) != nil {
                    result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: fm.fileExists(atPath: path)
                        ? "not a regular file (a FIFO, device or socket); not read" : "a dangling symlink; not read"))
                }
                continue
            }
            if let real = realPath(path), let root = realPath(dir), !real.hasPrefix(root + "/") {
                result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "a symlink out of the capture (to \(real)); not read"))
                continue
            }
            if name == "ipsec.conf" || name == "ipsec.secrets" || knownNames[name] != nil {
                result.documents.append(RawDocument(name: path, content: .file(path: path), kind: knownNames[name]))
            } else if let kind = rotatedLog(name) {
                // logrotate's `pluto.log.1`: the older part of the same log. Read when the current log is not
                // there; beside it, its events would interleave with the newer ones, so it is named, not read.
                if names.contains("pluto.log") || names.contains("journal.txt") {
                    result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "an older rotation of the log beside it; not read (give it alone as PATH to read it)"))
                } else {
                    result.documents.append(RawDocument(name: path, content: .file(path: path), kind: kind))
                }
            } else if let tool = compressedBy(name) {
                result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "compressed, not read; to read it: \(tool) -k \(path), then give the result as PATH"))
            } else if name.hasSuffix(".txt") || name.hasSuffix(".log") || name.hasSuffix(".json")
                || name.hasSuffix(".conf") || name.hasSuffix(".secrets") || !name.contains(".")
            {
                result.documents.append(RawDocument(name: path, content: .file(path: path), kind: nil))
            }
        }
    }

    /// When `dir` has no capture files of its own but two subdirectories that are captures (each with a
    /// snapshot file), the two ends: `west` before `east` when so named, else in name order.
    public static func bothEnds(in dir: String) -> (local: String, peer: String)? {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir), !names.contains(where: { knownNames[$0] != nil }) else { return nil }
        let ends = names.sorted().filter { name in
            var isDir: ObjCBool = false
            let sub = (dir as NSString).appendingPathComponent(name)
            guard fm.fileExists(atPath: sub, isDirectory: &isDir), isDir.boolValue else { return false }
            return ((try? fm.contentsOfDirectory(atPath: sub)) ?? []).contains { knownNames[$0] != nil }
        }
        guard ends.count == 2 else { return nil }
        let ordered = ends == ["east", "west"] ? ["west", "east"] : ends
        return ((dir as NSString).appendingPathComponent(ordered[0]), (dir as NSString).appendingPathComponent(ordered[1]))
    }

    static func defaultLabel(_ paths: [String]) -> String {
        guard let first = paths.first else { return "input" }
        if first == "-" || first == "/dev/stdin" { return standardInputName }
        let trimmed = first.hasSuffix("/") ? String(first.dropLast()) : first
        return (trimmed as NSString).lastPathComponent
    }

    static func isRegularFile(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}

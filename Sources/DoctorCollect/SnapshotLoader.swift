import DoctorModel
import Foundation

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
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "no such file or directory"))
                continue
            }
            if isDir.boolValue {
                loadDirectory(path, into: &result)
            } else if fm.isReadableFile(atPath: path) {
                let base = (path as NSString).lastPathComponent
                result.documents.append(RawDocument(name: path, content: .file(path: path), kind: knownNames[base]))
            } else {
                result.diagnostics.append(InputDiagnostic(file: path, line: nil, message: "permission denied"))
            }
        }
        return result
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
            if name == "ipsec.conf" || name == "ipsec.secrets" || knownNames[name] != nil {
                result.documents.append(RawDocument(name: path, content: .file(path: path), kind: knownNames[name]))
            } else if name.hasSuffix(".txt") || name.hasSuffix(".log") || name.hasSuffix(".json")
                || name.hasSuffix(".conf") || name.hasSuffix(".secrets") || !name.contains(".")
            {
                result.documents.append(RawDocument(name: path, content: .file(path: path), kind: nil))
            }
        }
    }

    static func defaultLabel(_ paths: [String]) -> String {
        guard let first = paths.first else { return "input" }
        let trimmed = first.hasSuffix("/") ? String(first.dropLast()) : first
        return (trimmed as NSString).lastPathComponent
    }
}

import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorReport
import DoctorRules
import Foundation

/// One input through the whole pipeline (recognise, parse, diagnose, render text and JSON), with the
/// oracles of the robustness promises: no crash (libFuzzer sees it), no hang (`-timeout`), and no output
/// that holds a lab secret, key hex or a terminal control character, and JSON that parses.
///
/// Input layout: the first byte picks the file name the rest arrives under (so one target reaches every
/// parser); `FUZZ_KIND=ip-xfrm-state.txt` pins the name instead (one target per parser).
enum FuzzPipeline {
    static let names = [
        "ipsec.conf", "ipsec.secrets", "ipsec-up.txt", "ipsec-trafficstatus.txt", "ipsec-status.txt", "ip-xfrm-policy.txt",
        "ip-xfrm-state.txt", "xfrm_stat.txt", "ip-xfrm-monitor.txt", "nft-ruleset.txt", "nft-ruleset.json", "iptables-save.txt",
        "ip-addr.txt", "ip-route.txt", "ip-link.txt", "pluto.log", "journal.txt", "ping.txt", "meta.json", "session.txt",
    ]

    static let pinned: String? = ProcessInfo.processInfo.environment["FUZZ_KIND"]

    /// The lab's throwaway PSKs (scripts/lab/lab.sh): in every seed's ipsec.secrets, never in any output.
    static let secrets = [
        "lab-psk-0b5e7d1c9a2f48e6b3d7c5a1e9f20486-west-east", "lab-psk-wrong-77f1c2d9e8a34b6c9d0e1f2a3b4c5d6e-east",
    ]

    /// Splits a seed or mutant into (file name, content).
    static func split(_ data: [UInt8]) -> (String, [UInt8]) {
        if let pinned { return (pinned, data) }
        guard let first = data.first else { return (names[0], []) }
        return (names[Int(first) % names.count], Array(data.dropFirst()))
    }

    /// Runs one input; returns a description of the broken promise, or nil.
    static func run(_ data: [UInt8]) -> String? {
        let (name, content) = split(data)
        let doc = RawDocument(name: name, content: .text(String(decoding: content, as: UTF8.self)), kind: SnapshotLoader.knownNames[name])
        let inputs = CollectedInputs(label: "fuzz", documents: [doc])
        let snap = SnapshotBuilder.build(inputs)
        let findings = DiagnosisEngine().diagnose(DiagnosisContext(local: snap, peer: snap))
        let d = Diagnosis(local: "fuzz", peer: nil, connections: [], findings: findings, skipped: snap.skipped,
                          diagnostics: snap.diagnostics, inputs: snap.inputs, libreswanVersion: snap.libreswanVersion)
        let json = JSONReport.render(d)
        let outputs = [TextReport(color: false).render(d), json, snap.diagnostics.map(\.formatted).joined(separator: "\n")]
        for out in outputs {
            for s in secrets where out.contains(s) { return "a lab PSK reached the output (\(name))" }
            if let hex = longHex(out) { return "key hex reached the output (\(name)): \(hex)" }
            if out.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
                return "a control character reached the output (\(name))"
            }
        }
        if (try? JSONSerialization.jsonObject(with: Data(json.utf8))) == nil { return "the JSON report does not parse (\(name))" }
        return nil
    }

    /// `0x` followed by 16 or more hex digits: key material (SPIs and reqids have 8 at most).
    static func longHex(_ s: String) -> Substring? {
        let u = Array(s.utf8)
        var i = 0
        while i + 2 < u.count {
            if u[i] == UInt8(ascii: "0"), u[i + 1] == UInt8(ascii: "x") || u[i + 1] == UInt8(ascii: "X") {
                var j = i + 2
                while j < u.count, isHex(u[j]) { j += 1 }
                if j - i - 2 >= 16 { return Substring(String(decoding: u[i..<j], as: UTF8.self)) }
                i = j
            } else {
                i += 1
            }
        }
        return nil
    }

    static func isHex(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102) }
}

#if FUZZING
    import CLibFuzzer

    /// SwiftPM owns `main`; it hands the command line to libFuzzer's driver.
    @main
    struct Fuzz {
        static func main() {
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { start, count in
                let data = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
                if let broken = FuzzPipeline.run(data) {
                    FileHandle.standardError.write(Data("ipsec-doctor-fuzz: \(broken)\n".utf8))
                    abort()  // libFuzzer keeps the input as a crash artifact
                }
                return 0
            })
        }
    }
#else
    /// Without libFuzzer: replays files (a corpus, crash artifacts) through the same oracles.
    @main
    struct Replay {
        static func main() {
            let args = Array(CommandLine.arguments.dropFirst())
            if args.first == "--make-corpus", args.count == 3 {
                makeCorpus(from: args[1], into: args[2])
                return
            }
            var failed = 0, count = 0
            for arg in CommandLine.arguments.dropFirst() {
                var paths = [arg]
                if let names = try? FileManager.default.contentsOfDirectory(atPath: arg) { paths = names.sorted().map { "\(arg)/\($0)" } }
                for path in paths {
                    guard let data = FileManager.default.contents(atPath: path) else { continue }
                    count += 1
                    if let broken = FuzzPipeline.run([UInt8](data)) {
                        print("\(path): \(broken)")
                        failed += 1
                    }
                }
            }
            print("\(count - failed) passed, \(failed) failed")
            exit(failed == 0 ? 0 : 1)
        }

        /// Every file of every capture under DIR (examples/), prefixed with the byte that names its kind:
        /// the seed corpus. Files of other names go in as `session.txt` (recognised by content).
        static func makeCorpus(from dir: String, into out: String) {
            try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            guard let walker = FileManager.default.enumerator(atPath: dir) else { return }
            var n = 0
            for case let rel as String in walker {
                let path = "\(dir)/\(rel)"
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                    let data = FileManager.default.contents(atPath: path), data.count < 256 << 10
                else { continue }
                let base = (rel as NSString).lastPathComponent
                let kind = FuzzPipeline.names.firstIndex(of: base) ?? FuzzPipeline.names.count - 1
                FileManager.default.createFile(atPath: "\(out)/seed-\(n)", contents: Data([UInt8(kind)]) + data)
                n += 1
            }
            print("\(n) seeds in \(out)")
        }
    }
#endif

import DoctorCollect
import DoctorCore
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
/// `FUZZ_STAGE=parse` stops after recognition and parsing: no engine, no reports, many more inputs a second.
/// Both stages hold the parsed model itself (every string in it, by reflection) to no lab secret and no key hex.
enum FuzzPipeline {
    static let names = [
        "ipsec.conf", "ipsec.secrets", "ipsec-up.txt", "ipsec-trafficstatus.txt", "ipsec-status.txt", "ip-xfrm-policy.txt",
        "ip-xfrm-state.txt", "xfrm_stat.txt", "ip-xfrm-monitor.txt", "nft-ruleset.txt", "nft-ruleset.json", "iptables-save.txt",
        "ip-addr.txt", "ip-route.txt", "ip-link.txt", "pluto.log", "journal.txt", "ping.txt", "meta.json", "session.txt",
    ]

    static let pinned: String? = ProcessInfo.processInfo.environment["FUZZ_KIND"]
    static let parseOnly = ProcessInfo.processInfo.environment["FUZZ_STAGE"] == "parse"

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
    /// The input as the one file it arrives as, recognised and parsed.
    static func snapshot(_ data: [UInt8]) -> (name: String, content: [UInt8], kind: InputKind?, snapshot: EndpointSnapshot) {
        let (name, content) = split(data)
        let doc = RawDocument(name: name, content: .text(String(decoding: content, as: UTF8.self)), kind: SnapshotLoader.knownNames[name])
        return (name, content, doc.kind, SnapshotBuilder.build(CollectedInputs(label: "fuzz", documents: [doc])))
    }

    static func run(_ data: [UInt8]) -> String? {
        let (name, content, kind, snap) = snapshot(data)
        // The whole model, never a secret or key in it; control characters may be (the renderers escape them).
        var model: [String] = []
        strings(in: snap, into: &model)
        let secrets = secretsInScope(content, kind: kind)
        if let broken = check(snap.diagnostics.map(\.formatted).joined(separator: "\n"), name, secrets: secrets)
            ?? check(model.joined(separator: "\n"), "\(name), parsed model", secrets: secrets, controls: false)
        {
            return broken
        }
        if parseOnly { return nil }
        // The library's own assembly (DoctorCore), the capture as both ends.
        guard let d = try? DoctorCore.diagnose(snap, peer: snap, inputName: name) else { return "DoctorCore refused a capture without --conn (\(name))" }
        let json = JSONReport.render(d)
        if let broken = check(TextReport(color: false).render(d), name, secrets: secrets) ?? check(json, name, secrets: secrets) { return broken }
        if (try? JSONSerialization.jsonObject(with: Data(json.utf8))) == nil { return "the JSON report does not parse (\(name))" }
        let sarif = SARIFReport.render(d, rules: RuleCatalog.all.map { SARIFReport.RuleDescriptor(code: $0.code.rawValue, summary: $0.summary) }, toolVersion: "fuzz")
        if let broken = check(sarif, "\(name), SARIF", secrets: secrets) { return broken }
        if (try? JSONSerialization.jsonObject(with: Data(sarif.utf8))) == nil { return "the SARIF report does not parse (\(name))" }
        // compare reads the same model through the typed adapter: the capture against itself.
        let compared = ConfigComparison.compare(snap, snap)
        let cjson = CompareReport.json(compared, local: "fuzz", peer: "fuzz", toolVersion: "fuzz")
        if let broken = check(CompareReport.text(compared, local: "fuzz", peer: "fuzz", report: TextReport(color: false)), "\(name), compare", secrets: secrets)
            ?? check(cjson, "\(name), compare JSON", secrets: secrets)
        {
            return broken
        }
        if (try? JSONSerialization.jsonObject(with: Data(cjson.utf8))) == nil { return "the compare JSON does not parse (\(name))" }
        return nil
    }

    /// Every string anywhere in VALUE, by reflection: what `dump` prints, without its quadratic headers
    /// (it prints a collection whole at every level) and a third of the parse stage's time.
    static func strings(in value: Any, into out: inout [String]) {
        if let s = value as? any StringProtocol { return out.append(String(s)) }
        for child in Mirror(reflecting: value).children { strings(in: child.value, into: &out) }
    }

    /// Where in VALUE each string holding a lab secret sits (`--explain`): the path of labels down to it.
    static func secretPaths(in value: Any, path: String = "snapshot", into out: inout [String]) {
        if let s = value as? any StringProtocol {
            if secrets.contains(where: { String(s).contains($0) }) { out.append("\(path): \(String(s).prefix(160))") }
            return
        }
        for (i, child) in Mirror(reflecting: value).children.enumerated() {
            secretPaths(in: child.value, path: "\(path).\(child.label ?? String(i))", into: &out)
        }
    }

    /// The lab secrets INPUT holds as secrets, which no output may hold: where ipsec.secrets syntax puts one
    /// (after `: PSK`, `: XAUTH`, ... on its line, on the line after one that ends so, inside `: RSA { }`),
    /// and, for a format that prints no quoted strings, any in double quotes (a secrets line cut loose from
    /// its syntax). A lab PSK anywhere else is only a string, such as a connection name pluto prints back,
    /// which the model must keep (the fuzzer copies seed bytes anywhere: `"westnet-eastnet":500 "lab-psk-..."`).
    static func secretsInScope(_ input: [UInt8], kind: InputKind?) -> [String] {
        let present = secrets.filter { contains(input, $0.utf8) }
        guard !present.isEmpty else { return [] }
        var found: Set<String> = []
        var nextLine = false, inBlock = false
        let text = String(decoding: input, as: UTF8.self)
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let blank = line.allSatisfy { $0 == " " || $0 == "\t" }
            let (keyword, tail) = secretKeyword(in: line)
            for s in present {
                var from = line.startIndex
                while let r = line[from...].range(of: s) {
                    let before = line[..<r.lowerBound]
                    let inQuotes = before.filter { $0 == "\"" }.count % 2 == 1
                    if nextLine || inBlock || (keyword.map { $0 < r.lowerBound } ?? false) || (inQuotes && (kind?.printsNoQuotedStrings ?? false)) {
                        found.insert(s)
                    }
                    from = r.upperBound
                }
            }
            if !blank { nextLine = false }
            if keyword != nil, tail.allSatisfy({ $0 == " " || $0 == "\t" }) { nextLine = true }
            if keyword != nil, tail.contains("{") { inBlock = true }
            if line.contains("}") { inBlock = false }
        }
        return present.filter(found.contains)
    }

    /// `: PSK` (XAUTH, EAP, PIN, PPKS, NTLM, RSA, ECDSA; any case) on LINE: where the keyword ends, and the rest.
    /// Written from ipsec.secrets(5), apart from the Redactor, so the two are checked against each other.
    static func secretKeyword(in line: Substring) -> (String.Index?, Substring) {
        var i = line.startIndex
        while let colon = line[i...].firstIndex(of: ":") {
            i = line.index(after: colon)
            // `"conn" #2: XAUTH client ...`: a log line's state serial, no secrets entry.
            let serial = line[..<colon].reversed().prefix(while: \.isNumber)
            if !serial.isEmpty, line[..<colon].dropLast(serial.count).last == "#" { continue }
            let word = line[i...].drop(while: { $0 == " " || $0 == "\t" }).prefix(while: \.isLetter)
            if ["PSK", "XAUTH", "EAP", "PIN", "PPKS", "NTLM", "RSA", "ECDSA"].contains(word.uppercased()) {
                let tail = line[word.endIndex...]
                if tail.first.map({ $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" || $0 == "{" }) ?? true { return (word.endIndex, tail) }
            }
        }
        return (nil, "")
    }

    /// The output oracles: none of SECRETS, no key hex, no control character (but newline and tab).
    static func check(_ out: String, _ name: String, secrets: [String], controls: Bool = true) -> String? {
        let u = Array(out.utf8)
        for s in secrets where contains(u, s.utf8) { return "a lab PSK reached the output (\(name))" }
        if let hex = longHex(out) { return "key hex reached the output (\(name)): \(hex)" }
        if controls, out.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
            return "a control character reached the output (\(name))"
        }
        return nil
    }

    /// NEEDLE in U, byte by byte: Foundation's and the standard library's searches took most of the parse stage's time.
    static func contains(_ u: [UInt8], _ needle: String.UTF8View) -> Bool {
        let n = Array(needle)
        guard let first = n.first, u.count >= n.count else { return false }
        for i in 0...(u.count - n.count) where u[i] == first && u[i..<i + n.count].elementsEqual(n) { return true }
        return false
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
            if args == ["--names"] {  // scripts/fuzz --each-parser
                print(FuzzPipeline.names.joined(separator: "\n"))
                return
            }
            if args.first == "--explain", args.count == 2, let data = FileManager.default.contents(atPath: args[1]) {
                let (name, _, _, snap) = FuzzPipeline.snapshot([UInt8](data))
                var out: [String] = []
                FuzzPipeline.secretPaths(in: snap, into: &out)
                print(out.isEmpty ? "\(name): no lab secret in the parsed model" : out.joined(separator: "\n"))
                return
            }
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
        /// the seed corpus. Files of other names go in as `session.txt` (recognised by content). With
        /// `FUZZ_KIND`, the files of that kind (`journal.txt`: the pluto logs), without the byte, and every
        /// secret-bearing file (ipsec.secrets, `ip xfrm state`) as well: a secret cut loose from its syntax
        /// into another parser's input is what the secret oracle must see (the whole-pipeline run found one
        /// the per-parser run could not: a PSK line in xfrm_stat.txt, quoted by its warning).
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
                if let pinned = FuzzPipeline.pinned {
                    let known = SnapshotLoader.knownNames[FuzzPipeline.names[kind]]
                    let secretBearing = ["ipsec.secrets", "ip-xfrm-state.txt"].contains(FuzzPipeline.names[kind])
                    guard FuzzPipeline.names[kind] == pinned || (known != nil && known == SnapshotLoader.knownNames[pinned]) || secretBearing else { continue }
                }
                let prefix = FuzzPipeline.pinned == nil ? Data([UInt8(kind)]) : Data()
                FileManager.default.createFile(atPath: "\(out)/seed-\(n)", contents: prefix + data)
                n += 1
            }
            print("\(n) seeds in \(out)")
        }
    }
#endif

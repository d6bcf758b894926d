import DoctorCollect
import DoctorModel
import DoctorParse
import DoctorReport
import DoctorRules
import Foundation

/// The pipeline as a library: collect -> parse -> model -> rules -> a `Diagnosis` or a `Comparison`, ready
/// for any report. The CLI (and the fuzzer, a test, a later exporter) only choose the inputs and render.
public enum DoctorCore {
    /// Where one end's evidence comes from.
    public enum Source: Sendable {
        /// Captured outputs: snapshot directories, files, `-` for standard input.
        case captured([String])
        /// This machine, read-only.
        case live(LiveOptions)
    }

    public struct LiveOptions: Sendable {
        public var sampleSeconds: Double
        public var commandTimeout: Double
        public var config: String?
        public var secrets: String?
        public var ctlSocket: String?
        public var logs: [String]

        public init(sampleSeconds: Double = 3, commandTimeout: Double = 10, config: String? = nil, secrets: String? = nil,
                    ctlSocket: String? = nil, logs: [String] = []) {
            self.sampleSeconds = sampleSeconds
            self.commandTimeout = commandTimeout
            self.config = config
            self.secrets = secrets
            self.ctlSocket = ctlSocket
            self.logs = logs
        }
    }

    public enum Failure: Error, Equatable {
        /// `--conn NAME` names no connection of the input.
        case unknownConnection(String, known: [String])
        /// compare: an end without an ipsec.conf.
        case noConfig(String)
    }

    /// A diagnosis and what the caller should tell the user on the side (stderr): how the inputs were read.
    public struct Diagnosed: Sendable {
        public var diagnosis: Diagnosis
        public var notes: [String]
    }

    /// Diagnose one end, optionally with the other end's capture. A directory holding both ends' captures
    /// (west/ and east/, as the lab writes them) is read as both ends.
    public static func diagnose(_ source: Source, peer: [String] = [], connection: String? = nil) throws -> Diagnosed {
        var source = source, peer = peer, notes: [String] = []
        if case .captured(let paths) = source, paths.count == 1, peer.isEmpty, let ends = SnapshotLoader.bothEnds(in: paths[0]) {
            notes.append("\(paths[0]) holds two ends' captures: diagnosing \(ends.local) with --peer \(ends.peer)")
            source = .captured([ends.local])
            peer = [ends.peer]
        }
        let collected: CollectedInputs
        switch source {
        case .captured(let paths): collected = SnapshotLoader.load(paths: paths)
        case .live(let o):
            collected = LiveCollector(
                sampleInterval: o.sampleSeconds, commandTimeout: o.commandTimeout, configPath: o.config, secretsPath: o.secrets,
                ctlSocket: o.ctlSocket, logPaths: o.logs
            ).collect()
        }
        let local = SnapshotBuilder.build(collected)
        let peerSnap = peer.isEmpty ? nil : SnapshotBuilder.build(SnapshotLoader.load(paths: peer, label: nil))
        var inputName = "this host"
        if case .captured(let paths) = source { inputName = paths.joined(separator: " ") }
        return Diagnosed(diagnosis: try diagnose(local, peer: peerSnap, connection: connection, inputName: inputName), notes: notes)
    }

    /// The rules over two built ends, assembled into the finished diagnosis.
    public static func diagnose(_ local: EndpointSnapshot, peer: EndpointSnapshot?, connection: String? = nil, inputName: String = "the input") throws -> Diagnosis {
        let context = DiagnosisContext(local: local, peer: peer, connectionFilter: connection)
        if let connection, context.connectionNames.isEmpty {
            throw Failure.unknownConnection(connection, known: DiagnosisContext(local: local).connectionNames)
        }
        let result = DiagnosisEngine().run(context)
        var diagnostics = local.diagnostics + (peer?.diagnostics ?? [])
        if local.isEmpty {
            diagnostics.append(InputDiagnostic(file: local.isLive ? "this host" : inputName, line: nil, message: "nothing usable was read"))
        }
        let connections = context.connectionNames.map { name in
            let up = context.isUp(name)
            return Diagnosis.ConnectionStatus(
                name: name, status: up == true ? "up" : up == false ? "down" : "unknown",
                rootCause: result.findings.first { $0.connection == name && $0.severity == .error }?.code)
        }
        var diagnosis = Diagnosis(
            local: local.label, peer: peer?.label, connections: connections, findings: result.findings,
            skipped: local.skipped + (peer?.skipped ?? []), diagnostics: diagnostics, inputs: local.isEmpty ? [:] : local.inputs,
            libreswanVersion: local.libreswanVersion)
        diagnosis.peerInputs = peer?.inputs ?? [:]
        diagnosis.notChecked = result.notChecked
        return diagnosis
    }

    /// Two ends' configurations compared: what each will negotiate, paired, with the predicted outcome.
    public struct Compared: Sendable {
        public var result: ConfigComparison
        public var local: EndpointSnapshot
        public var peer: EndpointSnapshot
        /// Input warnings of both ends.
        public var diagnostics: [InputDiagnostic] { local.diagnostics + peer.diagnostics }
    }

    public static func compare(_ left: String, _ right: String) throws -> Compared {
        let l = loadEnd(left), r = loadEnd(right)
        for (snap, path) in [(l, left), (r, right)] where snap.config == nil { throw Failure.noConfig(path) }
        return Compared(result: ConfigComparison.compare(l, r), local: l, peer: r)
    }

    /// One end for compare: an ipsec.conf with the ipsec.secrets beside it, or a directory as a capture. A
    /// file's end is named by its directory (`west/ipsec.conf` is west).
    public static func loadEnd(_ path: String) -> EndpointSnapshot {
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        var paths = [path]
        if !isDir.boolValue {
            let secrets = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("ipsec.secrets")
            if (path as NSString).lastPathComponent == "ipsec.conf", FileManager.default.fileExists(atPath: secrets) { paths.append(secrets) }
        }
        let label = isDir.boolValue ? nil : ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        return SnapshotBuilder.build(SnapshotLoader.load(paths: paths, label: label?.isEmpty == false ? label : nil))
    }
}

import DoctorModel
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// The result of running one external command.
public struct CommandResult: Sendable {
    public enum Outcome: Sendable, Equatable {
        case exited(Int32)
        case timedOut(seconds: Double)
        case notFound
        case failedToStart(String)
    }

    public var outcome: Outcome
    public var stdout: String
    public var stderr: String

    public init(outcome: Outcome, stdout: String, stderr: String) {
        self.outcome = outcome
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs commands. Live collection goes through this protocol so tests can
/// substitute recorded outputs, and so every command has a timeout.
public protocol CommandRunner: Sendable {
    func run(_ argv: [String], timeout: Double) -> CommandResult
}

/// Runs real processes with a hard timeout (SIGTERM, then SIGKILL after 1 s).
public struct SystemCommandRunner: CommandRunner {
    public init() {}

    public func run(_ argv: [String], timeout: Double) -> CommandResult {
        guard let exe = Self.which(argv[0]) else {
            return CommandResult(outcome: .notFound, stdout: "", stderr: "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = Array(argv.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        env["SYSTEMD_PAGER"] = ""
        process.environment = env
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        let outBuffer = LockedBuffer()
        let errBuffer = LockedBuffer()
        outPipe.fileHandleForReading.readabilityHandler = { h in outBuffer.append(h.availableData) }
        errPipe.fileHandleForReading.readabilityHandler = { h in errBuffer.append(h.availableData) }
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        do {
            try process.run()
        } catch {
            return CommandResult(outcome: .failedToStart("\(error)"), stdout: "", stderr: "")
        }
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            // Foundation makes the child a process-group leader: signal the whole group, so what it started
            // (the `ipsec` wrapper's whack, a pager) dies with it.
            let pid = process.processIdentifier
            let group = getpgid(pid) == pid ? -pid : pid
            kill(group, SIGTERM)
            if done.wait(timeout: .now() + 1) == .timedOut {
                kill(group, SIGKILL)
                _ = done.wait(timeout: .now() + 1)
            } else {
                kill(group, SIGKILL)  // the leader went on TERM; stragglers in its group do not get a choice
            }
        }
        outPipe.fileHandleForReading.readabilityHandler = nil
        errPipe.fileHandleForReading.readabilityHandler = nil
        outBuffer.append(outPipe.fileHandleForReading.readDataToEndOfFileNonBlocking())
        errBuffer.append(errPipe.fileHandleForReading.readDataToEndOfFileNonBlocking())
        let outcome: CommandResult.Outcome = timedOut ? .timedOut(seconds: timeout) : .exited(process.terminationStatus)
        return CommandResult(outcome: outcome, stdout: outBuffer.string, stderr: errBuffer.string)
    }

    static func which(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in (path + ":/usr/sbin:/sbin:/usr/libexec/ipsec").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

final class LockedBuffer: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    /// Output beyond this is dropped: a runaway command must not exhaust memory.
    private let limit = 64 << 20

    func append(_ d: Data) {
        lock.lock()
        if data.count < limit { data.append(d.prefix(limit - data.count)) }
        lock.unlock()
    }

    var string: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

extension FileHandle {
    /// Whatever is left in the pipe, without blocking on a writer that a killed child may have leaked.
    func readDataToEndOfFileNonBlocking() -> Data {
        let fd = fileDescriptor
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }
}

/// Replays recorded outputs: for tests of live collection without a gateway.
public struct RecordedCommandRunner: CommandRunner {
    public var outputs: [String: CommandResult]

    public init(outputs: [String: CommandResult]) {
        self.outputs = outputs
    }

    public func run(_ argv: [String], timeout: Double) -> CommandResult {
        outputs[argv.joined(separator: " ")] ?? CommandResult(outcome: .notFound, stdout: "", stderr: "")
    }
}

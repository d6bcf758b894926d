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
        let done = DispatchSemaphore(value: 0)
        let exited = ExitFlag()
        process.terminationHandler = { _ in
            exited.set()
            done.signal()
        }
        do {
            try process.run()
        } catch {
            return CommandResult(outcome: .failedToStart("\(error)"), stdout: "", stderr: "")
        }
        // Our copies of the write ends, so EOF comes when the child (and whatever it started) closes its own.
        try? outPipe.fileHandleForWriting.close()
        try? errPipe.fileHandleForWriting.close()
        var timedOut = false
        // Foundation makes the child a process-group leader: signal the whole group, so what it started
        // (the `ipsec` wrapper's whack, a pager) dies with it.
        let pid = process.processIdentifier
        let group = getpgid(pid) == pid ? -pid : pid
        let deadline = DispatchTime.now() + timeout
        let streams = PipeReader.readToEnd(
            [outPipe.fileHandleForReading.fileDescriptor, errPipe.fileHandleForReading.fileDescriptor], until: deadline,
            whileAlive: { !exited.isSet })
        if done.wait(timeout: deadline) == .timedOut {
            timedOut = true
            kill(group, SIGTERM)
            if done.wait(timeout: .now() + 1) == .timedOut {
                kill(group, SIGKILL)
                _ = done.wait(timeout: .now() + 1)
            } else {
                kill(group, SIGKILL)  // the leader went on TERM; stragglers in its group do not get a choice
            }
        } else if !streams.complete {
            kill(group, SIGKILL)  // it exited, but something it started still holds the pipe open
        }
        // What the killed group wrote before it died (a leaked writer cannot block this: non-blocking).
        let rest = PipeReader.readToEnd(
            [outPipe.fileHandleForReading.fileDescriptor, errPipe.fileHandleForReading.fileDescriptor], until: .now() + (timedOut ? 0.5 : 0))
        let outBuffer = LockedBuffer(), errBuffer = LockedBuffer()
        outBuffer.append(streams.data[0]); outBuffer.append(rest.data[0])
        errBuffer.append(streams.data[1]); errBuffer.append(rest.data[1])
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

/// Set once by the termination handler (another thread); read by the reading loop.
final class ExitFlag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
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

/// Reads pipes to their end in one thread, in order: each stream's bytes arrive as written (handlers on a
/// dispatch queue could append a late chunk after the tail, and did: a policy block of `ip -s xfrm policy`
/// out of place). Reading on after the kept limit drains the pipe, so the writer (pluto answering
/// `ipsec status`) never blocks on a reader that stopped.
enum PipeReader {
    /// Bytes kept per stream (64 MiB): a runaway command must not exhaust memory.
    static let limit = 64 << 20

    /// Reads every fd until EOF on all or the deadline; `complete` is false when the deadline came first.
    /// Once `whileAlive` says the writer exited, what is left gets half a second (a leaked background
    /// writer must not hold the read until the deadline).
    static func readToEnd(_ fds: [Int32], until deadline: DispatchTime, whileAlive: () -> Bool = { true }) -> (data: [Data], complete: Bool) {
        var deadline = deadline
        var exited = false
        var data = [Data](repeating: Data(), count: fds.count)
        var open = Array(fds.indices)
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        while !open.isEmpty {
            if !exited && !whileAlive() {
                exited = true
                deadline = min(deadline, .now() + 0.5)
            }
            let now = DispatchTime.now()
            let left = deadline > now ? (deadline.uptimeNanoseconds - now.uptimeNanoseconds) / 1_000_000 : 0
            var pfds = open.map { pollfd(fd: fds[$0], events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pfds, nfds_t(pfds.count), Int32(min(left, 100)))
            if ready < 0 && errno != EINTR { break }
            var closed: Set<Int> = []
            for (k, i) in open.enumerated() where pfds[k].revents != 0 {
                while true {
                    let n = read(fds[i], &buf, buf.count)
                    if n > 0 {
                        if data[i].count < limit { data[i].append(contentsOf: buf[0..<min(n, limit - data[i].count)]) }
                        continue
                    }
                    if n == 0 || (errno != EAGAIN && errno != EINTR) { closed.insert(i) }
                    break
                }
            }
            open.removeAll { closed.contains($0) }
            if left == 0 && ready == 0 { break }
        }
        return (data, open.isEmpty)
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

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A child process started with `posix_spawn` and reaped with `waitpid` on its own pid only.
///
/// Foundation's `Process` is not used: its monitor thread blocks in `wait4` when a child execs
/// a second time (as `systemd-socket-activate` does), and then stops reaping every other child.
public final class ChildProcess: @unchecked Sendable {
    // Sound because `status` is guarded by `lock`; `pid` is immutable.
    public let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `executable` with `arguments`. Each of `stdin`, `stdout`, `stderr` is a descriptor
    /// the child gets in that place (nil: /dev/null). The child starts with default signal
    /// handling and an empty signal mask, whatever the test runner has set.
    public init(executable: String, arguments: [String], environment: [String: String],
                stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (source, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SandboxError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        pid = child
    }

    /// The exit status (128 + signal when killed), or nil while it runs.
    public var exitStatus: Int32? {
        lock.lock()
        defer { lock.unlock() }
        if status == nil {
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                let signal = raw & 0x7f
                status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            }
        }
        return status
    }

    public var isRunning: Bool { exitStatus == nil }

    /// Waits up to `timeout` for the exit; kills the child (SIGKILL) when it is still running then.
    @discardableResult
    public func wait(timeout: TimeInterval = 20) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(5_000) }
        if isRunning { kill(pid, SIGKILL) }
        while isRunning { usleep(5_000) }
        return exitStatus ?? -1
    }

    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }
}

/// The environment of this process, plus `additions`.
func inheritedEnvironment(_ additions: [String: String]) -> [String: String] {
    ProcessInfo.processInfo.environment.merging(additions) { $1 }
}

/// A pipe whose read end is drained by a thread of its own, so the writer never blocks.
final class DrainedPipe: @unchecked Sendable {
    // Sound because `data` is guarded by `condition`; the descriptors are immutable.
    let readEnd: Int32
    let writeEnd: Int32
    private let condition = NSCondition()
    private var data: Data?

    init() throws {
        // Close-on-exec from the start: a child spawned meanwhile by another test must not
        // inherit a write end, or this pipe would never reach its end.
        (readEnd, writeEnd) = try closeOnExecPipe()
    }

    /// Closes this process's write end (the child keeps its copy) and starts draining.
    func startDraining() {
        close(writeEnd)
        let thread = Thread { [self] in
            var collected = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(readEnd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                collected.append(contentsOf: buffer[..<count])
            }
            close(readEnd)
            condition.lock()
            data = collected
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    /// Everything the child wrote, once it has closed its end.
    func collected() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}

/// A one-way channel whose two ends are close-on-exec from the moment they exist (a socket
/// pair: Glibc's Swift module does not export pipe2). Returns (read end, write end).
public func closeOnExecPipe() throws -> (Int32, Int32) {
    var ends: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
        throw SandboxError("socketpair failed: \(String(cString: strerror(errno)))")
    }
    shutdown(ends[0], Int32(SHUT_WR))
    shutdown(ends[1], Int32(SHUT_RD))
    return (ends[0], ends[1])
}

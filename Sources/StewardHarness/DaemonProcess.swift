#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl

/// The real `stewardd` binary, started on a ``Sandbox`` with its own sd_notify listener.
public final class DaemonProcess: Sendable {
    public let sandbox: Sandbox
    public let notify: NotifyListener
    public let child: ChildProcess
    /// Monotonic microseconds just before the process was started.
    public let launchedAt: UInt64

    /// Starts `stewardd --config …` with `NOTIFY_SOCKET` pointing at a listener; stdout and stderr
    /// go to the sandbox's log file. `environment` adds to the variables it inherits. `executable`
    /// may be a wrapper that execs stewardd (such as systemd-socket-activate).
    public init(sandbox: Sandbox, executable: String = Binaries.stewardd, arguments: [String]? = nil,
                environment: [String: String] = [:]) throws {
        self.sandbox = sandbox
        notify = try NotifyListener(path: sandbox.notifyPath)
        let log = open(sandbox.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw SandboxError("cannot open \(sandbox.logPath)") }
        defer { close(log) }
        launchedAt = NotifyListener.monotonicMicroseconds()
        child = try ChildProcess(
            executable: executable, arguments: arguments ?? ["--config", sandbox.configPath],
            environment: inheritedEnvironment(["NOTIFY_SOCKET": sandbox.notifyPath].merging(environment) { $1 }),
            stdout: log, stderr: log)
    }

    public var pid: pid_t { child.pid }

    /// Waits for `READY=1`; throws with the daemon's log as soon as it exits, or on timeout.
    @discardableResult
    public func waitUntilReady(timeout: TimeInterval = 20) throws -> UInt64 {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let ready = notify.wait(for: "READY=1", timeout: 0.05) { return ready.at }
            if let status = child.exitStatus {
                throw SandboxError("stewardd exited with status \(status) before READY=1; log:\n\(log)")
            }
        }
        throw SandboxError("stewardd did not send READY=1 within \(Int(timeout)) s; log:\n\(log)")
    }

    /// Sends `signal` to the daemon.
    public func send(_ signal: Int32) {
        child.send(signal)
    }

    /// Waits for the process to end and returns its exit status (or 128 + signal), killing it
    /// after `timeout`.
    @discardableResult
    public func waitForExit(timeout: TimeInterval = 20) -> Int32 {
        child.wait(timeout: timeout)
    }

    /// SIGTERM, then wait; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        child.send(SIGTERM)
        let status = child.wait()
        notify.close()
        return status
    }

    /// What the daemon wrote to stderr so far.
    public var log: String {
        (try? String(contentsOfFile: sandbox.logPath, encoding: .utf8)) ?? ""
    }

    /// A control client on the sandbox's socket.
    public func client() throws -> ControlClient {
        try ControlClient(socketPath: sandbox.socketPath)
    }
}

/// Runs a command to completion and captures what it printed.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments`; when `asUser` is given (uid, gid, groups), runs it through
/// `setpriv`, so role tests use real, different Unix credentials.
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                       asUser: (uid: UInt32, gid: UInt32, groups: [UInt32])? = nil, input: String? = nil,
                       timeout: TimeInterval = 120) throws -> CommandResult {
    var program = executable
    var words = arguments
    if let user = asUser {
        program = "/usr/bin/setpriv"
        let groups = user.groups.isEmpty ? ["--clear-groups"] : ["--groups", user.groups.map(String.init).joined(separator: ",")]
        words = ["--reuid", String(user.uid), "--regid", String(user.gid)] + groups + ["--", executable] + arguments
    }
    let out = try DrainedPipe(), err = try DrainedPipe(), stdin = try DrainedPipe()
    let child = try ChildProcess(executable: program, arguments: words, environment: inheritedEnvironment(environment),
                                 stdin: stdin.readEnd, stdout: out.writeEnd, stderr: err.writeEnd)
    close(stdin.readEnd)
    if let input {
        let bytes = Array(input.utf8)
        _ = bytes.withUnsafeBytes { write(stdin.writeEnd, $0.baseAddress, $0.count) }
    }
    close(stdin.writeEnd)
    out.startDraining()
    err.startDraining()
    let status = child.wait(timeout: timeout)
    return CommandResult(status: status, stdout: String(decoding: out.collected(), as: UTF8.self),
                         stderr: String(decoding: err.collected(), as: UTF8.self))
}

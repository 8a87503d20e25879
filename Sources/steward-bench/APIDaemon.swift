#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardHarness

/// A `stewardd` on the benchmark's sandbox with the partner listener (`[API]` on 127.0.0.1, an
/// ephemeral port) and the connector `modules`, stopped when the benchmark is done with it.
/// Partner files must be in the sandbox's partner folder before it starts.
enum APIDaemon {
    /// Writes the configuration, starts the daemon, waits for `READY=1`, hands it to `body` with
    /// the listener's port, then stops it with SIGTERM. A daemon that does not get ready, fails a
    /// call or exits badly on SIGTERM is a ``BenchFailure`` carrying its log.
    static func run<T>(in sandbox: Sandbox, certificate: BenchCertificate, modules: [String],
                       _ body: (DaemonProcess, _ port: Int) throws -> T) throws -> T {
        let libraries = ["probe": Binaries.probeModule, "oneroster": Binaries.oneRosterModule]
        for file in [Binaries.stewardd] + modules.compactMap({ libraries[$0] }) where !FileManager.default.fileExists(atPath: file) {
            throw BenchFailure("\(file) does not exist; build every product first (swift build, or swift build -c release), "
                + "or point STEWARD_BIN_DIR at the folder that holds stewardd")
        }
        try sandbox.writeConfiguration(modules: modules, extra: """

            [API]
            Listen=127.0.0.1:0
            Certificate=\(certificate.certificateFile)
            PrivateKey=\(certificate.keyFile)
            """)
        let daemon: DaemonProcess
        do { daemon = try DaemonProcess(sandbox: sandbox) }
        catch { throw BenchFailure("could not start \(Binaries.stewardd): \(error)") }
        Leftovers.shared.add(daemon)
        let outcome = Result { () throws -> T in
            do { _ = try daemon.waitUntilReady(timeout: 60) }
            catch { throw BenchFailure("stewardd did not get ready", daemonLog: daemon.log) }
            let reply = try daemon.client().call(ControlRequest(method: ControlMethod.status.rawValue))
            guard let port = try reply.decode(ServiceStatus.self).api?.port, port > 0 else {
                throw BenchFailure("stewardd's status shows no partner listener port", daemonLog: daemon.log)
            }
            return try body(daemon, port)
        }
        let status = Leftovers.shared.stop(daemon)
        let value: T
        do { value = try outcome.get() }
        catch let failure as BenchFailure { throw failure }
        catch { throw BenchFailure("\(error)", daemonLog: daemon.log) }
        guard status == 0 else {
            throw BenchFailure("stewardd exited with status \(status) on SIGTERM instead of 0", daemonLog: daemon.log)
        }
        return value
    }

    /// Starts the kernel's peak RSS of `pid` (VmHWM) over from its current RSS, so that the next
    /// reading is the peak of what ran in between: `echo 5 > /proc/PID/clear_refs` (Linux 4.0).
    /// Returns false when the kernel refused it, and the peak then still covers what ran before.
    static func resetPeakResidentSize(of pid: Int32) -> Bool {
        let descriptor = open("/proc/\(pid)/clear_refs", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return write(descriptor, "5", 1) == 1
    }
}

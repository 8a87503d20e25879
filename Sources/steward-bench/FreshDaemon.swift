#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import StewardHarness
import Synchronization

/// A `stewardd` started on a sandbox of its own, so its store is empty, and stopped and removed
/// when the benchmark is done with it.
enum FreshDaemon {
    /// Starts the daemon, waits for `READY=1`, hands it to `body` with the monotonic microsecond it
    /// became ready, then stops it with SIGTERM and removes its sandbox. A daemon that does not get
    /// ready, fails a call or exits badly on SIGTERM is a ``BenchFailure`` carrying its log.
    static func run<T>(_ body: (DaemonProcess, _ readyAt: UInt64) throws -> T) throws -> T {
        try checkBinaries()
        let sandbox: Sandbox
        do { sandbox = try Sandbox(prefix: "steward-bench") }
        catch { throw BenchFailure("could not make a scratch folder for stewardd: \(error)") }
        Leftovers.shared.add(sandbox)
        defer { Leftovers.shared.remove(sandbox) }
        let daemon: DaemonProcess
        do { daemon = try DaemonProcess(sandbox: sandbox) }
        catch { throw BenchFailure("could not start \(Binaries.stewardd): \(error)") }
        Leftovers.shared.add(daemon)
        let outcome = Result { try body(daemon, daemon.waitUntilReady()) }
        let wasRunning = daemon.child.isRunning
        let status = Leftovers.shared.stop(daemon)
        switch outcome {
        case .failure(is SandboxError):  // Only waitUntilReady throws it.
            let why = wasRunning ? "did not send READY=1 in time" : "exited with status \(status) before sending READY=1"
            throw BenchFailure("stewardd \(why)", daemonLog: daemon.log)
        case .failure(let failure as BenchFailure):
            throw failure
        case .failure(let error):
            throw BenchFailure("\(error)", daemonLog: daemon.log)
        case .success(let value):
            guard status == 0 else {
                throw BenchFailure("stewardd exited with status \(status) on SIGTERM instead of 0", daemonLog: daemon.log)
            }
            return value
        }
    }

    private static func checkBinaries() throws {
        for file in [Binaries.stewardd, Binaries.probeModule] where !FileManager.default.fileExists(atPath: file) {
            throw BenchFailure("\(file) does not exist; build every product first (swift build, or swift build -c release), "
                + "or point STEWARD_BIN_DIR at the folder that holds stewardd")
        }
    }
}

/// The sandboxes this process made and the daemons running in them, so that Ctrl-C or SIGTERM
/// stops them and removes the folders instead of leaving them behind.
///
/// Every stop and removal happens under one lock: the signal handler waits for one in progress
/// on the main thread, and the main thread never races the handler once it has begun.
final class Leftovers: Sendable {
    static let shared = Leftovers()

    private struct Entry: Sendable {
        var sandbox: Sandbox
        var daemon: DaemonProcess?
    }

    private let entries = Mutex<[String: Entry]>([:])

    func add(_ sandbox: Sandbox) {
        entries.withLock { $0[sandbox.root] = Entry(sandbox: sandbox) }
    }

    func add(_ daemon: DaemonProcess) {
        entries.withLock { $0[daemon.sandbox.root]?.daemon = daemon }
    }

    /// SIGTERM, and waits; returns the daemon's exit status. Its sandbox stays for its log.
    func stop(_ daemon: DaemonProcess) -> Int32 {
        entries.withLock { entries in
            entries[daemon.sandbox.root]?.daemon = nil
            return daemon.stop()
        }
    }

    func remove(_ sandbox: Sandbox) {
        entries.withLock { entries in
            entries[sandbox.root] = nil
            sandbox.remove()
        }
    }

    /// On SIGINT or SIGTERM, stops every daemon, removes every sandbox and exits with 128 + the
    /// signal. Keep the returned sources for as long as the process runs.
    static func cleanUpOnSignals() -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: "steward-bench.signals")
        return [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { shared.removeAllAndExit(128 + number) }
            source.resume()
            return source
        }
    }

    /// Exits while still holding the lock, so the main thread stops and removes nothing more.
    private func removeAllAndExit(_ status: Int32) -> Never {
        entries.withLock { entries -> Never in
            for entry in entries.values {
                entry.daemon?.stop()
                entry.sandbox.remove()
            }
            exit(status)
        }
    }
}

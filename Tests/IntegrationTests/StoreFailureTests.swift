#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardHarness
import Testing

/// A store that cannot be used safely stops the daemon with exit 78 and a clear message; it is
/// never re-created or overwritten.
@Suite struct StoreFailureTests {
    /// A sandbox whose store was made by one clean start and stop.
    func sandboxWithStore() throws -> Sandbox {
        let sandbox = try Sandbox(roles: People.roles)
        let daemon = try DaemonProcess(sandbox: sandbox)
        try daemon.waitUntilReady()
        #expect(daemon.stop() == 0)
        return sandbox
    }

    func start(_ sandbox: Sandbox) throws -> (status: Int32, log: String) {
        let daemon = try DaemonProcess(sandbox: sandbox)
        let status = daemon.waitForExit()
        daemon.notify.close()
        return (status, daemon.log)
    }

    @Test func aLockedDatabaseExits78() throws {
        let sandbox = try sandboxWithStore()
        defer { sandbox.remove() }
        // A sqlite3 shell holding a write transaction, as an operator poking at the file might.
        let ends = try closeOnExecPipe()
        let shell = try ChildProcess(executable: "/usr/bin/sqlite3", arguments: [sandbox.databasePath],
                                     environment: [:], stdin: ends.0)
        close(ends.0)
        let statements = Array("BEGIN EXCLUSIVE;\nINSERT INTO settings VALUES('x','y');\n".utf8)
        _ = statements.withUnsafeBytes { write(ends.1, $0.baseAddress, $0.count) }
        usleep(300_000)
        let (status, log) = try start(sandbox)
        close(ends.1)
        shell.wait()
        #expect(status == 78, "\(log)")
        #expect(log.contains("the database is locked by another process"))
        #expect(try sqlite(sandbox.databasePath, "SELECT count(*) FROM audit_log").stdout == "2\n")
    }

    @Test func aDamagedDatabaseExits78AndIsLeftAsItWas() throws {
        let sandbox = try sandboxWithStore()
        defer { sandbox.remove() }
        try? FileManager.default.removeItem(atPath: sandbox.databasePath + "-wal")
        let garbage = Data((0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try garbage.write(to: URL(fileURLWithPath: sandbox.databasePath))
        let (status, log) = try start(sandbox)
        #expect(status == 78, "\(log)")
        #expect(log.contains("damaged or is not a Steward database"))
        #expect(FileManager.default.contents(atPath: sandbox.databasePath) == garbage)
    }

    @Test func aDatabaseFromANewerStewardExits78() throws {
        let sandbox = try sandboxWithStore()
        defer { sandbox.remove() }
        #expect(try sqlite(sandbox.databasePath, "PRAGMA user_version=999").status == 0)
        let (status, log) = try start(sandbox)
        #expect(status == 78, "\(log)")
        #expect(log.contains("written by a newer Steward (schema 999"))
    }

    @Test func aSecondDaemonOnTheSameStateDirectoryExits78() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let second = try DaemonProcess(sandbox: running.sandbox, arguments: [
            "--config", running.sandbox.configPath, "--socket", running.sandbox.root + "/second.sock",
        ])
        let status = second.waitForExit()
        #expect(status == 78)
        #expect(second.log.contains("another stewardd is using the state directory"))
        #expect(try running.ctl("status").status == 0)
    }
}

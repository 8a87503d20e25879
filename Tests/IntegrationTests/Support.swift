#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardHarness
import Testing

/// Unix credentials the role tests run stewardctl with, through setpriv. The numeric gids are
/// mapped to roles in each sandbox's steward.conf; they need not exist in /etc/group.
enum People {
    static let operatorGID: UInt32 = 41_001
    static let auditorGID: UInt32 = 41_002
    static let stewardGID: UInt32 = 41_003
    static let roles = ["operator": "\(operatorGID)", "auditor": "\(auditorGID)", "steward": "\(stewardGID)"]

    static let anOperator = (uid: UInt32(40_001), gid: UInt32(40_001), groups: [operatorGID])
    static let anAuditor = (uid: UInt32(40_002), gid: UInt32(40_002), groups: [auditorGID])
    static let aSteward = (uid: UInt32(40_003), gid: UInt32(40_003), groups: [stewardGID])
    static let nobody = (uid: UInt32(65_534), gid: UInt32(65_534), groups: [UInt32]())
}

/// Tests that change uids need root (CI runs as root).
let isRoot = geteuid() == 0

/// A daemon on a fresh sandbox, ready, with role groups mapped; stopped and removed by `finish()`.
final class RunningDaemon {
    let sandbox: Sandbox
    let daemon: DaemonProcess

    init(roles: [String: String] = People.roles, environment: [String: String] = [:]) throws {
        sandbox = try Sandbox(roles: roles)
        daemon = try DaemonProcess(sandbox: sandbox, environment: environment)
        try daemon.waitUntilReady()
    }

    /// Runs stewardctl against this daemon, as root or as `user`.
    func ctl(_ arguments: String..., as user: (uid: UInt32, gid: UInt32, groups: [UInt32])? = nil) throws -> CommandResult {
        try runCommand(Binaries.stewardctl, ["--socket", sandbox.socketPath] + arguments, asUser: user)
    }

    /// Sends one raw line and returns the reply line, decoded.
    func rawCall(_ line: String) throws -> ControlReply {
        let client = try daemon.client()
        try client.sendLine(Array((line + "\n").utf8))
        return try ControlCoding.decodeLine(ControlReply.self, from: client.readLine())
    }

    func call<P: Decodable>(_ method: ControlMethod, _ type: P.Type, parameters: JSONValue? = nil) throws -> P {
        let reply = try daemon.client().call(ControlRequest(method: method.rawValue, parameters: parameters))
        if let error = reply.error { throw SandboxError("\(method.rawValue) failed: \(error) \(reply.errorMessage ?? "")") }
        return try reply.decode(type)
    }

    func auditEntries() throws -> [AuditRecord] {
        try call(.auditList, AuditPage.self).entries
    }

    /// Stops the daemon, expects exit 0, removes the sandbox.
    func finish() {
        let status = daemon.stop()
        #expect(status == 0, "stewardd exited \(status); log:\n\(daemon.log)")
        sandbox.remove()
    }
}

/// Runs the sqlite3 CLI on a database.
func sqlite(_ database: String, _ sql: String) throws -> CommandResult {
    try runCommand("/usr/bin/sqlite3", [database, sql])
}

/// The repository's root, from this file's place in it.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardHarness
import Testing

/// Bad input on the control socket gets a named error, and the daemon goes on serving.
@Suite struct ControlSocketTests {
    @Test func malformedJSONIsAnInvalidRequest() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        #expect(try running.rawCall("{not json").error == "steward.InvalidRequest")
        #expect(try running.rawCall("[1,2]").error == "steward.InvalidRequest")
        #expect(try running.rawCall(#"{"parameters":{}}"#).error == "steward.InvalidRequest")
        #expect(try running.ctl("status").status == 0)
    }

    @Test func anUnknownMethodIsNamed() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let reply = try running.rawCall(#"{"method":"steward.Service.Explode"}"#)
        #expect(reply.error == "steward.MethodNotFound")
        #expect(reply.errorMessage?.contains("steward.Service.Explode") == true)
    }

    @Test func wrongParametersAreNamed() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let unknown = try running.rawCall(#"{"method":"steward.Service.Status","parameters":{"verbose":true}}"#)
        #expect(unknown.error == "steward.InvalidParameter")
        #expect(unknown.errorMessage?.contains("unknown parameter 'verbose'") == true)
        let wrongType = try running.rawCall(#"{"method":"steward.Audit.List","parameters":{"limit":"ten"}}"#)
        #expect(wrongType.error == "steward.InvalidParameter")
        #expect(wrongType.errorMessage?.contains("'limit' has the wrong type") == true)
        let notObject = try running.rawCall(#"{"method":"steward.Audit.List","parameters":[1]}"#)
        #expect(notObject.error == "steward.InvalidParameter")
    }

    @Test func anOverLongLineIsRefusedAndTheConnectionClosed() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let client = try running.daemon.client()
        // Send more than 1 MiB without a newline; the daemon answers before reading it all.
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024)
        var sent = 0
        do {
            while sent <= ControlCoding.maximumLineLength + chunk.count {
                try client.sendLine(chunk)
                sent += chunk.count
            }
        } catch {
            // The daemon may close before all of it is sent.
        }
        let reply = try ControlCoding.decodeLine(ControlReply.self, from: client.readLine())
        #expect(reply.error == "steward.RequestTooLong")
        #expect(throws: (any Error).self) { _ = try client.readLine() }
        #expect(try running.ctl("status").status == 0)
    }

    @Test func aClientThatDisconnectsMidLineLeavesTheDaemonUnaffected() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        for _ in 0..<20 {
            let client = try running.daemon.client()
            try client.sendLine(Array(#"{"method":"steward.Serv"#.utf8))
        }
        #expect(try running.ctl("status").status == 0)
        #expect(try running.call(.status, ServiceStatus.self).state == "running")
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let client = try running.daemon.client()
        let lines = [#"{"method":"steward.Service.GetInfo"}"#, "oops", #"{"method":"steward.Audit.Verify"}"#, #"{"method":"x"}"#]
        try client.sendLine(Array((lines.joined(separator: "\n") + "\n").utf8))
        let replies = try (0..<4).map { _ in try ControlCoding.decodeLine(ControlReply.self, from: client.readLine()) }
        #expect(replies.map(\.error) == [nil, "steward.InvalidRequest", nil, "steward.MethodNotFound"])
        #expect(try replies[0].decode(ServiceInfo.self).product == "Steward")
        #expect(try replies[2].decode(AuditVerifyResult.self).intact)
    }

    @Test func aClientThatHalfClosesStillGetsItsReplies() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let result = try runCommand("/usr/bin/socat", ["-t", "5", "-", "UNIX-CONNECT:" + running.sandbox.socketPath],
                                    input: #"{"method":"steward.Service.GetInfo"}"# + "\n" + #"{"method":"steward.Service.Status"}"# + "\n")
        #expect(result.stdout.split(separator: "\n").count == 2, "\(result.stdout) \(result.stderr)")
    }

    @Test func stewardctlExitCodesNameTheFailure() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        #expect(try running.ctl("status").status == 0)
        #expect(try running.ctl("frobnicate").status == 65)
        #expect(try running.ctl("audit", "--limit", "zero").status == 65)
        #expect(try runCommand(Binaries.stewardctl, ["--socket", running.sandbox.root + "/absent.sock", "status"]).status == 69)
        let viaEnvironment = try runCommand(Binaries.stewardctl, ["status", "--json"],
                                            environment: ["STEWARD_SOCKET": running.sandbox.socketPath])
        #expect(viaEnvironment.status == 0)
        #expect(try JSONDecoder().decode(ServiceStatus.self, from: Data(viaEnvironment.stdout.utf8)).state == "running")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardHarness
import StewardTLS
import Testing

/// What the HTTPS server does with clients that break the rules, dawdle, crowd in, or are
/// there when it stops: each costs one connection, for a bounded time, and never the server.
@Suite struct ServerRobustnessTests {
    let pki: TestPKI
    init() throws { pki = try TestPKI.get() }

    // MARK: Malformed and oversized requests

    /// A request the parser refuses, named by the error it should meet.
    struct Refused: Sendable, CustomTestStringConvertible {
        var request: String
        var status: HTTPStatus
        var code: String
        var testDescription: String { code }
    }

    @Test(arguments: [
        Refused(request: "GET /x HTTP/1.1\nHost: localhost\nBad Header: y\n\n", status: .badRequest, code: "invalid-header"),
        Refused(request: "GARBAGE\n\n", status: .badRequest, code: "invalid-request-line"),
        Refused(request: "GET /x HTTP/1.1\nHost: localhost\nContent-Length: 3\nTransfer-Encoding: chunked\n\n",
                status: .badRequest, code: "conflicting-framing"),
        Refused(request: "GET /x HTTP/1.1\nHost: localhost\nX-Big: \(String(repeating: "b", count: 2048))\n\n",
                status: .requestHeaderFieldsTooLarge, code: "head-too-large"),
        Refused(request: "GET /\(String(repeating: "t", count: 600)) HTTP/1.1\nHost: localhost\n\n", status: .uriTooLong,
                code: "target-too-long"),
        Refused(request: "POST /upload HTTP/1.1\nHost: localhost\nContent-Length: 5000\n\n", status: .contentTooLarge,
                code: "body-too-large"),
    ])
    func aRequestTheParserRefusesIsAnsweredWithItsStatusAndTheConnectionCloses(refused: Refused) throws {
        let http = HTTPLimits(maximumTargetLength: 512, maximumHeadLength: 1024, maximumBodyLength: 4096)
        var limits = HTTPSServer.Limits.quick
        limits.http = http
        let server = try TestServer(limits: limits)
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send(refused.request)
        let result = try client.responses()
        #expect(result.responses.map(\.status) == [refused.status])
        #expect(result.responses.first?.closesConnection == true)
        #expect(isEnded(try result.end ?? client.end()))
        #expect(server.events.wait { $0.closings.count == 1 })
        #expect(server.events.closings.first?.reason == .malformedRequest)
        #expect(server.events.closings.first?.detail == refused.code)
        #expect(server.events.served.first?.error?.rawValue == refused.code)
    }

    /// curl sends the whole 2 MiB body; the server answers 413 at once and reads and drops the
    /// rest while it lingers, so curl sees the answer instead of a reset connection.
    @Test func aChunkedUploadOverTheLimitGets413() throws {
        var limits = HTTPSServer.Limits.quick
        limits.http.maximumBodyLength = 64 * 1024
        limits.lingerTimeout = .seconds(5)
        let server = try TestServer(limits: limits)
        let upload = pki.path("upload-\(UUID().uuidString).bin")
        try Data(repeating: 0x61, count: 2 * 1024 * 1024).write(to: URL(fileURLWithPath: upload))
        defer { try? FileManager.default.removeItem(atPath: upload) }
        let result = try curl(["--header", "Transfer-Encoding: chunked", "--header", "Expect:", "--data-binary", "@" + upload,
                               "--output", "/dev/null", "--write-out", "%{http_code}", "https://localhost:\(server.port)/upload"])
        #expect(result.stdout == "413", "\(result.stderr)")
    }

    /// Closing a socket with unread data makes the kernel reset the connection, which can throw
    /// away the answer before the client reads it. So after its last answer the server reads and
    /// drops what the client still sends, and the client's sending never meets a reset.
    @Test func afterRefusingAnUploadTheServerDropsTheRestOfItRatherThanResettingTheConnection() throws {
        var limits = HTTPSServer.Limits.quick
        limits.http.maximumBodyLength = 4096
        limits.lingerTimeout = .seconds(10)
        let server = try TestServer(limits: limits)
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("POST /upload HTTP/1.1\nHost: localhost\nContent-Length: 1048576\n\n")
        #expect(try client.responses(to: .post).responses.map(\.status) == [.contentTooLarge])
        #expect(try client.end() == .closed(.closeNotify))

        let body = String(repeating: "u", count: 1024 * 1024)
        #expect(try client.connection.send(body) == .done(body.utf8.count))
        shutdown(client.socket, Int32(SHUT_WR))
        #expect(server.events.wait { $0.closings.map(\.reason) == [.malformedRequest] })
    }

    @Test func aClientThatIsNotSpeakingTLSIsClosed() throws {
        let server = try TestServer()
        let socket = try #require(try connectLoopback(port: server.port))
        defer { close(socket) }
        _ = Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8).withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
        #expect(server.events.wait { $0.closings.map(\.reason) == [.handshakeFailed] })
        #expect(server.server.statistics.failedHandshakes == 1)
    }

    // MARK: Slow clients

    /// A stalled head or body gets 408 once the request timeout passes; meanwhile curl is served.
    @Test(arguments: [("head", "GET /x HTTP/1.1\nHost: localhost\nX-Slow: "),
                      ("body", "POST /upload HTTP/1.1\nHost: localhost\nContent-Length: 10\n\nabc")])
    func aStalledRequestGets408WhileOthersAreServed(stalling: String, partial: String) throws {
        var limits = HTTPSServer.Limits.quick
        limits.requestTimeout = .seconds(2)
        let server = try TestServer(limits: limits)
        let slow = try RawHTTPSClient.connected(port: server.port)
        let stalledAt = Date()
        try slow.send(partial)

        let other = try curl(["https://localhost:\(server.port)/x"])
        #expect(other.stdout == "routed /x\n", "\(other.stderr)")

        let result = try slow.responses()
        #expect(result.responses.map(\.status) == [.requestTimeout])
        #expect(Date().timeIntervalSince(stalledAt) > 1.5)
        #expect(isEnded(try result.end ?? slow.end()))
        #expect(server.events.wait { $0.closings.contains { $0.reason == .requestTimeout } })
        #expect(server.server.statistics.timeouts == 1)
    }

    @Test func aClientThatNeverStartsItsHandshakeIsCut() throws {
        let server = try TestServer()
        let socket = try #require(try connectLoopback(port: server.port))
        defer { close(socket) }
        #expect(server.events.wait { $0.closings.map(\.reason) == [.handshakeTimeout] })
        var byte: UInt8 = 0
        #expect(wait(for: socket, events: Int16(POLLIN), timeout: 5) && recv(socket, &byte, 1, 0) <= 0)
    }

    @Test func anIdleKeepAliveConnectionIsClosedWithCloseNotify() throws {
        let server = try TestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /x HTTP/1.1\nHost: localhost\n\n")
        #expect(try client.responses().responses.count == 1)
        #expect(try client.end() == .closed(.closeNotify))
        #expect(server.events.wait { $0.closings.map(\.reason) == [.idleTimeout] })
    }

    @Test func aClientThatDoesNotReadItsResponseIsCut() throws {
        let server = try TestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /large HTTP/1.1\nHost: localhost\n\n")
        #expect(server.events.wait { $0.closings.map(\.reason) == [.sendTimeout] })
        // The count drops once Dispatch has cancelled the socket's sources, a moment after the event.
        #expect(server.waitForOpenConnections(0))
    }

    // MARK: Connection limits

    @Test(arguments: [(2, 64, HTTPSServer.CloseReason.tooManyConnections), (64, 2, .tooManyConnectionsFromAddress)])
    func aConnectionOverALimitIsClosedAtOnceWhileTheOthersWork(
        total: Int, perAddress: Int, reason: HTTPSServer.CloseReason
    ) throws {
        var limits = HTTPSServer.Limits.quick
        limits.idleTimeout = .seconds(30)
        limits.maximumConnections = total
        limits.maximumConnectionsPerAddress = perAddress
        let server = try TestServer(limits: limits)
        let first = try RawHTTPSClient.connected(port: server.port)
        let second = try RawHTTPSClient.connected(port: server.port)

        let third = try RawHTTPSClient(port: server.port)
        #expect(isEnded(try third.handshake()))
        #expect(server.events.refusals == [reason])

        for client in [first, second] {
            try client.send("GET /x HTTP/1.1\nHost: localhost\n\n")
            #expect(try client.responses().responses.map(\.status) == [200])
        }
        #expect(server.server.statistics.refusedConnections == 1)
        #expect(server.server.statistics.openConnections == 2)
    }

    @Test func aSlotIsFreeAgainOnceItsConnectionCloses() throws {
        var limits = HTTPSServer.Limits.quick
        limits.maximumConnectionsPerAddress = 1
        let server = try TestServer(limits: limits)
        do {
            let first = try RawHTTPSClient.connected(port: server.port)
            try first.send("GET /x HTTP/1.1\nHost: localhost\nConnection: close\n\n")
            #expect(try first.responses().responses.count == 1)
        }
        #expect(server.waitForOpenConnections(0))
        let next = try curl(["https://localhost:\(server.port)/x"])
        #expect(next.stdout == "routed /x\n", "\(next.stderr)")
    }

    // MARK: Stopping
    // A request is under way once the server has answered its head with 100 Continue.

    @Test func stopFinishesTheRequestUnderWayClosesIdleConnectionsAndRefusesNewOnes() throws {
        var limits = HTTPSServer.Limits.quick
        limits.idleTimeout = .seconds(30)
        limits.requestTimeout = .seconds(30)
        let server = try TestServer(limits: limits)
        let idle = try RawHTTPSClient.connected(port: server.port)
        let busy = try RawHTTPSClient.connected(port: server.port)
        try busy.startUpload(length: 10)
        _ = try busy.connection.send("hello")

        let stopped = DispatchSemaphore(value: 0)
        server.server.stop(gracePeriod: .seconds(20)) { stopped.signal() }
        #expect(try connectLoopback(port: server.port) == nil)
        #expect(try idle.end() == .closed(.closeNotify))

        _ = try busy.connection.send("world")
        let answer = try busy.responses(to: .post)
        #expect(answer.responses.map(\.body) == [Array("received 10 bytes\n".utf8)])
        #expect(answer.responses.first?.closesConnection == true)
        #expect(stopped.wait(timeout: .now() + 15) == .success)
        #expect(server.events.closings.map(\.reason) == [.serverStopping, .serverStopping])
    }

    @Test func stopClosesWhatIsLeftOnceTheGracePeriodEnds() throws {
        var limits = HTTPSServer.Limits.quick
        limits.requestTimeout = .seconds(30)
        let server = try TestServer(limits: limits)
        let stalled = try RawHTTPSClient.connected(port: server.port)
        try stalled.startUpload(length: 10)
        let started = Date()
        #expect(server.stop(gracePeriod: .milliseconds(300)))
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(isEnded(try stalled.end()))
        #expect(server.events.closings.first?.detail == "the stop grace period ended")
    }
}

extension RawHTTPSClient {
    /// Sends the head of a POST /upload whose body is `length` bytes, and waits until the server
    /// has read it and asks for the body.
    func startUpload(length: Int) throws {
        try send("POST /upload HTTP/1.1\nHost: localhost\nContent-Length: \(length)\nExpect: 100-continue\n\n")
        let interim = try connection.receive(until: "\r\n\r\n")
        guard interim.text == "HTTP/1.1 100 Continue\r\n\r\n" else { throw SandboxError("no 100 Continue: \(interim)") }
    }
}

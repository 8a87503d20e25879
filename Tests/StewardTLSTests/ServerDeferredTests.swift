#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import StewardHarness
import StewardTLS
import Synchronization
import Testing

/// Deferred handlers: slow work runs on a queue of its own and answers later, while the
/// connection keeps its responses in order and the event loop goes on serving everyone else.
@Suite struct ServerDeferredTests {
    // MARK: Answering later

    @Test func aDeferredHandlerAnswersFromItsOwnQueueAfterADelay() throws {
        let server = try DeferredTestServer()
        let result = try curl(["--include", "https://localhost:\(server.port)/later/one"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(result.stdout.contains("\r\nDate: "))
        #expect(result.stdout.hasSuffix("\r\n\r\nlater /later/one\n"))
        #expect(server.events.wait { $0.served.map(\.status) == [200] })
        let summary = try #require(server.events.served.first)
        #expect(summary.path == "/later/one" && summary.bytesSent == result.stdout.utf8.count)
        #expect(server.log.entries == ["call /later/one", "respond /later/one"])
    }

    /// The second deferred handler is not even called until the first has answered, and the
    /// synchronous request between them waits its turn.
    @Test func pipelinedDeferredAndImmediateRequestsAreAnsweredInOrder() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /later/a HTTP/1.1\nHost: localhost\n\nGET /echo/b HTTP/1.1\nHost: localhost\n\n"
                            + "GET /later/c HTTP/1.1\nHost: localhost\nConnection: close\n\n")
        let result = try client.responses(3)
        #expect(result.responses.map { String(decoding: $0.body, as: UTF8.self) } == ["later /later/a\n", "path=/echo/b\n", "later /later/c\n"])
        #expect(result.responses.map(\.closesConnection) == [false, false, true])
        #expect(try client.end() == .closed(.closeNotify))
        #expect(server.log.entries == ["call /later/a", "respond /later/a", "call /later/c", "respond /later/c"])
        #expect(server.events.wait { $0.closings.map(\.reason) == [.finished] })
        #expect(server.events.closings.first?.requests == 3)
        #expect(server.events.served.map(\.path) == ["/later/a", "/echo/b", "/later/c"])
    }

    @Test func headOnADeferredGetRouteGetsTheHeadOnly() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("HEAD /later/h HTTP/1.1\nHost: localhost\n\nGET /x HTTP/1.1\nHost: localhost\n\n")
        let head = try #require(try client.responses(to: .head).responses.first)
        #expect(head.status == .ok && head.body.isEmpty)
        #expect(head.headers["Content-Length"] == String("later /later/h\n".utf8.count))
        let next = try client.responses(to: .get).responses
        #expect(next.map(\.body) == [Array("routed /x\n".utf8)])
    }

    @Test func aSecondResponseFromTheSameHandlerIsDropped() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /twice HTTP/1.1\nHost: localhost\n\nGET /x HTTP/1.1\nHost: localhost\nConnection: close\n\n")
        let result = try client.responses(3)
        #expect(result.responses.map { String(decoding: $0.body, as: UTF8.self) } == ["first\n", "routed /x\n"])
        #expect(isEnded(result.end))
        #expect(server.events.wait { $0.closings.count == 1 })
        #expect(server.server.statistics.responses == 2)
        #expect(server.events.closings.first?.requests == 2)
    }

    // MARK: The event loop stays free

    /// Everything runs on one event loop; the slow connection's work blocks only its own queue
    /// for a second, and is let go only once the other clients have had their answers.
    @Test func otherClientsAreServedWhileAConnectionWaitsForItsHandler() throws {
        let server = try DeferredTestServer()
        let slow = try RawHTTPSClient.connected(port: server.port)
        try slow.send("GET /held/slow HTTP/1.1\nHost: localhost\n\n")
        #expect(server.held.waitUntilCalled())

        for index in 0..<3 {
            let other = try curl(["https://localhost:\(server.port)/echo/\(index)"])
            #expect(other.stdout == "path=/echo/\(index)\n", "\(other.stderr)")
        }
        let others = try RawHTTPSClient.connected(port: server.port)
        try others.send("GET /later/quick HTTP/1.1\nHost: localhost\n\n")
        #expect(try others.responses().responses.map(\.body) == [Array("later /later/quick\n".utf8)])
        #expect(!server.events.served.contains { $0.path == "/held/slow" })

        server.held.finish()
        let answer = try slow.responses()
        #expect(answer.responses.map(\.body) == [Array("held /held/slow\n".utf8)])
        #expect(answer.responses.first?.closesConnection == false)
        #expect(server.events.served.map(\.path) == ["/echo/0", "/echo/1", "/echo/2", "/later/quick", "/held/slow"])
    }

    /// A client that sends its requests and close_notify at once, while the first one's handler
    /// works, still gets every answer, in order, and then the server's close: the server reads
    /// no further than one request ahead while it waits, so the end is read in its turn.
    @Test func aClientThatEndsWhileAHandlerWorksGetsEveryAnswerBeforeTheClose() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /held/first HTTP/1.1\nHost: localhost\n\nGET /x HTTP/1.1\nHost: localhost\n\n")
        #expect(client.connection.shutdown() == .done(0), "close_notify sent; the client can still read")
        #expect(server.held.waitUntilCalled())
        Thread.sleep(forTimeInterval: 0.2)
        server.held.finish()
        let answers = try client.responses(2)
        #expect(answers.responses.map { String(decoding: $0.body, as: UTF8.self) } == ["held /held/first\n", "routed /x\n"])
        #expect(isEnded(try client.end()))
        #expect(server.events.wait { $0.closings.map(\.reason) == [.clientClosed] })
    }

    /// Behind a request whose handler works, the server reads one request ahead and then stops:
    /// the client's pipelined flood backs up in the sockets, not in the server's memory.
    @Test func whileAHandlerWorksTheServerStopsReadingOneRequestAhead() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /held/first HTTP/1.1\nHost: localhost\n\n")
        #expect(server.held.waitUntilCalled())

        let chunk = Array(String(repeating: "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n", count: 2048).utf8)
        let flood = 32 * 1024 * 1024
        var written = 0
        while written < flood, case .done(let count)? = try? drive(client.connection, timeout: 2, { client.connection.write(chunk) }) {
            written += count
        }
        #expect(written < flood / 2)

        server.held.finish()
        let answers = try client.responses(2)
        #expect(answers.responses.map { String(decoding: $0.body, as: UTF8.self) } == ["held /held/first\n", "routed /x\n"])
    }

    /// An upload's head that arrived while the handler before it worked (longer than the 1 s
    /// request timeout) gets its 100 Continue in its turn and a full timeout for its body.
    @Test func anUploadWaitingBehindADeferredResponseIsAskedForItsBodyInItsTurn() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /held/first HTTP/1.1\nHost: localhost\n\n"
                            + "POST /upload HTTP/1.1\nHost: localhost\nContent-Length: 5\nExpect: 100-continue\n\n")
        #expect(server.held.waitUntilCalled())
        Thread.sleep(forTimeInterval: 1.5)
        server.held.finish()
        let first = try client.connection.receive(until: "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(first.text.hasSuffix("\r\n\r\nheld /held/first\nHTTP/1.1 100 Continue\r\n\r\n"), "\(first.text)")
        Thread.sleep(forTimeInterval: 0.3)
        _ = try client.connection.send("hello")
        let upload = try client.responses(to: .post)
        #expect(upload.responses.map { String(decoding: $0.body, as: UTF8.self) } == ["received 5 bytes\n"])
    }

    // MARK: Ends

    @Test func aClientThatLeavesWhileItsHandlerWorksCostsNothingWhenTheAnswerComes() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /held/gone HTTP/1.1\nHost: localhost\n\n")
        #expect(server.held.waitUntilCalled())
        // Gone without close_notify, as a client that crashes or gives up goes.
        shutdown(client.socket, Int32(SHUT_WR))
        #expect(server.events.wait { $0.closings.map(\.reason) == [.clientDisconnected] })
        server.held.finish()
        #expect(server.held.waitUntilResponded())

        let next = try curl(["https://localhost:\(server.port)/x"])
        #expect(next.stdout == "routed /x\n", "\(next.stderr)")
        #expect(server.waitForOpenConnections(0))
        let statistics = server.server.statistics
        #expect(statistics.responses == 1 && statistics.timeouts == 0 && statistics.acceptedConnections == 2)
        #expect(server.events.served.map(\.path) == ["/x"])
        #expect(server.events.closings.first?.requests == 0)
    }

    /// The handler keeps its responder and never uses it. The idle and request timeouts (1 s)
    /// are shorter than the response timeout and must not cut in first; a response that comes
    /// after the 503 goes nowhere.
    @Test func aHandlerThatNeverRespondsIsAnsweredFor503AndTheConnectionCloses() throws {
        var limits = HTTPSServer.Limits.quick
        limits.deferredResponseTimeout = .milliseconds(1500)
        let server = try DeferredTestServer(limits: limits)
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /never HTTP/1.1\nHost: localhost\n\nGET /x HTTP/1.1\nHost: localhost\n\n")
        let result = try client.responses(2)
        #expect(result.responses.map(\.status) == [.serviceUnavailable])
        #expect(result.responses.first?.headers["Retry-After"] == "5")
        #expect(result.responses.first?.closesConnection == true)
        #expect(isEnded(result.end))
        #expect(server.events.wait { $0.closings.map(\.reason) == [.responseTimeout] })

        server.forgotten.respondToAll(.text(.ok, "too late\n"))
        #expect(server.server.statistics.timeouts == 1)
        #expect(server.server.statistics.responses == 1)
        #expect(server.events.served.map(\.status) == [503])
    }

    @Test func stopWaitsForTheHandlerAndSendsItsResponseWithClose() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /held/stopping HTTP/1.1\nHost: localhost\n\n")
        #expect(server.held.waitUntilCalled())

        let stopped = DispatchSemaphore(value: 0)
        server.server.stop(gracePeriod: .seconds(20)) { stopped.signal() }
        server.held.finish()
        let answer = try client.responses()
        #expect(answer.responses.map(\.body) == [Array("held /held/stopping\n".utf8)])
        #expect(answer.responses.first?.closesConnection == true)
        #expect(stopped.wait(timeout: .now() + 15) == .success)
        #expect(server.events.closings.map(\.reason) == [.serverStopping])
    }

    @Test func stopEndsAConnectionWhoseHandlerNeverRespondsOnceTheGracePeriodEnds() throws {
        let server = try DeferredTestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /never HTTP/1.1\nHost: localhost\n\n")
        #expect(server.forgotten.waitUntilHeld())
        #expect(server.stop(gracePeriod: .milliseconds(300)))
        #expect(isEnded(try client.end()))
        #expect(server.events.closings.first?.detail == "the stop grace period ended")
    }

    // MARK: Routing

    @Test func deferredRoutesFollowTheSameRoutingRules() {
        var router = HTTPRouter()
        router.register("/token", methods: [.post], deferred: { _, _, responder in responder.respond(.text(.ok, "token\n")) })
        router.register("/token/info", methods: [.get]) { _, _ in .text(.ok, "info\n") }
        func routing(_ method: HTTPMethod, _ target: String) -> String {
            switch router.route(HTTPRequest(method: method, target: target, headers: ["Host": "h"]), context: HTTPRequestContext()) {
            case .response(let response): "\(response.status.code) \(response.headers["Allow"] ?? "")"
            case .deferred: "deferred"
            }
        }
        #expect(routing(.post, "/token") == "deferred")
        #expect(routing(.post, "/token/x") == "deferred")
        #expect(routing(.get, "/token") == "405 POST")
        #expect(routing(.post, "/token/info") == "405 GET, HEAD")
        #expect(routing(.post, "/token/%2e%2e/token") == "400 ")
        #expect(routing(.post, "/tokens") == "404 ")
        let direct = router.respond(to: HTTPRequest(method: .post, target: "/token"), context: HTTPRequestContext())
        #expect(direct.status == .internalServerError)
    }
}

// MARK: Support

/// What the deferred handlers did, in order.
final class CallLog: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var entries: [String] { lines.withLock { $0 } }
}

/// A deferred route's slow work, on a queue of its own: it blocks that queue for a second (as
/// hashing a secret would), then waits for the test to let it finish.
final class HeldWork: Sendable {
    private let queue = DispatchQueue(label: "steward.test.held-work")
    private let called = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private let responded = DispatchSemaphore(value: 0)

    var handler: HTTPDeferredHandler {
        { [self] request, _, responder in
            called.signal()
            queue.async { [self] in
                usleep(1_000_000)
                _ = released.wait(timeout: .now() + 20)
                responder.respond(.text(.ok, "held \(request.path)\n"))
                responded.signal()
            }
        }
    }

    func waitUntilCalled() -> Bool { called.wait(timeout: .now() + 15) == .success }
    func finish() { released.signal() }
    func waitUntilResponded() -> Bool { responded.wait(timeout: .now() + 25) == .success }
}

/// Responders kept by a handler that never uses them itself.
final class ForgottenResponders: Sendable {
    private let responders = Mutex<[HTTPResponder]>([])
    private let held = DispatchSemaphore(value: 0)

    var handler: HTTPDeferredHandler {
        { [self] _, _, responder in
            responders.withLock { $0.append(responder) }
            held.signal()
        }
    }

    func waitUntilHeld() -> Bool { held.wait(timeout: .now() + 15) == .success }
    func respondToAll(_ response: HTTPResponse) { responders.withLock { $0 }.forEach { $0.respond(response) } }
}

/// An HTTPSServer like ``TestServer``, serving ``testRouter()`` and these deferred routes, on
/// one event loop so that every connection shares it:
/// - `/later` answers from a queue of its own after 200 ms;
/// - `/held` answers once ``HeldWork`` is let finish;
/// - `/never` keeps its responder in ``ForgottenResponders``;
/// - `/twice` answers `first`, then `second`.
final class DeferredTestServer {
    private let base: TestServer
    let log = CallLog()
    let held = HeldWork()
    let forgotten = ForgottenResponders()
    var server: HTTPSServer { base.server }
    var events: EventRecorder { base.events }
    var port: UInt16 { base.port }

    /// One event loop, so a handler that blocked it would block every client.
    init(limits: HTTPSServer.Limits = .quick) throws {
        var router = testRouter()
        let work = DispatchQueue(label: "steward.test.later-work")
        router.register("/later", methods: [.get], deferred: { [log] request, _, responder in
            log.add("call \(request.path)")
            work.asyncAfter(deadline: .now() + .milliseconds(200)) {
                log.add("respond \(request.path)")
                responder.respond(.text(.ok, "later \(request.path)\n"))
            }
        })
        router.register("/held", methods: [.get], deferred: held.handler)
        router.register("/never", methods: [.get], deferred: forgotten.handler)
        router.register("/twice", methods: [.get], deferred: { _, _, responder in
            work.async {
                responder.respond(.text(.ok, "first\n"))
                responder.respond(.text(.ok, "second\n"))
            }
        })
        base = try TestServer(limits: limits, router: router, loopCount: 1)
    }

    func stop(gracePeriod: Duration? = nil, timeout: TimeInterval = 15) -> Bool {
        base.stop(gracePeriod: gracePeriod, timeout: timeout)
    }

    func waitForOpenConnections(_ count: Int, timeout: TimeInterval = 15) -> Bool {
        base.waitForOpenConnections(count, timeout: timeout)
    }
}

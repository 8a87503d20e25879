#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import StewardHarness
import StewardTLS
import Synchronization
import Testing

/// Timeouts short enough that a test sees them pass in a second or two.
extension HTTPSServer.Limits {
    static var quick: HTTPSServer.Limits {
        HTTPSServer.Limits(handshakeTimeout: .seconds(1), idleTimeout: .seconds(1), requestTimeout: .seconds(1),
                           sendTimeout: .seconds(1), lingerTimeout: .milliseconds(500), stopGracePeriod: .seconds(5))
    }
}

/// A response body large enough that it cannot fit in the socket buffers at once.
let largeBody = [UInt8](repeating: UInt8(ascii: "s"), count: 8 * 1024 * 1024)

/// The routes the server tests serve.
func testRouter() -> HTTPRouter {
    var router = HTTPRouter()
    router.register("/x", methods: [.get]) { request, _ in .text(.ok, "routed \(request.path)\n") }
    router.register("/echo", methods: [.get]) { request, _ in .text(.ok, "path=\(request.path)\n") }
    router.register("/whoami", methods: [.get]) { _, context in
        .text(.ok, """
            version=\(context.tlsVersion ?? "-")
            cipher=\(context.cipherSuite ?? "-")
            client=\(context.clientAddress ?? "-")
            subject=\(context.clientCertificateSubject ?? "-")
            spki=\(context.clientCertificateSPKISHA256 ?? "-")

            """)
    }
    router.register("/upload", methods: [.post]) { request, _ in .text(.ok, "received \(request.body.count) bytes\n") }
    router.register("/large", methods: [.get]) { _, _ in HTTPResponse(body: largeBody) }
    return router
}

/// Everything a server reported, for tests to wait on.
final class EventRecorder: Sendable {
    private let events = Mutex<[HTTPSServer.Event]>([])

    func record(_ event: HTTPSServer.Event) {
        events.withLock { $0.append(event) }
    }

    var all: [HTTPSServer.Event] { events.withLock { $0 } }

    var accepted: Int {
        all.filter { if case .accepted = $0 { return true } else { return false } }.count
    }

    var refusals: [HTTPSServer.CloseReason] {
        all.compactMap { if case .refused(_, let reason) = $0 { return reason } else { return nil } }
    }

    var closings: [HTTPSServer.ConnectionSummary] {
        all.compactMap { if case .closed(let summary) = $0 { return summary } else { return nil } }
    }

    var served: [HTTPSServer.RequestSummary] {
        all.compactMap { if case .served(let summary) = $0 { return summary } else { return nil } }
    }

    /// Waits until `condition` holds for the recorder; false after `timeout`.
    func wait(timeout: TimeInterval = 15, until condition: (EventRecorder) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(self) { return true }
            usleep(10_000)
        }
        return condition(self)
    }
}

/// An HTTPSServer on a port of 127.0.0.1 the kernel chose, on two event loops of its own,
/// serving ``testRouter()``. Stopped when the test lets go of it.
final class TestServer {
    let server: HTTPSServer
    let contexts: TLSServerContextHolder
    let events = EventRecorder()
    var port: UInt16 { server.port }

    init(_ context: TLSServerContext? = nil, limits: HTTPSServer.Limits = .quick, address: String = "127.0.0.1:0",
         router: HTTPRouter = testRouter(), loopCount: Int = 2) throws {
        signal(SIGPIPE, SIG_IGN)
        let pki = try TestPKI.get()
        contexts = TLSServerContextHolder(try context ?? TLSServerContext(certificate: pki.server))
        let loops = (0..<loopCount).map { DispatchQueue(label: "steward.test.loop.\($0)") }
        server = try HTTPSServer(address: HTTPSServer.Address(parsing: address), contexts: contexts, router: router,
                                 limits: limits, loops: loops, events: events.record)
        server.start()
    }

    deinit {
        server.stop(gracePeriod: .zero)
    }

    /// Stops the server and waits until every connection has closed; false after `timeout`.
    func stop(gracePeriod: Duration? = nil, timeout: TimeInterval = 15) -> Bool {
        let stopped = DispatchSemaphore(value: 0)
        server.stop(gracePeriod: gracePeriod) { stopped.signal() }
        return stopped.wait(timeout: .now() + timeout) == .success
    }

    /// The open connection count once it settles at `count`; false after `timeout`.
    func waitForOpenConnections(_ count: Int, timeout: TimeInterval = 15) -> Bool {
        events.wait(timeout: timeout) { _ in server.statistics.openConnections == count }
    }
}

// MARK: curl

/// Runs curl against the test CA; `arguments` name the URLs and options. Proxies from the
/// environment are ignored.
func curl(_ arguments: [String], timeout: TimeInterval = 30) throws -> CommandResult {
    let pki = try TestPKI.get()
    return try runCommand("/usr/bin/curl", ["--silent", "--show-error", "--noproxy", "*", "--cacert", pki.caFile,
                                            "--max-time", String(Int(timeout))] + arguments, timeout: timeout + 5)
}

// MARK: A raw HTTPS client

/// A Swift TLS client on a real socket, for requests curl will not send: malformed, partial,
/// pipelined, stalled.
final class RawHTTPSClient {
    let socket: Int32
    let connection: TLSConnection
    private var parser = HTTPResponseParser()

    /// Connects to 127.0.0.1:`port` and verifies the server as localhost; the handshake is left
    /// to ``handshake()``.
    init(port: UInt16, certificate: TLSCertificateFiles? = nil) throws {
        let pki = try TestPKI.get()
        let context = try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile), clientCertificate: certificate)
        guard let socket = try connectLoopback(port: port) else { throw SandboxError("nothing listens on port \(port)") }
        self.socket = socket
        do {
            connection = try context.makeConnection(socket: socket, serverName: "localhost")
        } catch {
            close(socket)
            throw error
        }
    }

    /// A client whose handshake has finished; throws when it did not.
    static func connected(port: UInt16) throws -> RawHTTPSClient {
        let client = try RawHTTPSClient(port: port)
        let result = try client.handshake()
        guard result == .done(0) else { throw SandboxError("handshake ended with \(result)") }
        return client
    }

    deinit {
        close(socket)
    }

    func handshake() throws -> TLSResult {
        try connection.completeHandshake()
    }

    /// Sends `text`, with `\n` standing for CRLF.
    @discardableResult
    func send(_ text: String) throws -> TLSResult {
        try connection.send(text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    /// Reads until `count` responses have arrived or the connection ends; returns the responses
    /// and, when it ended, how.
    func responses(_ count: Int = 1, to method: HTTPMethod = .get, timeout: TimeInterval = 15) throws
        -> (responses: [HTTPResponse], end: TLSResult?) {
        var responses: [HTTPResponse] = []
        while true {
            while responses.count < count, let response = try parser.nextResponse(to: method) {
                responses.append(response)
            }
            if responses.count >= count { return (responses, nil) }
            var bytes: [UInt8] = []
            let result = try drive(connection, timeout: timeout) { connection.read(into: &bytes) }
            parser.append(bytes)
            guard case .done = result else {
                if let last = try? parser.finish() { responses.append(last) }
                return (responses, result)
            }
        }
    }

    /// How the connection ends, reading (and dropping) whatever arrives first.
    func end(timeout: TimeInterval = 15) throws -> TLSResult {
        var bytes: [UInt8] = []
        while true {
            let result = try drive(connection, timeout: timeout) { connection.read(into: &bytes) }
            guard case .done = result else { return result }
        }
    }
}

/// Whether a connection ended the way a server closing it looks: close_notify, or the socket
/// closing or resetting.
func isEnded(_ result: TLSResult?) -> Bool {
    switch result {
    case .closed?, .failed?: return true
    default: return false
    }
}

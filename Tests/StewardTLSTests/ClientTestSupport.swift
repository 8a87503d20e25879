#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import StewardHarness
import StewardTLS
import Synchronization

/// A partner's server for the client tests: ``testRouter()`` plus redirects, on 127.0.0.1 (or
/// `address`) with the test CA's certificate for localhost, 127.0.0.1 and ::1 (or `certificate`).
final class PartnerServer {
    let server: HTTPSServer
    let events = EventRecorder()
    var port: UInt16 { server.port }

    init(certificate: TLSCertificateFiles? = nil, address: String = "127.0.0.1:0") throws {
        signal(SIGPIPE, SIG_IGN)
        let pki = try TestPKI.get()
        let contexts = TLSServerContextHolder(try TLSServerContext(certificate: certificate ?? pki.server))
        var router = testRouter()
        router.register("/moved/plain") { _, _ in
            HTTPResponse(status: .found, headers: ["Location": "http://localhost/x"])
        }
        router.register("/moved/secure") { _, _ in
            HTTPResponse(status: .found, headers: ["Location": "/x"])
        }
        let loop = DispatchQueue(label: "steward.test.partner")
        server = try HTTPSServer(address: HTTPSServer.Address(parsing: address), contexts: contexts, router: router,
                                 limits: .quick, nextLoop: { loop }, events: events.record)
        server.start()
    }

    deinit {
        server.stop(gracePeriod: .zero)
    }

    /// `https://localhost:port` + `path`.
    func url(_ path: String) -> URL {
        URL(string: "https://localhost:\(port)\(path)")!
    }
}

/// Limits short enough for a test to finish quickly, long enough for a loaded machine.
extension HTTPSClient.Limits {
    static var quick: HTTPSClient.Limits {
        HTTPSClient.Limits(connectTimeout: .seconds(5), ioTimeout: .seconds(5), requestDeadline: .seconds(20))
    }
}

/// A client that trusts the test CA (or `caFile`).
func testClient(caFile: String? = nil, limits: HTTPSClient.Limits = .quick) throws -> HTTPSClient {
    let pki = try TestPKI.get()
    return HTTPSClient(context: try TLSClientContext(trust: .certificateAuthorities(file: caFile ?? pki.caFile)),
                       limits: limits)
}

/// The error sending `request` ends with, or nil when a response arrives.
func failure(of request: HTTPSClient.Request, by client: HTTPSClient) -> HTTPSClientError? {
    do {
        _ = try client.send(request)
        return nil
    } catch {
        return error
    }
}

/// A partner that drops kept-alive connections: on its i-th connection it answers `plan[i]`
/// requests with a kept-alive `200 ok`, then reads the next request and closes without an answer.
final class DroppingPartner: Sendable {
    private let listener: LoopbackListenerBox
    private let acceptedCount = Mutex(0)
    var port: UInt16 { listener.port }
    var accepted: Int { acceptedCount.withLock { $0 } }

    init(plan: [Int]) throws {
        let pki = try TestPKI.get()
        let context = try TLSServerContext(certificate: pki.server)
        listener = LoopbackListenerBox(try LoopbackListener())
        let descriptor = listener.descriptor
        Thread { [self] in
            for answers in plan {
                guard let socket = try? acceptConnection(on: descriptor) else { return }
                acceptedCount.withLock { $0 += 1 }
                serve(socket, answers: answers, context: context)
            }
        }.start()
    }

    private func serve(_ socket: Int32, answers: Int, context: TLSServerContext) {
        defer { close(socket) }
        guard let connection = try? context.makeConnection(socket: socket),
              (try? connection.completeHandshake()) == .done(0) else { return }
        for _ in 0..<answers {
            guard let request = try? connection.receive(until: "\r\n\r\n"), case .done = request.result,
                  (try? connection.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) != nil else { return }
        }
        _ = try? connection.receive(until: "\r\n\r\n")
    }

    private func acceptConnection(on descriptor: Int32) throws -> Int32 {
        guard wait(for: descriptor, events: Int16(POLLIN), timeout: 15) else { throw SandboxError("nobody connected") }
        let socket = Glibc.accept(descriptor, nil, nil)
        guard socket >= 0 else { throw SandboxError("accept failed") }
        makeNonBlocking(socket)
        return socket
    }
}

/// A listener shared with the partner's thread.
final class LoopbackListenerBox: @unchecked Sendable {
    // Sound because the listener is only read after init: its descriptor and port never change.
    private let listener: LoopbackListener
    var descriptor: Int32 { listener.descriptor }
    var port: UInt16 { listener.port }
    init(_ listener: LoopbackListener) { self.listener = listener }
}

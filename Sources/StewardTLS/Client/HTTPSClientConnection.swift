#if canImport(Glibc)
import Glibc
#endif

/// One TLS connection to a partner's origin, driven with poll(2) on the caller's thread.
///
/// It is used by one ``HTTPSClient/send(_:)`` call at a time: the pool hands it out under its
/// lock, and takes it back once a response has been read in full.
final class HTTPSClientConnection: @unchecked Sendable {
    // Sound because only the one send call that checked it out touches it (see above).
    /// The target it was opened for; its origin is the connection's, its request target only the first request's.
    let target: HTTPSClientTarget
    let socket: Int32
    let tls: TLSConnection
    let ioTimeout: Duration
    /// When it went back to the pool, for the idle lifetime.
    var idleSince = ContinuousClock.now
    /// Whether a response has been read on it before: a reused connection may have been closed
    /// by the server meanwhile.
    private(set) var hasServedResponse = false
    private var parser: HTTPResponseParser

    /// Connects to `target` and completes the TLS handshake, both within the limits.
    init(to target: HTTPSClientTarget, context: TLSClientContext, limits: HTTPSClient.Limits,
         deadline: ContinuousClock.Instant) throws(HTTPSClientError) {
        let socket = try HTTPSClientSocket.connect(to: target, timeout: limits.connectTimeout, deadline: deadline)
        do throws(TLSError) {
            tls = try context.makeConnection(socket: socket, serverName: target.host)
        } catch {
            close(socket)
            throw HTTPSClientError(.tlsFailed, "Steward could not start TLS with the partner; \(error.message)",
                                   origin: target.origin, tlsError: error)
        }
        self.target = target
        self.socket = socket
        self.ioTimeout = limits.ioTimeout
        self.parser = HTTPResponseParser(limits: limits.http)
        let result = try drive(until: deadline) { tls.handshake() }
        guard case .done = result else { throw failure(result, during: "the TLS handshake") }
    }

    deinit {
        _ = tls.shutdown()
        close(socket)
    }

    /// What the handshake agreed on.
    var info: TLSConnectionInfo {
        // The initializer throws unless the handshake finished, which sets `info`.
        tls.info!
    }

    /// Whether the connection can carry another request: the last response kept it alive and
    /// nothing has arrived (or ended) since.
    var isReusable: Bool {
        !parser.isFinished && parser.isIdle && !HTTPSClientSocket.hasPendingInputOrEnded(socket)
    }

    /// Sends `bytes`; `wrote` turns true once any of them has gone to the server.
    func write(_ bytes: [UInt8], wrote: inout Bool, until deadline: ContinuousClock.Instant) throws(HTTPSClientError) {
        var offset = 0
        while offset < bytes.count {
            let result = try drive(until: deadline) { tls.write(bytes[offset...]) }
            guard case .done(let count) = result else { throw failure(result, during: "sending the request") }
            offset += count
            wrote = true
        }
    }

    /// Reads the response to a `method` request.
    func readResponse(to method: HTTPMethod, until deadline: ContinuousClock.Instant) throws(HTTPSClientError) -> HTTPResponse {
        var received = false
        while true {
            if let response = try parsed({ () throws(HTTPError) in try parser.nextResponse(to: method) }) {
                hasServedResponse = true
                return response
            }
            var bytes: [UInt8] = []
            let result = try drive(until: deadline) { tls.read(into: &bytes) }
            switch result {
            case .done:
                received = received || !bytes.isEmpty
                parser.append(bytes)
            case .closed where !received && parser.isIdle:
                throw HTTPSClientError(.connectionClosed,
                                       "the partner closed the connection without answering; if this repeats, ask the "
                                           + "partner to check its server's logs", origin: target.origin)
            case .closed:
                if let response = try parsed({ () throws(HTTPError) in try parser.finish() }) { return response }
                throw failure(result, during: "reading the response")
            default:
                throw failure(result, during: "reading the response")
            }
        }
    }

    // MARK: Driving

    /// Repeats `operation` while it waits for the socket, waiting at most the I/O timeout each
    /// time and never past `deadline`.
    private func drive(until deadline: ContinuousClock.Instant, _ operation: () -> TLSResult) throws(HTTPSClientError)
        -> TLSResult {
        while true {
            let result = operation()
            let events: Int16
            switch result {
            case .wantRead: events = Int16(POLLIN)
            case .wantWrite: events = Int16(POLLOUT)
            default: return result
            }
            let ioDeadline = ContinuousClock.now + ioTimeout
            guard HTTPSClientSocket.wait(for: socket, events: events, until: min(deadline, ioDeadline)) == .ready else {
                throw HTTPSClientError(.timeout,
                                       ioDeadline <= deadline
                                           ? "the partner sent nothing for \(ioTimeout); check that its server is healthy"
                                           : "the request did not complete within its deadline; the partner's server is "
                                               + "slow or overloaded", origin: target.origin)
            }
        }
    }

    private func parsed(_ parse: () throws(HTTPError) -> HTTPResponse?) throws(HTTPSClientError) -> HTTPResponse? {
        do {
            return try parse()
        } catch {
            let tooLarge: Set<HTTPError.Code> = [.headTooLarge, .tooManyHeaders, .bodyTooLarge]
            if tooLarge.contains(error.code) {
                throw HTTPSClientError(.responseTooLarge,
                                       "the partner's response is larger than Steward's limits; raise the limit for this "
                                           + "partner if the size is expected", origin: target.origin, httpError: error)
            }
            throw HTTPSClientError(.malformedResponse,
                                   "the partner's response broke HTTP/1.1; ask the partner to check its server",
                                   origin: target.origin, httpError: error)
        }
    }

    /// The error for a result that ended an operation.
    private func failure(_ result: TLSResult, during phase: String) -> HTTPSClientError {
        switch result {
        case .failed(let error) where error.code == .socketError:
            return HTTPSClientError(.connectionClosed, "the connection broke during \(phase); \(error.message)",
                                    origin: target.origin, tlsError: error)
        case .failed(let error):
            return HTTPSClientError(.tlsFailed, "TLS failed during \(phase): \(error.message)",
                                    origin: target.origin, tlsError: error)
        default:
            return HTTPSClientError(.connectionClosed,
                                    "the partner closed the connection during \(phase); if this repeats, ask the partner "
                                        + "to check its server's logs", origin: target.origin)
        }
    }
}

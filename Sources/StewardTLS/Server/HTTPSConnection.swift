#if canImport(Glibc)
import Glibc
#endif
import StewardSystem
import Dispatch
import Foundation

/// One client of an ``HTTPSServer``: the TLS handshake, then requests read, routed and answered
/// in order, written with backpressure, under the server's timeouts.
///
/// Everything runs on `queue`, which targets one event loop. One function, ``pump()``, moves the
/// connection forward whenever the socket is ready or a deadline passes: it writes what is
/// queued, answers the requests that have fully arrived, and reads more while the client's
/// answers are not piling up. Dispatch sources watch the socket only for what the pump waits
/// for, so a socket that is readable while the server does not want to read never spins.
///
/// A request routed to a deferred handler (``HTTPDeferredHandler``) holds up the requests behind
/// it until its response arrives through the ``HTTPResponder``, which hops back onto `queue`;
/// meanwhile at most one further request is read ahead, and
/// ``HTTPSServer/Limits/deferredResponseTimeout`` replaces the idle and request timeouts.
final class HTTPSConnection: @unchecked Sendable {
    // Sound because every mutable field, and the TLSConnection, is touched only on `queue`, a
    // serial queue; the other fields are immutable.
    let id: UInt64
    private let tls: TLSConnection
    private let socket: Int32
    private let client: String
    private let host: String
    private let queue: DispatchQueue
    private let core: HTTPSServerCore
    private var limits: HTTPSServer.Limits { core.limits }

    private enum State {
        case handshaking
        /// Reading requests and writing responses.
        case open
        /// The last response and close_notify are sent and the write side is shut; what the
        /// client still sends is read and discarded until it closes or the linger time ends.
        case lingering
        case closed
    }

    private enum Wait {
        case read, write
    }

    private enum Deadline {
        case handshake, idle, request, send, linger
        /// A deferred handler's response is overdue.
        case response
    }

    /// A request whose deferred handler has not responded yet: nothing after it is answered until it does.
    private struct AwaitedResponse {
        /// The request's position on the connection, so a response meant for another is never taken for it.
        let number: Int
        let request: HTTPRequest
        let startedAt: DispatchTime
        /// Whether the request was the connection's last, as the parser saw it when the request arrived.
        let isLast: Bool
        let deadline: DispatchTime
    }

    private var state = State.handshaking
    private var parser: HTTPRequestParser
    private var context = HTTPRequestContext()

    /// Serialized responses not yet sent, from `outputOffset` on.
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var hasOutput: Bool { outputOffset < output.count }
    private var queuedBytes: Int { output.count - outputOffset }

    /// Close once the queued output is sent; nothing more is read.
    private var closesAfterOutput = false
    /// Whether to read and discard what the client still sends before closing the socket.
    private var lingers = true
    private var closeReason = HTTPSServer.CloseReason.finished
    private var closeDetail: String?
    /// The client sent close_notify: nothing more will come.
    private var peerHasEnded = false
    private var isStopping = false
    private var requestCount = 0
    /// Whether `100 Continue` went out for the request whose body is awaited.
    private var sentContinue = false
    private var awaited: AwaitedResponse?
    /// The request after the awaited one, read ahead and held until its turn.
    private var heldRequest: HTTPRequest?

    private let acceptedAt = DispatchTime.now()
    /// When the request being read began: its first byte, or the end of the one before it.
    private var requestStartedAt: DispatchTime?
    private var lastReadAt = DispatchTime.now()
    private var lastWriteAt = DispatchTime.now()
    private var lastActivityAt = DispatchTime.now()
    private var lingerStartedAt = DispatchTime.now()

    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var timer: DispatchSourceTimer?
    private var isReadResumed = false
    private var isWriteResumed = false
    /// When the timer fires next; it may fire before the connection's real deadline, which it then re-arms for.
    private var timerDeadline: DispatchTime?
    /// Sources on the socket not yet cancelled: the socket is closed once this reaches 0.
    private var watchingSources = 0
    private var cachedDate: (second: Int, text: String) = (0, "")

    /// The most reads one pump makes before it lets the loop's other connections run.
    private static let readsPerPump = 8
    private static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    init(id: UInt64, tls: TLSConnection, client: String, host: String, loop: DispatchQueue, core: HTTPSServerCore) {
        self.id = id
        self.tls = tls
        socket = tls.socket
        self.client = client
        self.host = host
        self.core = core
        parser = HTTPRequestParser(limits: core.limits.http)
        queue = DispatchQueue(label: "steward.https.connection", target: loop)
    }

    // MARK: Driving

    func start() {
        queue.async { [self] in
            // Stopped between being registered and starting: the socket is closed already.
            guard state != .closed else { return }
            let read = DispatchSource.makeReadSource(fileDescriptor: socket, queue: queue)
            let write = DispatchSource.makeWriteSource(fileDescriptor: socket, queue: queue)
            let timer = DispatchSource.makeTimerSource(queue: queue)
            for source in [read, write] as [any DispatchSourceProtocol] {
                source.setEventHandler { [self] in pump() }
                source.setCancelHandler { [self] in sourceCancelled() }
            }
            timer.setEventHandler { [self] in timerFired() }
            timer.schedule(deadline: .distantFuture)
            watchingSources = 2
            readSource = read
            writeSource = write
            self.timer = timer
            timer.resume()
            pump()
        }
    }

    /// Advances the connection as far as it goes without waiting, then waits for what it needs.
    private func pump() {
        switch state {
        case .handshaking:
            advanceHandshake()
        case .open:
            exchange()
        case .lingering:
            discardLingering()
        case .closed:
            return
        }
    }

    private func advanceHandshake() {
        switch tls.handshake() {
        case .done:
            handshakeFinished()
            exchange()
        case .wantRead:
            wait(for: [.read])
        case .wantWrite:
            wait(for: [.write])
        case .closed:
            core.count { $0.failedHandshakes += 1 }
            close(.clientDisconnected, detail: "the client left during the handshake")
        case .failed(let error):
            core.count { $0.failedHandshakes += 1 }
            close(.handshakeFailed, detail: error.description)
        }
    }

    private func handshakeFinished() {
        state = .open
        lastActivityAt = .now()
        guard let info = tls.info else { return }
        context = HTTPRequestContext(
            clientAddress: client, tlsVersion: info.protocolVersion, cipherSuite: info.cipher,
            clientCertificateSubject: info.peerCertificate?.subject,
            clientCertificateSPKISHA256: info.peerCertificate?.publicKey.base64,
            attributes: ["connection": String(id)])
        core.events(.handshakeCompleted(connection: id, info))
    }

    /// Writes, answers and reads in turn until the connection must wait for the socket.
    private func exchange() {
        var waits: Set<Wait> = []
        var reads = 0
        while state == .open {
            switch flush() {
            case .sent: break
            case .blocked(let wait): waits.insert(wait)
            case .failed: return
            }
            if !hasOutput && closesAfterOutput && awaited == nil { return finishOutput() }
            if answerArrivedRequests() { continue }
            guard isReading else { break }
            guard reads < Self.readsPerPump else {
                queue.async { [self] in pump() }
                break
            }
            reads += 1
            switch readMore() {
            case .progress: continue
            case .blocked(let wait): waits.insert(wait)
            case .failed: return
            }
            break
        }
        if state == .open { wait(for: waits) }
    }

    /// Whether to read more from the client: not after its last request, not while its answers
    /// pile up, not beyond one request ahead of a deferred response.
    private var isReading: Bool {
        !closesAfterOutput && !peerHasEnded && queuedBytes < limits.maximumQueuedResponseBytes && !hasReadAhead
    }

    /// Whether, while a deferred response is awaited, the next request has arrived whole (or the
    /// stream has ended or failed): what comes behind it waits in the socket, not in memory.
    private var hasReadAhead: Bool {
        awaited != nil && (heldRequest != nil || parser.isFinished)
    }

    // MARK: Reading

    private enum Step {
        case progress
        case blocked(Wait)
        case failed
    }

    /// Reads what TLS has (up to ``TLSConnection/readLimit``) into the parser.
    private func readMore() -> Step {
        var bytes: [UInt8] = []
        switch tls.read(into: &bytes) {
        case .done:
            lastReadAt = .now()
            lastActivityAt = lastReadAt
            parser.append(bytes)
            if requestStartedAt == nil && !parser.isIdle { requestStartedAt = lastReadAt }
            return .progress
        case .wantRead:
            return .blocked(.read)
        case .wantWrite:
            return .blocked(.write)
        case .closed(.closeNotify):
            return clientEnded()
        case .closed(.unexpectedEOF):
            close(.clientDisconnected, detail: parser.isIdle ? nil : "the connection ended in the middle of a request")
            return .failed
        case .failed(let error):
            close(.tlsFailed, detail: error.description)
            return .failed
        }
    }

    /// The client sent close_notify. Every request that fully arrived has been answered (reading
    /// stops while answers pile up); what is queued is sent, and a request cut short is dropped.
    private func clientEnded() -> Step {
        peerHasEnded = true
        guard parser.isIdle else {
            close(.clientClosed, detail: "the client closed in the middle of a request")
            return .failed
        }
        closeAfterOutput(.clientClosed)
        return .progress
    }

    // MARK: Answering

    /// Answers every request the parser holds complete, in order, while answers do not pile up
    /// and no deferred response is awaited; returns whether anything was queued.
    private func answerArrivedRequests() -> Bool {
        var queued = false
        while awaited == nil && !closesAfterOutput && queuedBytes < limits.maximumQueuedResponseBytes {
            let request: HTTPRequest?
            do {
                request = try nextRequest()
            } catch {
                refuse(error)
                return true
            }
            guard let request else { return sendContinueIfAwaited() || queued }
            queued = answer(request) || queued
        }
        if awaited != nil { readAhead() }
        return queued
    }

    /// The request held back behind a deferred response, else the parser's next.
    private func nextRequest() throws(HTTPError) -> HTTPRequest? {
        guard let held = heldRequest else { return try parser.nextRequest() }
        heldRequest = nil
        return held
    }

    /// Parses the request behind the awaited one as it arrives, so the parser's limits bound it,
    /// and holds it. An error stays in the parser, which throws it again when its turn comes.
    private func readAhead() {
        guard heldRequest == nil else { return }
        heldRequest = try? parser.nextRequest()
    }

    /// Routes `request` and queues its response, or calls its deferred handler; returns whether a
    /// response was queued.
    private func answer(_ request: HTTPRequest) -> Bool {
        let startedAt = requestStartedAt ?? .now()
        switch core.router.route(request, context: context) {
        case .response(let response):
            complete(request, with: response, since: startedAt, isLast: parser.isFinished)
            return true
        case .deferred(let handler):
            let number = requestCount
            awaited = AwaitedResponse(
                number: number, request: request, startedAt: startedAt, isLast: parser.isFinished,
                deadline: .now() + .nanoseconds(limits.deferredResponseTimeout.nanoseconds))
            handler(request, context, HTTPResponder { [weak self] response in
                guard let self else { return }
                queue.async { self.deliver(response, toRequest: number) }
            })
            return false
        }
    }

    /// A deferred handler's response, back on `queue`: sent in its turn unless the connection has
    /// closed or already answered for the handler.
    private func deliver(_ response: HTTPResponse, toRequest number: Int) {
        guard state == .open, awaited?.number == number else { return }
        completeAwaited(with: response)
        pump()
    }

    private func completeAwaited(with response: HTTPResponse) {
        guard let awaited else { return }
        self.awaited = nil
        complete(awaited.request, with: response, since: awaited.startedAt, isLast: awaited.isLast)
    }

    /// Queues `response` to `request` and counts it; the connection closes after it when the
    /// request was the last, either side asked to close, or the server is stopping.
    private func complete(_ request: HTTPRequest, with response: HTTPResponse, since startedAt: DispatchTime, isLast: Bool) {
        var response = response
        let closes = isLast || !request.keepsAlive || response.closesConnection || isStopping || closesAfterOutput
        if !closes && request.version == .http1_0 { response.headers.set("Connection", "keep-alive") }
        let sent = send(response, to: request.method, closing: closes)
        requestCount += 1
        sentContinue = false
        requestStartedAt = parser.isIdle && heldRequest == nil ? nil : .now()
        if closes { closeAfterOutput(isStopping ? .serverStopping : .finished) }
        report(method: request.method, path: request.path, status: response.status, error: nil,
               received: request.body.count, sent: sent, since: startedAt)
    }

    /// Answers a request the parser refused with the error's status, and closes: once framing is
    /// in doubt, nothing after it can be read as a request.
    private func refuse(_ error: HTTPError) {
        let head = parser.headAwaitingBody
        let sent = send(error.response, to: head?.method ?? .get, closing: true)
        closeAfterOutput(.malformedRequest, detail: error.code.rawValue)
        report(method: head?.method, path: head?.path, status: error.status, error: error.code, received: 0, sent: sent,
               since: requestStartedAt ?? .now())
    }

    /// Sends `100 Continue` once for a request whose client waits for it before sending the body.
    private func sendContinueIfAwaited() -> Bool {
        guard !sentContinue, parser.headAwaitingBody?.expectsContinue == true else { return false }
        sentContinue = true
        enqueue(Self.continueResponse)
        return true
    }

    /// Queues `response` with a `Date`; returns its length.
    private func send(_ response: HTTPResponse, to method: HTTPMethod, closing: Bool) -> Int {
        var response = response
        if !response.headers.contains("Date") { response.headers.add("Date", currentDate()) }
        let bytes = response.serialized(respondingTo: method, closesConnection: closing)
        enqueue(bytes)
        return bytes.count
    }

    private func report(method: HTTPMethod?, path: String?, status: HTTPStatus, error: HTTPError.Code?,
                        received: Int, sent: Int, since start: DispatchTime) {
        core.count { $0.responses += 1 }
        core.events(.served(HTTPSServer.RequestSummary(
            connection: id, client: client, method: method, path: path, status: status, error: error,
            bytesReceived: received, bytesSent: sent, duration: Self.duration(from: start))))
    }

    private func currentDate() -> String {
        let second = Int(Date().timeIntervalSince1970)
        if cachedDate.second != second { cachedDate = (second, HTTPDate.string(secondsSince1970: second)) }
        return cachedDate.text
    }

    // MARK: Writing

    private func enqueue(_ bytes: [UInt8]) {
        if !hasOutput { lastWriteAt = .now() }
        // Sent bytes are dropped once they are most of the buffer; TLS allows the rest to move.
        if outputOffset > 64 * 1024 && outputOffset > output.count / 2 {
            output.removeFirst(outputOffset)
            outputOffset = 0
        }
        output += bytes
    }

    private enum Flush {
        case sent, blocked(Wait), failed
    }

    /// Writes what is queued until it is all sent or the socket is full.
    private func flush() -> Flush {
        while hasOutput {
            switch tls.write(output[outputOffset...]) {
            case .done(let count):
                outputOffset += count
                lastWriteAt = .now()
                lastActivityAt = lastWriteAt
            case .wantWrite:
                return .blocked(.write)
            case .wantRead:
                return .blocked(.read)
            case .closed:
                close(.clientDisconnected, detail: "the client left before its response was sent")
                return .failed
            case .failed(let error):
                close(.tlsFailed, detail: error.description)
                return .failed
            }
        }
        // A large response's buffer is given back; a small one is kept for the next.
        if output.capacity > 64 * 1024 { output = [] } else { output.removeAll(keepingCapacity: true) }
        outputOffset = 0
        return .sent
    }

    // MARK: Closing

    private func closeAfterOutput(_ reason: HTTPSServer.CloseReason, detail: String? = nil, lingering: Bool = true) {
        guard !closesAfterOutput else { return }
        closesAfterOutput = true
        closeReason = reason
        closeDetail = detail
        lingers = lingering
    }

    /// Everything is sent: send close_notify, then close, or linger while the client may still be sending.
    private func finishOutput() {
        _ = tls.shutdown()
        guard lingers && !peerHasEnded else { return close(closeReason, detail: closeDetail) }
        Glibc.shutdown(socket, Int32(SHUT_WR))
        state = .lingering
        lingerStartedAt = .now()
        discardLingering()
    }

    /// Reads and drops what arrives, up to 1 MiB per wake-up, until the client closes.
    private func discardLingering() {
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        for _ in 0..<64 {
            let count = retryingInterrupts { recv(socket, &scratch, scratch.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            return close(closeReason, detail: closeDetail)
        }
        wait(for: [.read])
    }

    /// Closes at once: the sources are cancelled, the socket is closed once they are, and the
    /// server's registry lets the slot go.
    private func close(_ reason: HTTPSServer.CloseReason, detail: String? = nil) {
        guard state != .closed else { return }
        state = .closed
        cancel(readSource, isResumed: &isReadResumed)
        cancel(writeSource, isResumed: &isWriteResumed)
        timer?.cancel()
        if watchingSources == 0 { release() }
        core.events(.closed(HTTPSServer.ConnectionSummary(
            connection: id, client: client, reason: reason, detail: detail, requests: requestCount,
            duration: Self.duration(from: acceptedAt))))
    }

    private func cancel(_ source: (any DispatchSourceProtocol)?, isResumed: inout Bool) {
        source?.cancel()
        // A suspended source finishes cancelling only once resumed.
        if !isResumed { source?.resume() }
        isResumed = true
    }

    /// The socket is closed only once no source watches it, so its number is never reused while
    /// Dispatch still does.
    private func sourceCancelled() {
        watchingSources -= 1
        if watchingSources == 0 && state == .closed { release() }
    }

    private func release() {
        Glibc.close(socket)
        core.closed(id, host: host)
    }

    // MARK: Stopping

    /// The server stops: an idle connection closes now, a request under way is answered with
    /// `Connection: close` first.
    func stopGracefully() {
        queue.async { [self] in
            isStopping = true
            switch state {
            case .handshaking:
                close(.serverStopping)
            case .open where parser.isIdle:
                closeAfterOutput(.serverStopping, lingering: false)
                pump()
            case .open, .lingering, .closed:
                break
            }
        }
    }

    /// The grace period is over.
    func stopNow() {
        queue.async { [self] in close(.serverStopping, detail: "the stop grace period ended") }
    }

    // MARK: Waiting

    /// Watches the socket for exactly `waits`, and arms the timer for the next deadline.
    private func wait(for waits: Set<Wait>) {
        setWatching(readSource, waits.contains(.read), isResumed: &isReadResumed)
        setWatching(writeSource, waits.contains(.write), isResumed: &isWriteResumed)
        armTimer()
    }

    private func setWatching(_ source: (any DispatchSourceProtocol)?, _ wanted: Bool, isResumed: inout Bool) {
        guard let source, wanted != isResumed else { return }
        if wanted { source.resume() } else { source.suspend() }
        isResumed = wanted
    }

    /// The deadline that applies now, and what passing it means.
    private var deadline: (time: DispatchTime, kind: Deadline)? {
        switch state {
        case .handshaking:
            return (acceptedAt + .nanoseconds(limits.handshakeTimeout.nanoseconds), .handshake)
        case .lingering:
            return (lingerStartedAt + .nanoseconds(limits.lingerTimeout.nanoseconds), .linger)
        case .closed:
            return nil
        case .open:
            let sendDeadline = lastWriteAt + .nanoseconds(limits.sendTimeout.nanoseconds)
            // Waiting for a handler is not the client dawdling: only the send timeout still applies.
            if let awaited, !hasOutput || awaited.deadline < sendDeadline { return (awaited.deadline, .response) }
            if hasOutput { return (sendDeadline, .send) }
            if parser.isIdle { return (lastActivityAt + .nanoseconds(limits.idleTimeout.nanoseconds), .idle) }
            // The head must arrive within the timeout of its first byte; the body must keep arriving,
            // counted at the earliest from the answer before it (which it may have waited behind).
            let start = parser.headAwaitingBody == nil ? requestStartedAt ?? lastReadAt : max(lastReadAt, requestStartedAt ?? lastReadAt)
            return (start + .nanoseconds(limits.requestTimeout.nanoseconds), .request)
        }
    }

    /// The timer is moved only to an earlier time; when it fires early it re-arms for the real
    /// deadline. Most reads then cost no timer update.
    private func armTimer() {
        guard let deadline, let timer else { return }
        if let armed = timerDeadline, armed <= deadline.time { return }
        timerDeadline = deadline.time
        timer.schedule(deadline: deadline.time, leeway: .milliseconds(20))
    }

    private func timerFired() {
        timerDeadline = nil
        guard let deadline else { return }
        guard DispatchTime.now() >= deadline.time else { return armTimer() }
        switch deadline.kind {
        case .handshake:
            core.count {
                $0.failedHandshakes += 1
                $0.timeouts += 1
            }
            close(.handshakeTimeout)
        case .idle:
            core.count { $0.timeouts += 1 }
            closeAfterOutput(.idleTimeout, lingering: false)
            pump()
        case .request:
            core.count { $0.timeouts += 1 }
            let head = parser.headAwaitingBody
            let response = HTTPResponse.text(.requestTimeout, "408 Request Timeout: the request did not arrive in time.\n")
            let sent = send(response, to: head?.method ?? .get, closing: true)
            closeAfterOutput(.requestTimeout)
            report(method: head?.method, path: head?.path, status: .requestTimeout, error: nil, received: 0, sent: sent,
                   since: requestStartedAt ?? lastReadAt)
            pump()
        case .send:
            core.count { $0.timeouts += 1 }
            close(.sendTimeout)
        case .linger:
            close(closeReason, detail: closeDetail)
        case .response:
            core.count { $0.timeouts += 1 }
            closeAfterOutput(.responseTimeout)
            completeAwaited(with: Self.responseTimeoutResponse)
            pump()
        }
    }

    /// What the client gets in place of a deferred response that did not come in time.
    private static let responseTimeoutResponse: HTTPResponse = {
        var response = HTTPResponse.text(.serviceUnavailable, "503 Service Unavailable: the answer took too long; try again later.\n")
        response.headers.add("Retry-After", "5")
        return response
    }()

    private static func duration(from start: DispatchTime) -> Duration {
        .nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- start.uptimeNanoseconds))
    }
}

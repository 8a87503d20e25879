#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// The HTTPS server partners pull from: it listens on one TCP address, accepts on its own queue,
/// and runs every connection on a serial queue that targets one of the daemon's event loops,
/// never blocking either.
///
/// Each connection does its TLS handshake with the context ``TLSServerContextHolder/current``
/// held when it was accepted (a reload serves new connections with the new certificate; open
/// ones keep theirs), then reads HTTP/1.1 requests with ``HTTPRequestParser``: keep-alive,
/// pipelined requests answered in order, `Expect: 100-continue`, strict framing. The parser's
/// errors are answered with their status and close the connection. Every request goes to the
/// ``HTTPRouter`` given at init, with an ``HTTPRequestContext`` that names the client's address,
/// the TLS version and suite, for mutual TLS the client certificate's subject and key, and the
/// connection's id (attribute `connection`, as in the events) for the handler's own log lines.
///
/// **Handlers run on the connection's queue**, which shares its event loop with many other
/// connections: a handler must answer from memory, quickly, and never wait for the store, the
/// network or a lock held long. Work that takes longer belongs on its own queue: either the
/// handler answers from what that work has already prepared, or it is a deferred handler
/// (``HTTPRouter/register(_:methods:deferred:)``) that starts the work and returns, the work
/// responding when done. The connection answers the requests behind a deferred one only after
/// it, in order, and answers 503 for a handler that takes longer than
/// ``Limits/deferredResponseTimeout``.
///
/// Every client is bounded in time and in connections (``Limits``): a slow or silent client is
/// cut, and no address holds more than its share. Malformed input ends one connection, never
/// the server.
///
/// Dropping the server stops it listening; connections still open finish on their own, under
/// the same limits. ``stop(gracePeriod:completion:)`` ends them.
///
/// The process must ignore SIGPIPE (stewardd does at start): OpenSSL writes to sockets whose
/// peer may be gone.
public final class HTTPSServer: Sendable {
    /// The address as configured.
    public let address: Address
    /// The port bound: the configured one, or the kernel's choice for port 0.
    public let port: UInt16

    private let core: HTTPSServerCore
    private let listener: ListeningSocket
    private let acceptQueue = DispatchQueue(label: "steward.https.accept")
    private let accepting = Mutex(AcceptState())

    private struct AcceptState {
        var isListening = true
        var source: DispatchSourceRead?
        /// Accepting pauses for a moment when the machine runs out of descriptors.
        var isPaused = false
    }

    /// Binds and listens on `address`; ``start()`` begins accepting. Connections are spread
    /// round robin over `loops`.
    public convenience init(
        address: Address, contexts: TLSServerContextHolder, router: HTTPRouter, limits: Limits = Limits(),
        loops: [DispatchQueue], events: @escaping @Sendable (Event) -> Void = { _ in }
    ) throws(HTTPSServerError) {
        precondition(!loops.isEmpty, "an HTTPS server needs at least one event loop")
        let counter = Atomic<Int>(0)
        try self.init(address: address, contexts: contexts, router: router, limits: limits, nextLoop: {
            loops[counter.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
        }, events: events)
    }

    /// Binds and listens on `address`; ``start()`` begins accepting. Each connection's queue
    /// targets the loop `nextLoop` returns, called once per connection on the accept queue.
    ///
    /// `events` is called on the connection's queue (or the accept queue) as things happen; it
    /// must return quickly, handing the event to the log or the audit writer.
    public init(
        address: Address, contexts: TLSServerContextHolder, router: HTTPRouter, limits: Limits = Limits(),
        nextLoop: @escaping @Sendable () -> DispatchQueue, events: @escaping @Sendable (Event) -> Void = { _ in }
    ) throws(HTTPSServerError) {
        self.address = address
        listener = try ListeningSocket.open(address)
        port = listener.port
        core = HTTPSServerCore(contexts: contexts, router: router, limits: limits, nextLoop: nextLoop, events: events)
    }

    deinit {
        closeListener()
    }

    /// Counts since the server started.
    public var statistics: Statistics { core.statistics }

    /// Begins accepting connections. Calling it again, or after ``stop(gracePeriod:completion:)``, does nothing.
    public func start() {
        accepting.withLock { state in
            guard state.isListening, state.source == nil else { return }
            let descriptor = listener.descriptor
            let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: acceptQueue)
            source.setEventHandler { [weak self] in self?.acceptWaiting() }
            source.setCancelHandler { close(descriptor) }
            state.source = source
            source.resume()
        }
    }

    /// Stops the server: the port refuses new connections from the moment this returns, idle
    /// connections close now, and requests under way are answered (with `Connection: close`)
    /// until `gracePeriod` (``Limits/stopGracePeriod`` when nil) has passed; then every
    /// connection left is closed. `completion` runs, on no particular queue, once the last
    /// connection has closed.
    public func stop(gracePeriod: Duration? = nil, completion: @escaping @Sendable () -> Void = {}) {
        closeListener()
        let remaining = core.beginStopping(then: completion)
        remaining.forEach { $0.stopGracefully() }
        let grace = (gracePeriod ?? core.limits.stopGracePeriod).nanoseconds
        acceptQueue.asyncAfter(deadline: .now() + .nanoseconds(grace)) { [core] in
            core.openConnections().forEach { $0.stopNow() }
        }
    }

    /// ``stop(gracePeriod:completion:)``, returning once the last connection has closed.
    public func stop(gracePeriod: Duration? = nil) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            stop(gracePeriod: gracePeriod) { continuation.resume() }
        }
    }

    /// Makes the port refuse connections at once (shutdown on a listening socket stops it
    /// listening on Linux) and closes it once Dispatch no longer watches it.
    private func closeListener() {
        accepting.withLock { state in
            guard state.isListening else { return }
            state.isListening = false
            shutdown(listener.descriptor, Int32(SHUT_RDWR))
            guard let source = state.source else {
                close(listener.descriptor)
                return
            }
            source.cancel()
            // A suspended source finishes cancelling only once resumed.
            if state.isPaused { source.resume() }
            state.source = nil
        }
    }

    // MARK: Accepting

    /// At most this many connections are accepted per wake-up, so that the accept queue stays fair.
    private static let acceptBatch = 64

    private func acceptWaiting() {
        for _ in 0..<Self.acceptBatch {
            switch listener.accept() {
            case .client(let socket, let peer):
                core.admit(socket: socket, peer: peer)
            case .none:
                return
            case .failed(let code):
                guard accepting.withLock({ $0.isListening }) else { return }
                // Out of descriptors or memory: the socket stays readable, so pause rather than spin.
                core.events(.acceptFailed("accept failed (\(String(cString: strerror(code)))); accepting pauses for 100 ms"))
                return pauseAccepting()
            }
        }
    }

    private func pauseAccepting() {
        accepting.withLock { state in
            guard let source = state.source, !state.isPaused else { return }
            source.suspend()
            state.isPaused = true
        }
        acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) { [weak self] in
            self?.accepting.withLock { state in
                guard let source = state.source, state.isPaused else { return }
                source.resume()
                state.isPaused = false
            }
        }
    }
}

/// What the server and its connections share: the configuration, the open connections, the
/// limits on them and the counts.
final class HTTPSServerCore: Sendable {
    let contexts: TLSServerContextHolder
    let router: HTTPRouter
    let limits: HTTPSServer.Limits
    let nextLoop: @Sendable () -> DispatchQueue
    let events: @Sendable (HTTPSServer.Event) -> Void
    private let registry = Mutex(Registry())
    private let lastID = Atomic<UInt64>(0)

    init(contexts: TLSServerContextHolder, router: HTTPRouter, limits: HTTPSServer.Limits,
         nextLoop: @escaping @Sendable () -> DispatchQueue, events: @escaping @Sendable (HTTPSServer.Event) -> Void) {
        self.contexts = contexts
        self.router = router
        self.limits = limits
        self.nextLoop = nextLoop
        self.events = events
    }

    private struct Registry {
        var connections: [UInt64: HTTPSConnection] = [:]
        var perAddress: [String: Int] = [:]
        var statistics = HTTPSServer.Statistics()
        var isStopping = false
        var whenStopped: [@Sendable () -> Void] = []
    }

    var statistics: HTTPSServer.Statistics { registry.withLock { $0.statistics } }

    func count(_ update: (inout HTTPSServer.Statistics) -> Void) {
        registry.withLock { update(&$0.statistics) }
    }

    func openConnections() -> [HTTPSConnection] {
        registry.withLock { Array($0.connections.values) }
    }

    /// Takes `socket` on as a connection, or closes it at once when a limit is reached.
    func admit(socket: Int32, peer: SocketAddress) {
        let client = peer.text
        let host = peer.host
        let refusal = registry.withLock { registry -> HTTPSServer.CloseReason? in
            let reason: HTTPSServer.CloseReason? =
                if registry.isStopping { .serverStopping }
                else if registry.statistics.openConnections >= limits.maximumConnections { .tooManyConnections }
                else if registry.perAddress[host, default: 0] >= limits.maximumConnectionsPerAddress {
                    .tooManyConnectionsFromAddress
                } else { nil }
            if reason != nil {
                registry.statistics.refusedConnections += 1
            } else {
                registry.statistics.openConnections += 1
                registry.statistics.acceptedConnections += 1
                registry.perAddress[host, default: 0] += 1
            }
            return reason
        }
        if let refusal {
            close(socket)
            events(.refused(client: client, reason: refusal))
            return
        }
        let id = lastID.wrappingAdd(1, ordering: .relaxed).newValue
        events(.accepted(connection: id, client: client))
        let tls: TLSConnection
        do {
            tls = try contexts.current.makeConnection(socket: socket)
        } catch {
            close(socket)
            closed(id, host: host)
            events(.closed(.init(connection: id, client: client, reason: .setupFailed, detail: error.description,
                                 requests: 0, duration: .zero)))
            return
        }
        let connection = HTTPSConnection(id: id, tls: tls, client: client, host: host, loop: nextLoop(), core: self)
        let isStopping = registry.withLock { registry in
            registry.connections[id] = connection
            return registry.isStopping
        }
        connection.start()
        if isStopping { connection.stopGracefully() }
    }

    /// Called once a connection's socket is closed.
    func closed(_ id: UInt64, host: String) {
        let waiters = registry.withLock { registry -> [@Sendable () -> Void] in
            registry.connections[id] = nil
            registry.statistics.openConnections -= 1
            registry.perAddress[host, default: 1] -= 1
            if registry.perAddress[host] == 0 { registry.perAddress[host] = nil }
            guard registry.isStopping, registry.statistics.openConnections == 0 else { return [] }
            defer { registry.whenStopped = [] }
            return registry.whenStopped
        }
        waiters.forEach { $0() }
    }

    /// Refuses connections from now on; returns those open, and runs `completion` once none is.
    func beginStopping(then completion: @escaping @Sendable () -> Void) -> [HTTPSConnection] {
        let (open, isEmpty) = registry.withLock { registry in
            registry.isStopping = true
            let isEmpty = registry.statistics.openConnections == 0
            if !isEmpty { registry.whenStopped.append(completion) }
            return (Array(registry.connections.values), isEmpty)
        }
        if isEmpty { completion() }
        return open
    }
}

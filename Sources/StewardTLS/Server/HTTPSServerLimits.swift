extension HTTPSServer {
    /// What one client may cost the server, in time and in connections. Each timeout cuts a
    /// connection that has stopped making progress, so a client that trickles bytes (slowloris),
    /// never finishes its handshake, or never reads its response holds its slot for a bounded
    /// time, and the per-address limit bounds how many slots it holds.
    public struct Limits: Sendable, Hashable {
        /// From accept to a finished TLS handshake. Over it, the connection is closed.
        public var handshakeTimeout: Duration
        /// How long a keep-alive connection may wait between requests. Over it, the connection is
        /// closed (with close_notify): the client opens a new one when it needs it.
        public var idleTimeout: Duration
        /// How long a request's head may take from its first byte, and how long its body may go
        /// without a byte arriving. Over it, the client gets `408 Request Timeout` and the
        /// connection closes.
        public var requestTimeout: Duration
        /// How long a deferred handler (``HTTPDeferredHandler``) may take to respond. Over it, the
        /// client gets `503 Service Unavailable` with `Retry-After: 5` and the connection closes;
        /// a response that comes later is dropped. While a connection waits for its handler, the
        /// idle and request timeouts do not run.
        public var deferredResponseTimeout: Duration
        /// How long queued response bytes may wait for the client to read any of them. Over it,
        /// the connection is closed without more ado: the client is not reading.
        public var sendTimeout: Duration
        /// After the server's last response on a connection, how long it reads and discards what
        /// the client still sends before it closes the socket. Closing at once while the client is
        /// still sending (a refused upload) makes the kernel reset the connection, which can throw
        /// away the response before the client reads it.
        public var lingerTimeout: Duration
        /// How long ``HTTPSServer/stop(gracePeriod:completion:)`` waits by default for requests
        /// under way before it closes their connections.
        public var stopGracePeriod: Duration
        /// The most connections open at once, from all clients. A connection over the limit is
        /// accepted and closed at once (TLS offers no way to say why before the handshake).
        public var maximumConnections: Int
        /// The most connections open at once from one IP address. Over it, as above.
        public var maximumConnectionsPerAddress: Int
        /// How many response bytes may wait to be sent before the server stops reading further
        /// pipelined requests from the connection.
        public var maximumQueuedResponseBytes: Int
        /// The parser's limits on a request: over them, 413, 414 or 431 and the connection closes.
        public var http: HTTPLimits

        public init(
            handshakeTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(30),
            requestTimeout: Duration = .seconds(10),
            deferredResponseTimeout: Duration = .seconds(30),
            sendTimeout: Duration = .seconds(30),
            lingerTimeout: Duration = .seconds(2),
            stopGracePeriod: Duration = .seconds(10),
            maximumConnections: Int = 1024,
            maximumConnectionsPerAddress: Int = 64,
            maximumQueuedResponseBytes: Int = 1024 * 1024,
            http: HTTPLimits = .server
        ) {
            self.handshakeTimeout = handshakeTimeout
            self.idleTimeout = idleTimeout
            self.requestTimeout = requestTimeout
            self.deferredResponseTimeout = deferredResponseTimeout
            self.sendTimeout = sendTimeout
            self.lingerTimeout = lingerTimeout
            self.stopGracePeriod = stopGracePeriod
            self.maximumConnections = maximumConnections
            self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
            self.maximumQueuedResponseBytes = maximumQueuedResponseBytes
            self.http = http
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds, for Dispatch deadlines.
    var nanoseconds: Int {
        let (seconds, attoseconds) = components
        // A year is far beyond any timeout; longer ones are taken as a year rather than overflow.
        return Int(max(0, min(seconds, 365 * 86_400))) * 1_000_000_000 + Int(max(0, attoseconds) / 1_000_000_000)
    }
}

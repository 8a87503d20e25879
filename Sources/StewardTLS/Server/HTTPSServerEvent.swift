extension HTTPSServer {
    /// What the server tells the audit log and the daemon's log, as it happens. Events carry ids,
    /// addresses, certificate subjects, statuses, sizes and times: never a header value, a query
    /// string or a body, which may carry student data or credentials.
    public enum Event: Sendable {
        /// A connection was accepted and counted against the limits.
        case accepted(connection: UInt64, client: String)
        /// A connection was closed at once, before its handshake: a limit was reached, or the server is stopping.
        case refused(client: String, reason: CloseReason)
        /// The TLS handshake finished: the version, suite and, for mutual TLS, the client's certificate.
        case handshakeCompleted(connection: UInt64, TLSConnectionInfo)
        /// A response was queued for sending.
        case served(RequestSummary)
        /// A connection ended.
        case closed(ConnectionSummary)
        /// Accepting failed for a reason that is the machine's, not a client's (out of descriptors).
        case acceptFailed(String)
    }

    /// Why a connection ended or was refused. New reasons may be added without breaking callers.
    public struct CloseReason: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public var description: String { name }
        private init(_ name: String) { self.name = name }

        /// The client ended the connection with close_notify, or between requests.
        public static let clientClosed = CloseReason("client-closed")
        /// The socket ended without close_notify.
        public static let clientDisconnected = CloseReason("client-disconnected")
        /// The last response was sent: the request or the handler asked to close.
        public static let finished = CloseReason("finished")
        /// The request broke HTTP's rules or a limit; it was answered with the error's status.
        public static let malformedRequest = CloseReason("malformed-request")
        /// The TLS handshake failed: no shared version or suite, a refused client certificate, not TLS at all.
        public static let handshakeFailed = CloseReason("handshake-failed")
        /// TLS failed after the handshake: an alert, a broken record, a reset socket.
        public static let tlsFailed = CloseReason("tls-failed")
        /// The handshake did not finish within ``Limits/handshakeTimeout``.
        public static let handshakeTimeout = CloseReason("handshake-timeout")
        /// No request began within ``Limits/idleTimeout``.
        public static let idleTimeout = CloseReason("idle-timeout")
        /// A request did not arrive within ``Limits/requestTimeout``; it was answered with 408.
        public static let requestTimeout = CloseReason("request-timeout")
        /// A deferred handler did not respond within ``Limits/deferredResponseTimeout``; the client got 503.
        public static let responseTimeout = CloseReason("response-timeout")
        /// The client read none of its response within ``Limits/sendTimeout``.
        public static let sendTimeout = CloseReason("send-timeout")
        /// The server stopped.
        public static let serverStopping = CloseReason("server-stopping")
        /// Refused: ``Limits/maximumConnections`` are open.
        public static let tooManyConnections = CloseReason("too-many-connections")
        /// Refused: ``Limits/maximumConnectionsPerAddress`` are open from the client's address.
        public static let tooManyConnectionsFromAddress = CloseReason("too-many-connections-from-address")
        /// The connection could not be set up (OpenSSL could not allocate it).
        public static let setupFailed = CloseReason("setup-failed")
    }

    /// One request and its answer, for the audit log.
    public struct RequestSummary: Sendable, Hashable {
        public var connection: UInt64
        public var client: String
        /// Nil when the request was too malformed to have one.
        public var method: HTTPMethod?
        /// The target's path, without its query; nil when the request was too malformed to have one.
        public var path: String?
        public var status: HTTPStatus
        /// The error the request was refused with, when the parser refused it.
        public var error: HTTPError.Code?
        /// The request body's length, in bytes.
        public var bytesReceived: Int
        /// The serialized response's length, head included.
        public var bytesSent: Int
        /// From the request's first byte to its response being queued.
        public var duration: Duration
    }

    /// One connection's end, for the audit log.
    public struct ConnectionSummary: Sendable, Hashable {
        public var connection: UInt64
        public var client: String
        public var reason: CloseReason
        /// What failed, when something did: a TLS error's code and message, or an HTTP error's code.
        /// Both name limits, files and subjects, never data the client sent.
        public var detail: String?
        /// How many requests were answered on it.
        public var requests: Int
        /// From accept to close.
        public var duration: Duration
    }

    /// Counts since the server started.
    public struct Statistics: Sendable, Hashable {
        /// Connections open now.
        public var openConnections = 0
        /// Connections accepted and counted.
        public var acceptedConnections = 0
        /// Connections closed at once for a limit or because the server was stopping.
        public var refusedConnections = 0
        /// Handshakes that failed or timed out.
        public var failedHandshakes = 0
        /// Responses queued, error responses included.
        public var responses = 0
        /// Connections cut by a handshake, request, idle, send or deferred response timeout.
        public var timeouts = 0
    }
}

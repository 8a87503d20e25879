/// Why a push to a partner failed: a code to act on, and a message that names the partner's
/// origin (`https://host:port`) and says what to do.
///
/// Messages name the origin, never the path, query, headers or body of the request: those may
/// carry student ids or credentials.
public struct HTTPSClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public var description: String { name }
        private init(_ name: String) { self.name = name }

        /// The URL is not `https://host[:port]/path?query`.
        public static let invalidURL = Code("invalid-url")
        /// The URL is `http://`: Steward sends nothing in the clear, and never upgrades silently.
        public static let plainHTTPRefused = Code("plain-http-refused")
        /// The host name did not resolve.
        public static let dnsFailed = Code("dns-failed")
        /// Every address of the host refused or failed the connection.
        public static let connectFailed = Code("connect-failed")
        /// No address of the host accepted the connection within the connect timeout.
        public static let connectTimeout = Code("connect-timeout")
        /// The TLS handshake failed or the connection broke TLS: see ``HTTPSClientError/tlsError``.
        public static let tlsFailed = Code("tls-failed")
        /// The server stayed silent longer than the I/O timeout, or the request passed its deadline.
        public static let timeout = Code("timeout")
        /// The response's head or body is larger than the client's limits.
        public static let responseTooLarge = Code("response-too-large")
        /// The response broke HTTP/1.1: see ``HTTPSClientError/httpError``.
        public static let malformedResponse = Code("malformed-response")
        /// The server redirected somewhere the redirect policy does not allow.
        public static let redirectRefused = Code("redirect-refused")
        /// The server closed the connection before its response was complete.
        public static let connectionClosed = Code("connection-closed")
    }

    public var code: Code
    /// What happened and what to do about it.
    public var message: String
    /// `https://host:port` of the partner concerned.
    public var origin: String
    /// The TLS failure behind a ``Code/tlsFailed`` error.
    public var tlsError: TLSError?
    /// The parse failure behind a ``Code/malformedResponse`` or ``Code/responseTooLarge`` error.
    public var httpError: HTTPError?

    public init(_ code: Code, _ message: String, origin: String, tlsError: TLSError? = nil, httpError: HTTPError? = nil) {
        self.code = code
        self.message = message
        self.origin = origin
        self.tlsError = tlsError
        self.httpError = httpError
    }

    public var description: String {
        var text = "\(code): \(origin): \(message)"
        if let tlsError { text += " [\(tlsError)]" }
        if let httpError { text += " [\(httpError)]" }
        return text
    }
}

import Foundation

/// What Steward pushes to a partner with: HTTP/1.1 over TLS under ``TLSClientContext``'s one
/// policy, with bounded time and memory, kept-alive connections per origin, and no redirect
/// followed unless asked.
///
/// ``send(_:)`` blocks the calling thread until the response is in or a limit is reached. It
/// waits in poll(2), never on Dispatch, so call it from a serial queue of the caller's own (the
/// partner's delivery queue), never from Dispatch's global queues or Swift concurrency's
/// cooperative pool, where a blocked thread starves other work.
///
/// One client may be shared by several delivery queues; build one per partner context, at
/// start-up and on reload.
public final class HTTPSClient: Sendable {
    /// How long and how much a partner may make Steward wait and buffer.
    public struct Limits: Sendable, Hashable {
        /// How long one address of the partner may take to accept a TCP connection.
        public var connectTimeout: Duration
        /// How long the partner may stay silent (or not take bytes) during the handshake, while
        /// the request is sent, and while the response arrives.
        public var ioTimeout: Duration
        /// How long a whole request may take, connections, retries and redirects included.
        public var requestDeadline: Duration
        /// The response head and body limits.
        public var http: HTTPLimits
        /// How many kept-alive connections to one origin wait for the next request; 0 keeps none.
        public var maximumIdleConnectionsPerOrigin: Int
        /// How long a kept-alive connection waits before it is dropped rather than reused: keep it
        /// below the partner's own keep-alive timeout.
        public var idleConnectionLifetime: Duration

        public init(connectTimeout: Duration = .seconds(10), ioTimeout: Duration = .seconds(30),
                    requestDeadline: Duration = .seconds(120), http: HTTPLimits = .client,
                    maximumIdleConnectionsPerOrigin: Int = 2, idleConnectionLifetime: Duration = .seconds(30)) {
            self.connectTimeout = connectTimeout
            self.ioTimeout = ioTimeout
            self.requestDeadline = requestDeadline
            self.http = http
            self.maximumIdleConnectionsPerOrigin = maximumIdleConnectionsPerOrigin
            self.idleConnectionLifetime = idleConnectionLifetime
        }
    }

    public let context: TLSClientContext
    public let limits: Limits
    /// Which redirects a request without a policy of its own follows; none by default.
    public let redirectPolicy: HTTPRedirectPolicy
    private let pool: HTTPSClientPool

    public init(context: TLSClientContext, limits: Limits = Limits(), redirectPolicy: HTTPRedirectPolicy = .never) {
        self.context = context
        self.limits = limits
        self.redirectPolicy = redirectPolicy
        pool = HTTPSClientPool(maximumPerOrigin: limits.maximumIdleConnectionsPerOrigin,
                               lifetime: limits.idleConnectionLifetime)
    }

    /// Sends `request` and returns the final response: a 3xx the policy does not follow is
    /// returned as it is, a redirect it refuses (another host, plain HTTP, too many) throws
    /// ``HTTPSClientError/Code/redirectRefused``. Blocks; see the type's documentation.
    public func send(_ request: Request) throws(HTTPSClientError) -> Response {
        let deadline = ContinuousClock.now + limits.requestDeadline
        let policy = request.redirectPolicy ?? redirectPolicy
        var current = request
        var redirectsFollowed = 0
        while true {
            let target = try HTTPSClientTarget(current.url)
            let response = try exchange(current, with: target, until: deadline)
            switch policy.decide(status: response.status, location: response.headers["Location"], currentURL: current.url,
                                 method: current.method, redirectsFollowed: redirectsFollowed) {
            case .notARedirect, .refuse(.redirectsNotFollowed):
                return response
            case .refuse(let refusal):
                throw HTTPSClientError(.redirectRefused,
                                       "the partner redirected the request and the redirect policy refuses it (\(refusal.rawValue)); "
                                           + "ask the partner for its current address and update the partner's URL",
                                       origin: target.origin)
            case .follow(let redirect):
                current = Self.request(current, redirectedBy: redirect)
                redirectsFollowed += 1
            }
        }
    }

    /// Closes the kept-alive connections, as on reload or shutdown.
    public func closeIdleConnections() {
        pool.removeAll()
    }

    /// The request to send after `redirect`. Credentials stay with the origin they were given for.
    private static func request(_ request: Request, redirectedBy redirect: HTTPRedirect) -> Request {
        var next = request
        next.url = redirect.url
        next.method = redirect.method
        if !redirect.keepsBody { next.body = [] }
        if (try? HTTPSClientTarget(redirect.url).origin) != (try? HTTPSClientTarget(request.url).origin) {
            next.headers.remove("Authorization")
            next.headers.remove("Cookie")
        }
        return next
    }

    /// One request and its response, on a kept-alive connection when there is one. A kept-alive
    /// connection the server closed meanwhile is replaced by a new one, once, when sending again
    /// is safe: the method is idempotent, or nothing of the request went out.
    private func exchange(_ request: Request, with target: HTTPSClientTarget, until deadline: ContinuousClock.Instant)
        throws(HTTPSClientError) -> Response {
        if let kept = pool.checkOut(target.origin) {
            var wrote = false
            do {
                return try exchange(request, to: target, on: kept, reused: true, wrote: &wrote, until: deadline)
            } catch where error.code == .connectionClosed && (request.isIdempotent || !wrote) {
                // The server closed the kept-alive connection; try once on a new one.
            }
        }
        let connection = try HTTPSClientConnection(to: target, context: context, limits: limits, deadline: deadline)
        var wrote = false
        return try exchange(request, to: target, on: connection, reused: false, wrote: &wrote, until: deadline)
    }

    private func exchange(_ request: Request, to target: HTTPSClientTarget, on connection: HTTPSClientConnection,
                          reused: Bool, wrote: inout Bool, until deadline: ContinuousClock.Instant)
        throws(HTTPSClientError) -> Response {
        try connection.write(request.serialized(for: target), wrote: &wrote, until: deadline)
        let response = try connection.readResponse(to: request.method, until: deadline)
        pool.checkIn(connection)
        return Response(status: response.status, version: response.version, headers: response.headers,
                        body: response.body, url: request.url, tls: connection.info, reusedConnection: reused)
    }
}

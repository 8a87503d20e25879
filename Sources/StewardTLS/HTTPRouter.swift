import Synchronization

/// Who is on the other end of a request, as the connection layer learned it. Handlers decide
/// with it (which partner holds this client certificate) and log its ids, never its subject
/// beyond what names a partner.
public struct HTTPRequestContext: Sendable, Hashable {
    /// The peer's address and port, as text: `203.0.113.7:51234`, `[2001:db8::7]:51234`.
    public var clientAddress: String?
    /// The negotiated protocol: `TLSv1.3`.
    public var tlsVersion: String?
    /// The negotiated cipher suite: `TLS_AES_256_GCM_SHA384`.
    public var cipherSuite: String?
    /// The subject of the verified client certificate, when the client presented one.
    public var clientCertificateSubject: String?
    /// The SHA-256 of the verified client certificate's SubjectPublicKeyInfo, base64, the form
    /// partner pins are written in.
    public var clientCertificateSPKISHA256: String?
    /// Anything else the connection layer learns, until it earns a field of its own.
    public var attributes: [String: String]

    public init(
        clientAddress: String? = nil, tlsVersion: String? = nil, cipherSuite: String? = nil,
        clientCertificateSubject: String? = nil, clientCertificateSPKISHA256: String? = nil,
        attributes: [String: String] = [:]
    ) {
        self.clientAddress = clientAddress
        self.tlsVersion = tlsVersion
        self.cipherSuite = cipherSuite
        self.clientCertificateSubject = clientCertificateSubject
        self.clientCertificateSPKISHA256 = clientCertificateSPKISHA256
        self.attributes = attributes
    }
}

/// Answers one request. Handlers run on the connection's queue and must not block it.
public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPRequestContext) -> HTTPResponse

/// Answers one request later, through `responder`, for work too slow for the connection's queue
/// (verifying a hashed client secret, reading a large page from the store).
///
/// The handler is called on the connection's queue like an ``HTTPHandler`` and must return at
/// once: it hands the work to a queue of its own, and that work calls
/// ``HTTPResponder/respond(_:)``. The connection answers nothing after this request until then,
/// so responses keep their requests' order; a handler that never responds is answered for by the
/// server with 503 once ``HTTPSServer/Limits/deferredResponseTimeout`` has passed.
public typealias HTTPDeferredHandler = @Sendable (HTTPRequest, HTTPRequestContext, HTTPResponder) -> Void

/// Where a deferred handler sends its one response, from any thread.
///
/// The first response counts; later ones are ignored. The server drops a response that arrives
/// after the connection closed, or after it answered 503 for a handler that took too long.
public final class HTTPResponder: Sendable {
    /// Taken out on the first response, so a second finds nothing and what it captured is let go.
    private let delivery: Mutex<(@Sendable (HTTPResponse) -> Void)?>

    /// A responder that hands its first response to `deliver`.
    public init(_ deliver: @escaping @Sendable (HTTPResponse) -> Void) {
        delivery = Mutex(deliver)
    }

    /// Sends `response` as the answer to the request, unless one was sent already.
    public func respond(_ response: HTTPResponse) {
        let deliver = delivery.withLock { delivery in
            defer { delivery = nil }
            return delivery
        }
        deliver?(response)
    }
}

/// What the router made of a request: a response now, or a handler that answers later.
public enum HTTPRouting: Sendable {
    /// The response to send: a synchronous handler's, or 400, 404 or 405.
    case response(HTTPResponse)
    /// Call the handler with the request, its context and a responder; the response comes through it.
    case deferred(HTTPDeferredHandler)
}

/// Sends each request to the handler registered for the longest path prefix that contains it.
///
/// Prefixes match whole segments: `/ims/oneroster` takes `/ims/oneroster` and
/// `/ims/oneroster/v1p1/users`, never `/ims/onerosterX`. The longest matching prefix wins even
/// when it does not serve the method (405 with `Allow`, not a fall back to a shorter prefix), so
/// a resource's methods are decided in one place. No prefix: 404. A GET handler also answers
/// HEAD; the serializer leaves the body out. Deferred handlers (``HTTPDeferredHandler``) are
/// routed by the same rules as synchronous ones; a prefix may mix both, one per method.
///
/// Paths are matched as sent, still percent-encoded: `/ims/%6Fneroster` is not
/// `/ims/oneroster`. A path with a `.` or `..` segment (plain or percent-encoded) is refused
/// with 400 rather than resolved, so no spelling of a path reaches a handler other than the
/// one its plain spelling reaches.
public struct HTTPRouter: Sendable {
    /// A route's handler for one method: answering now or later.
    private enum Handler: Sendable {
        case immediate(HTTPHandler)
        case deferred(HTTPDeferredHandler)
    }

    private struct Route: Sendable {
        let prefix: String
        var handlers: [HTTPMethod: Handler] = [:]
        var anyMethod: Handler?

        func handler(for method: HTTPMethod) -> Handler? {
            handlers[method] ?? (method == .head ? handlers[.get] : nil) ?? anyMethod
        }

        var allowedMethods: [HTTPMethod] {
            var methods = Set(handlers.keys)
            if methods.contains(.get) { methods.insert(.head) }
            return methods.sorted()
        }
    }

    /// Longest prefix first.
    private var routes: [Route] = []

    public init() {}

    /// Registers `handler` for requests under `prefix`, for `methods` (every method when nil).
    ///
    /// A trailing `/` on the prefix is ignored. Registering one prefix twice for the same method
    /// is a programming error and traps: routes are fixed when the server is built.
    public mutating func register(_ prefix: String, methods: [HTTPMethod]? = nil, handler: @escaping HTTPHandler) {
        register(prefix, methods: methods, .immediate(handler))
    }

    /// Registers `handler` to answer later for requests under `prefix`, for `methods` (every
    /// method when nil), under the same rules as ``register(_:methods:handler:)``.
    public mutating func register(_ prefix: String, methods: [HTTPMethod]? = nil, deferred handler: @escaping HTTPDeferredHandler) {
        register(prefix, methods: methods, .deferred(handler))
    }

    private mutating func register(_ prefix: String, methods: [HTTPMethod]?, _ handler: Handler) {
        precondition(prefix.hasPrefix("/"), "a route prefix starts with /")
        let prefix = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let index = routes.firstIndex { $0.prefix == prefix } ?? insertRoute(prefix)
        if let methods {
            for method in methods {
                precondition(routes[index].handlers[method] == nil, "\(method) \(prefix) is registered twice")
                routes[index].handlers[method] = handler
            }
        } else {
            precondition(routes[index].anyMethod == nil, "\(prefix) is registered twice for every method")
            routes[index].anyMethod = handler
        }
    }

    /// The prefix that `path` routes to, or nil for none.
    public func prefix(for path: String) -> String? {
        route(for: path)?.prefix
    }

    /// The synchronous handler's response, or 400, 404 or 405 when no handler takes the request.
    ///
    /// A deferred handler cannot answer here: its route is answered with 500, and the handler is
    /// not called. The server routes with ``route(_:context:)``, which serves both kinds.
    public func respond(to request: HTTPRequest, context: HTTPRequestContext) -> HTTPResponse {
        switch route(request, context: context) {
        case .response(let response):
            return response
        case .deferred:
            return .text(.internalServerError, "This path answers only through the HTTPS server.\n")
        }
    }

    /// Routes `request`: a synchronous handler is called and its response returned; a deferred
    /// one is returned for the caller to call with a responder. 400, 404 and 405 as for ``respond(to:context:)``.
    public func route(_ request: HTTPRequest, context: HTTPRequestContext) -> HTTPRouting {
        if Self.hasDotSegment(request.path) {
            return .response(.text(.badRequest, "The path has a . or .. segment; send it resolved.\n"))
        }
        guard let route = route(for: request.path) else {
            return .response(.text(.notFound, "Nothing is served at this path.\n"))
        }
        switch route.handler(for: request.method) {
        case .immediate(let handler)?:
            return .response(handler(request, context))
        case .deferred(let handler)?:
            return .deferred(handler)
        case nil:
            var response = HTTPResponse.text(.methodNotAllowed, "This path does not serve \(request.method).\n")
            response.headers.add("Allow", route.allowedMethods.map(\.rawValue).joined(separator: ", "))
            return .response(response)
        }
    }

    private func route(for path: String) -> Route? {
        routes.first { Self.prefix($0.prefix, contains: path) }
    }

    private mutating func insertRoute(_ prefix: String) -> Int {
        let index = routes.firstIndex { $0.prefix.utf8.count < prefix.utf8.count } ?? routes.endIndex
        routes.insert(Route(prefix: prefix), at: index)
        return index
    }

    static func prefix(_ prefix: String, contains path: String) -> Bool {
        guard path.utf8.starts(with: prefix.utf8) else { return false }
        let rest = path.utf8.dropFirst(prefix.utf8.count)
        return prefix == "/" || rest.isEmpty || rest.first == HTTPSyntax.slash
    }

    private static let dotSegments: Set<String> = [".", "..", "%2e", "%2e.", ".%2e", "%2e%2e"]

    private static func hasDotSegment(_ path: String) -> Bool {
        path.split(separator: "/", omittingEmptySubsequences: false).contains { segment in
            segment.count <= 6 && dotSegments.contains(segment.lowercased())
        }
    }
}

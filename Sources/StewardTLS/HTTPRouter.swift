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

/// Sends each request to the handler registered for the longest path prefix that contains it.
///
/// Prefixes match whole segments: `/ims/oneroster` takes `/ims/oneroster` and
/// `/ims/oneroster/v1p1/users`, never `/ims/onerosterX`. The longest matching prefix wins even
/// when it does not serve the method (405 with `Allow`, not a fall back to a shorter prefix), so
/// a resource's methods are decided in one place. No prefix: 404. A GET handler also answers
/// HEAD; the serializer leaves the body out.
///
/// Paths are matched as sent, still percent-encoded: `/ims/%6Fneroster` is not
/// `/ims/oneroster`. A path with a `.` or `..` segment (plain or percent-encoded) is refused
/// with 400 rather than resolved, so no spelling of a path reaches a handler other than the
/// one its plain spelling reaches.
public struct HTTPRouter: Sendable {
    private struct Route: Sendable {
        let prefix: String
        var handlers: [HTTPMethod: HTTPHandler] = [:]
        var anyMethod: HTTPHandler?

        func handler(for method: HTTPMethod) -> HTTPHandler? {
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

    /// The handler's response, or 400, 404 or 405 when no handler takes the request.
    public func respond(to request: HTTPRequest, context: HTTPRequestContext) -> HTTPResponse {
        if Self.hasDotSegment(request.path) {
            return .text(.badRequest, "The path has a . or .. segment; send it resolved.\n")
        }
        guard let route = route(for: request.path) else {
            return .text(.notFound, "Nothing is served at this path.\n")
        }
        guard let handler = route.handler(for: request.method) else {
            var response = HTTPResponse.text(.methodNotAllowed, "This path does not serve \(request.method).\n")
            response.headers.add("Allow", route.allowedMethods.map(\.rawValue).joined(separator: ", "))
            return response
        }
        return handler(request, context)
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

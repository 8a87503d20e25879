/// A connector partners pull from: it answers their requests on the daemon's HTTPS listener,
/// under path prefixes it names. The daemon authenticates each request (an OAuth bearer token,
/// and the partner's client certificate when its file binds one), checks that the partner is
/// active and uses this kind, applies its rate limit, and only then calls `serve` with that
/// partner's view. A connector never sees a request it has not been handed, nor any other
/// partner's data.
public protocol PullConnector: ConnectorModule {
    /// The path prefixes `kind` serves, such as `/ims/oneroster`. Mounted at start.
    func routePrefixes(for kind: String) -> [String]
    /// Answers one authenticated request. Runs on a queue of its own, never on an event loop,
    /// so it may read many pages of the view.
    func serve(_ request: PartnerRequest, kind: String) -> PartnerResponse
    /// The answer for a request the daemon refuses before `serve`, in the protocol's own error
    /// format (OneRoster's `imsx_StatusInfo`, Clever's `{"message":…}`).
    func refuse(_ refusal: PartnerRefusal, kind: String) -> PartnerResponse
}

/// One request of an authenticated partner.
public struct PartnerRequest: Sendable {
    public let method: String
    /// The path, percent-decoded.
    public let path: String
    /// The query's `name=value` pairs, percent-decoded, in order.
    public let query: [(name: String, value: String)]
    /// Request headers, names as sent.
    public let headers: [(name: String, value: String)]
    public let partner: String
    /// The token's OAuth scopes (full URIs).
    public let scopes: Set<String>
    /// The partner's view: everything the connector may send.
    public let view: any SharedView
    /// Where the connector says what it sent: which records, with which fields.
    public let disclosures: any DisclosureRecorder

    public init(method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
                partner: String, scopes: Set<String>, view: any SharedView, disclosures: any DisclosureRecorder) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.partner = partner
        self.scopes = scopes
        self.view = view
        self.disclosures = disclosures
    }

    /// The first value of query parameter `name`.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }
}

/// A connector's answer.
public struct PartnerResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Why the daemon refuses a request before the connector serves it.
public enum PartnerRefusal: Sendable, Equatable {
    /// No bearer token, or one that is unknown, expired or revoked (401).
    case unauthenticated
    /// The partner is not active, sharing is paused, or it does not use this connector (403).
    case forbidden(reason: String)
    /// The partner's request rate is exceeded (429).
    case rateLimited(retryAfterSeconds: Int)
    /// The daemon cannot answer now (503).
    case unavailable

    public var status: Int {
        switch self {
        case .unauthenticated: return 401
        case .forbidden: return 403
        case .rateLimited: return 429
        case .unavailable: return 503
        }
    }
}

/// Records what a connector sent, per person: the daemon keeps one row per partner, person and
/// day, so a parent can be told who received their child's data and which fields.
public protocol DisclosureRecorder: Sendable {
    /// `ids` are ids of records this request read from the view (an id from an earlier request
    /// is not known to the daemon: read what you send); `fields` the field names sent for them.
    func sent(_ ids: [String], fields: Set<String>)
}

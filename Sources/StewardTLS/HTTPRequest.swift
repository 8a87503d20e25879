/// The head of a request: everything before its body.
///
/// The parser hands out heads it has checked (``HTTPRequestParser``); one made with
/// ``init(method:target:version:headers:)`` is taken as given, which is what tests and the
/// router want.
public struct HTTPRequestHead: Sendable, Hashable {
    public let method: HTTPMethod
    /// The request target exactly as sent: `/ims/oneroster/v1p1/users?limit=100`.
    public let target: String
    /// The target's path, still percent-encoded: `/ims/oneroster/v1p1/users`. For an absolute-form
    /// target (`https://host/a`) the path part (`/a`); for `OPTIONS *`, `*`.
    public let path: String
    /// What follows the first `?` of the target, without the `?`; nil when there is no `?`.
    public let query: String?
    public let version: HTTPVersion
    public let headers: HTTPHeaders
    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    public let keepsAlive: Bool
    /// Whether the client sent `Expect: 100-continue` (HTTP/1.1 only, as RFC 9110 §10.1.1 says) and
    /// waits for a 100 Continue before it sends the body. The parser never writes anything; the
    /// connection layer may send the interim response when ``HTTPRequestParser/headAwaitingBody``
    /// shows this head.
    public let expectsContinue: Bool

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:]) {
        self.method = method
        self.target = target
        (self.path, self.query) = Self.split(target)
        self.version = version
        self.headers = headers
        self.keepsAlive = headers.keepConnectionAlive(version)
        self.expectsContinue =
            version.isHTTP11OrLater
            && headers["Expect"].map { Substring($0).trimmingOptionalWhitespace().lowercased() == "100-continue" } == true
    }

    /// A head the parser read, checked against the rules that need both the request line and the
    /// headers: the target's form (RFC 9112 §3.2) and `Host`.
    init(validating line: HTTPRequestLine, headers: HTTPHeaders) throws(HTTPError) {
        try Self.checkTargetForm(line.target, method: line.method)
        try Self.checkHost(headers, version: line.version)
        self.init(method: line.method, target: line.target, version: line.version, headers: headers)
    }

    private static func split(_ target: String) -> (path: String, query: String?) {
        var pathAndQuery = Substring(target)
        if let authority = absoluteFormAuthority(target) {
            pathAndQuery = pathAndQuery[authority.endIndex...]
        }
        guard let question = pathAndQuery.firstIndex(of: "?") else {
            return (pathAndQuery.isEmpty ? "/" : String(pathAndQuery), nil)
        }
        let path = pathAndQuery[..<question]
        return (path.isEmpty ? "/" : String(path), String(pathAndQuery[pathAndQuery.index(after: question)...]))
    }

    /// `scheme://authority` of an absolute-form target, or nil for any other form.
    private static func absoluteFormAuthority(_ target: String) -> Substring? {
        let lowercased = target.prefix(8).lowercased()
        let schemeLength = lowercased.hasPrefix("https://") ? 8 : lowercased.hasPrefix("http://") ? 7 : nil
        guard let schemeLength else { return nil }
        let afterScheme = target.dropFirst(schemeLength)
        let end = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
        return afterScheme[..<end].isEmpty ? nil : target[..<end]
    }

    /// Origin form (`/path`) and absolute form (`https://host/path`) for every method but CONNECT;
    /// `*` for OPTIONS. Authority form exists only for CONNECT, which a roster server has no use for.
    private static func checkTargetForm(_ target: String, method: HTTPMethod) throws(HTTPError) {
        let isServed: Bool
        if target == "*" {
            isServed = method == .options
        } else {
            isServed = method != .connect && (target.hasPrefix("/") || absoluteFormAuthority(target) != nil)
        }
        guard isServed else {
            throw HTTPError(
                .invalidTarget, "The request target must be a path starting with / (or * for OPTIONS); CONNECT is not served.")
        }
    }

    /// Exactly one `Host` in HTTP/1.1, at most one in HTTP/1.0 (RFC 9112 §3.2), holding only the
    /// characters of a host and port.
    private static func checkHost(_ headers: HTTPHeaders, version: HTTPVersion) throws(HTTPError) {
        let hosts = headers.values(for: "Host")
        guard hosts.count == 1 || (hosts.isEmpty && !version.isHTTP11OrLater) else {
            throw HTTPError(.invalidHost, "An HTTP/1.1 request needs exactly one Host header; this one has \(hosts.count).")
        }
        guard hosts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isHostByte) }) else {
            throw HTTPError(.invalidHost, "The Host header is not a host name or address with an optional port.")
        }
    }

    /// unreserved, sub-delims, `:`, `[`, `]` and `%`: the bytes of RFC 3986's host and port.
    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~!$&'()*+,;=:[]%".utf8.contains(byte)
        }
    }
}

/// A request: its head and its whole body (chunked bodies already decoded, trailers dropped).
public struct HTTPRequest: Sendable, Hashable {
    public var head: HTTPRequestHead
    public var body: [UInt8]

    public init(head: HTTPRequestHead, body: [UInt8] = []) {
        self.head = head
        self.body = body
    }

    public init(
        method: HTTPMethod = .get, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:],
        body: [UInt8] = []
    ) {
        self.init(head: HTTPRequestHead(method: method, target: target, version: version, headers: headers), body: body)
    }

    public var method: HTTPMethod { head.method }
    public var target: String { head.target }
    public var path: String { head.path }
    public var query: String? { head.query }
    public var version: HTTPVersion { head.version }
    public var headers: HTTPHeaders { head.headers }
    public var keepsAlive: Bool { head.keepsAlive }
    public var expectsContinue: Bool { head.expectsContinue }
}

/// `method SP request-target SP HTTP-version`, with single spaces and nothing else (RFC 9112 §3).
struct HTTPRequestLine: HTTPStartLine {
    let method: HTTPMethod
    let target: String
    let version: HTTPVersion

    static let skipsLeadingEmptyLines = true
    private static let http2Preface = Array("PRI * HTTP/2.0".utf8)

    init(parsing line: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPError) {
        if line.elementsEqual(Self.http2Preface) {
            throw HTTPError(.unexpectedHTTP2Preface, "The client sent the HTTP/2 preface; this server speaks HTTP/1.1 only.")
        }
        let invalid = HTTPError(.invalidRequestLine, "The request line is not `METHOD target HTTP/1.1` with single spaces.")
        guard let firstSpace = line.firstIndex(of: HTTPSyntax.space),
            let secondSpace = line[(firstSpace + 1)...].firstIndex(of: HTTPSyntax.space),
            HTTPSyntax.isToken(line[..<firstSpace])
        else { throw invalid }
        let target = line[(firstSpace + 1)..<secondSpace]
        guard target.count <= limits.maximumTargetLength else { throw Self.targetTooLong(limits) }
        guard !target.isEmpty, let version = HTTPVersion(line[(secondSpace + 1)...]) else { throw invalid }
        guard target.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw HTTPError(.invalidTarget, "The request target holds a space, control, non-ASCII byte or fragment (#).")
        }
        guard version.major == 1 else {
            throw HTTPError(.unsupportedVersion, "\(version) is not supported; send HTTP/1.1.")
        }
        self.method = HTTPMethod(String(decoding: line[..<firstSpace], as: UTF8.self))
        self.target = String(decoding: target, as: UTF8.self)
        self.version = version.minor > 1 ? .http1_1 : version
    }

    static func overlongError(_ unfinishedLine: ArraySlice<UInt8>, limits: HTTPLimits) -> HTTPError {
        guard let firstSpace = unfinishedLine.firstIndex(of: HTTPSyntax.space) else {
            return HTTPError(.headTooLarge, "The request line is longer than \(limits.maximumHeadLength) bytes.")
        }
        let targetSoFar = unfinishedLine[(firstSpace + 1)...].prefix { $0 != HTTPSyntax.space }
        if targetSoFar.count > limits.maximumTargetLength { return targetTooLong(limits) }
        return HTTPError(.headTooLarge, "The request line is longer than \(limits.maximumHeadLength) bytes.")
    }

    private static func targetTooLong(_ limits: HTTPLimits) -> HTTPError {
        HTTPError(.targetTooLong, "The request target is longer than \(limits.maximumTargetLength) bytes.")
    }
}

extension HTTPVersion {
    /// Parses `HTTP/` DIGIT `.` DIGIT, case-sensitively as RFC 9112 §2.3 requires.
    init?(_ bytes: ArraySlice<UInt8>) {
        guard bytes.count == 8, bytes.starts(with: "HTTP/".utf8) else { return nil }
        let major = bytes[bytes.startIndex + 5]
        let minor = bytes[bytes.startIndex + 7]
        guard HTTPSyntax.isDigit(major), bytes[bytes.startIndex + 6] == UInt8(ascii: "."), HTTPSyntax.isDigit(minor) else {
            return nil
        }
        self.init(major: Int(major - UInt8(ascii: "0")), minor: Int(minor - UInt8(ascii: "0")))
    }
}

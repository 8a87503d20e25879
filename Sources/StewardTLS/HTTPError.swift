/// A message that broke HTTP/1.1's rules or one of Steward's limits, found while parsing a request
/// (server side) or a response (client side).
///
/// Each error carries the status a server answers with and whether the connection must close.
/// Every parse error closes today: once framing is in doubt, nobody can say where the next
/// message starts, and guessing is exactly what request smuggling exploits. The flag is a property
/// rather than a rule so a later code (a refused body that was read and discarded, say) can keep
/// the connection.
///
/// Messages name limits, counts and header names, never header values or bodies: those may carry
/// student data or credentials.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable kind of failure and the status it answers with. New codes may be added without
    /// breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        /// The status a server sends when a request fails this way. Client-side codes carry the
        /// status of the nearest server-side rule; a client reports them and never sends them.
        public let status: HTTPStatus
        /// Whether the connection must be closed after the error response.
        public let closesConnection: Bool

        public init(rawValue: String, status: HTTPStatus, closesConnection: Bool = true) {
            self.rawValue = rawValue
            self.status = status
            self.closesConnection = closesConnection
        }

        public var description: String { rawValue }

        /// The request line is not `method SP request-target SP HTTP-version`.
        public static let invalidRequestLine = Code(rawValue: "invalid-request-line", status: .badRequest)
        /// The status line of a response is not `HTTP-version SP 3DIGIT SP reason`.
        public static let invalidStatusLine = Code(rawValue: "invalid-status-line", status: .badRequest)
        /// The request target has a control, space, non-ASCII byte or fragment, or is in a form
        /// Steward does not serve (authority-form, `*` outside OPTIONS).
        public static let invalidTarget = Code(rawValue: "invalid-target", status: .badRequest)
        /// A header line is not `token ":" OWS value OWS`, or its value holds a control character.
        public static let invalidHeader = Code(rawValue: "invalid-header", status: .badRequest)
        /// A header line starts with whitespace (obs-fold), which RFC 9112 §5.2 lets a server refuse.
        public static let obsoleteLineFolding = Code(rawValue: "obsolete-line-folding", status: .badRequest)
        /// A line ended in a bare LF instead of CRLF.
        public static let invalidLineEnding = Code(rawValue: "invalid-line-ending", status: .badRequest)
        /// The client opened with the HTTP/2 connection preface; Steward speaks HTTP/1.1 only.
        public static let unexpectedHTTP2Preface = Code(rawValue: "unexpected-http2-preface", status: .badRequest)
        /// The version is well-formed but not HTTP/1.x.
        public static let unsupportedVersion = Code(rawValue: "unsupported-version", status: .httpVersionNotSupported)
        /// An HTTP/1.1 request without exactly one valid `Host` header.
        public static let invalidHost = Code(rawValue: "invalid-host", status: .badRequest)
        /// Both `Content-Length` and `Transfer-Encoding`: the classic smuggling vector.
        public static let conflictingFraming = Code(rawValue: "conflicting-framing", status: .badRequest)
        /// A `Content-Length` that is not digits, or several that disagree.
        public static let invalidContentLength = Code(rawValue: "invalid-content-length", status: .badRequest)
        /// A `Transfer-Encoding` whose last coding is not `chunked`, that names `chunked` twice, is
        /// empty, or appears in an HTTP/1.0 message.
        public static let invalidTransferEncoding = Code(rawValue: "invalid-transfer-encoding", status: .badRequest)
        /// A well-formed `Transfer-Encoding` with codings besides `chunked` (gzip, identity…), which
        /// Steward does not decode (RFC 9112 §6.1 asks for 501).
        public static let unsupportedTransferEncoding = Code(
            rawValue: "unsupported-transfer-encoding", status: .notImplemented)
        /// A chunk-size line, chunk extension or chunk terminator that is not exactly as RFC 9112 §7.1 spells it.
        public static let invalidChunk = Code(rawValue: "invalid-chunk", status: .badRequest)
        /// The request target is longer than ``HTTPLimits/maximumTargetLength``.
        public static let targetTooLong = Code(rawValue: "target-too-long", status: .uriTooLong)
        /// The start line and headers (or a chunked body's trailers) exceed ``HTTPLimits/maximumHeadLength``.
        public static let headTooLarge = Code(rawValue: "head-too-large", status: .requestHeaderFieldsTooLarge)
        /// More header lines (or trailer lines) than ``HTTPLimits/maximumHeaderCount``.
        public static let tooManyHeaders = Code(rawValue: "too-many-headers", status: .requestHeaderFieldsTooLarge)
        /// The body is, or declares that it will be, longer than ``HTTPLimits/maximumBodyLength``.
        public static let bodyTooLarge = Code(rawValue: "body-too-large", status: .contentTooLarge)
        /// The connection ended in the middle of a message.
        public static let truncatedMessage = Code(rawValue: "truncated-message", status: .badRequest)
        /// A response switched protocols (101) although Steward never asks to upgrade.
        public static let unexpectedUpgrade = Code(rawValue: "unexpected-upgrade", status: .badRequest)
    }

    public var code: Code
    /// What was wrong, in words a partner's engineer or an operator can act on.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The status a server answers with.
    public var status: HTTPStatus { code.status }
    /// Whether the server must close the connection after answering.
    public var closesConnection: Bool { code.closesConnection }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The response a server sends for this error: its status and the message as plain text.
    /// Serialize it with `closesConnection: error.closesConnection`.
    public var response: HTTPResponse {
        HTTPResponse(
            status: status,
            headers: ["Content-Type": "text/plain; charset=utf-8"],
            body: Array("\(status.code) \(status.reasonPhrase): \(message)\n".utf8))
    }
}

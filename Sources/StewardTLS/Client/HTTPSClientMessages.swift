import Foundation

extension HTTPSClient {
    /// One request to a partner.
    public struct Request: Sendable, Hashable {
        public var method: HTTPMethod
        /// `https://host[:port]/path?query`; anything else is refused.
        public var url: URL
        /// Extra headers. The client writes `Host`, `Content-Length` and `Connection` itself and
        /// drops any given here; lines whose name is not a token are dropped, control characters
        /// in values are sent as spaces.
        public var headers: HTTPHeaders
        public var body: [UInt8]
        /// Which redirects to follow; nil uses the client's policy. Either way a redirect never
        /// leaves HTTPS.
        public var redirectPolicy: HTTPRedirectPolicy?

        public init(method: HTTPMethod = .get, url: URL, headers: HTTPHeaders = [:], body: [UInt8] = [],
                    redirectPolicy: HTTPRedirectPolicy? = nil) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.redirectPolicy = redirectPolicy
        }

        /// Whether sending the request twice has the effect of sending it once (RFC 9110 §9.2.2),
        /// which allows a retry after a kept-alive connection turned out closed.
        var isIdempotent: Bool { [.get, .head, .put, .delete, .options].contains(method) }

        /// The request as bytes: request line, headers, `Content-Length` when there is a body or
        /// the method carries one, and the body.
        func serialized(for target: HTTPSClientTarget) -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(256 + body.count)
            bytes.append(contentsOf: "\(method) \(target.requestTarget) HTTP/1.1\r\nHost: \(target.authority)\r\n".utf8)
            for field in headers where Self.isWritten(field) {
                bytes.append(contentsOf: field.name.utf8)
                bytes.append(contentsOf: ": ".utf8)
                for byte in field.value.utf8 {
                    bytes.append(HTTPSyntax.isFieldValueByte(byte) ? byte : HTTPSyntax.space)
                }
                bytes.append(contentsOf: "\r\n".utf8)
            }
            if !body.isEmpty || [.post, .put, .patch].contains(method) {
                bytes.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
            }
            bytes.append(contentsOf: "\r\n".utf8)
            bytes.append(contentsOf: body)
            return bytes
        }

        private static let framingNames = ["Host", "Content-Length", "Transfer-Encoding", "Connection"]

        private static func isWritten(_ field: HTTPField) -> Bool {
            HTTPSyntax.isToken(ArraySlice(field.name.utf8))
                && !framingNames.contains { HTTPHeaders.namesMatch($0, field.name) }
        }
    }

    /// A partner's answer, with what the audit log records about the connection it came on.
    public struct Response: Sendable, Hashable {
        public var status: HTTPStatus
        public var version: HTTPVersion
        public var headers: HTTPHeaders
        public var body: [UInt8]
        /// The URL that answered: the request's, or where its redirects led.
        public var url: URL
        /// The TLS version, suite and server certificate (its SHA-256 fingerprint and key) of the
        /// connection that carried the response.
        public var tls: TLSConnectionInfo
        /// Whether the response came on a kept-alive connection rather than a new one.
        public var reusedConnection: Bool
    }
}

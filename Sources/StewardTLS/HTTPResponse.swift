/// A response: what a handler returns on the server side, and what ``HTTPResponseParser`` reads
/// on the client side.
public struct HTTPResponse: Sendable, Hashable {
    public var status: HTTPStatus
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// A plain-text response, for errors and simple answers.
    public static func text(_ status: HTTPStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }

    /// Whether the response itself says `Connection: close`.
    public var closesConnection: Bool { headers.listElements(for: "Connection").contains("close") }

    /// The response as bytes to write: status line, headers, and the body with its length.
    ///
    /// The serializer owns framing: it drops any `Content-Length` and `Transfer-Encoding` a
    /// handler set and writes `Content-Length` itself, except for 1xx, 204 and 304, which have no
    /// body. For a HEAD request it writes the length the body would have and leaves the body out.
    /// With `closesConnection` it writes `Connection: close` in place of any `Connection` header.
    ///
    /// A handler cannot split the response (CRLF injection): header lines whose name is not a
    /// token are dropped, and control characters in values are written as spaces. For an
    /// HTTP/1.0 client that asked for keep-alive, the connection layer adds `Connection: keep-alive`.
    public func serialized(respondingTo method: HTTPMethod = .get, closesConnection: Bool = false) -> [UInt8] {
        let hasBody = !status.forbidsBody
        let sendsBody = hasBody && method != .head
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + (sendsBody ? body.count : 0))
        writeHead(into: &bytes, contentLength: hasBody ? body.count : nil, closesConnection: closesConnection)
        if sendsBody { bytes.append(contentsOf: body) }
        return bytes
    }

    /// Writes the status line, the headers, the framing header and the empty line.
    ///
    /// - Parameter contentLength: the `Content-Length` to write, or nil for none (and then
    ///   `Transfer-Encoding: chunked` when `isChunked`).
    func writeHead(into bytes: inout [UInt8], contentLength: Int?, isChunked: Bool = false, closesConnection: Bool) {
        bytes.append(contentsOf: "\(version) \(status.code) \(status.reasonPhrase)\r\n".utf8)
        for field in headers where Self.isWritten(field, closesConnection: closesConnection) {
            bytes.append(contentsOf: field.name.utf8)
            bytes.append(contentsOf: ": ".utf8)
            for byte in field.value.utf8 {
                bytes.append(HTTPSyntax.isFieldValueByte(byte) ? byte : HTTPSyntax.space)
            }
            bytes.append(contentsOf: "\r\n".utf8)
        }
        if let contentLength {
            bytes.append(contentsOf: "Content-Length: \(contentLength)\r\n".utf8)
        } else if isChunked {
            bytes.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        }
        if closesConnection {
            bytes.append(contentsOf: "Connection: close\r\n".utf8)
        }
        bytes.append(contentsOf: "\r\n".utf8)
    }

    private static func isWritten(_ field: HTTPField, closesConnection: Bool) -> Bool {
        guard HTTPSyntax.isToken(ArraySlice(field.name.utf8)) else { return false }
        if HTTPHeaders.namesMatch(field.name, "Content-Length") || HTTPHeaders.namesMatch(field.name, "Transfer-Encoding") {
            return false
        }
        return !(closesConnection && HTTPHeaders.namesMatch(field.name, "Connection"))
    }
}

/// Turns the bytes a client sends into requests, as they arrive, one request at a time.
///
/// The connection layer appends whatever it reads (a request may be split anywhere, several
/// may arrive in one read) and calls ``nextRequest()`` until it returns nil:
///
/// ```swift
/// parser.append(bytesRead)
/// while let request = try parser.nextRequest() { answer(request) }
/// ```
///
/// Pulling one request at a time lets the server answer pipelined requests in order and stop
/// reading when it falls behind. No socket, no clock: timeouts against slow clients (slowloris)
/// belong to the connection layer, which can ask ``isIdle`` whether a request is under way.
///
/// **Strict by design.** Steward's server faces partners' clients and whatever proxies sit in
/// between; a proxy that frames a byte stream one way while Steward frames it another lets one
/// request hide inside another (request smuggling). So every ambiguity RFC 9112 lets a server
/// tolerate is refused instead, with 400 and a closed connection: a bare LF line ending,
/// whitespace before a header's colon, obsolete line folding, both `Content-Length` and
/// `Transfer-Encoding`, disagreeing lengths, any coding but a lone `chunked`, loose chunk sizes,
/// controls or non-ASCII bytes in the target or header names, a missing or repeated `Host`.
/// The exceptions RFC 9112 makes for robustness that cannot change framing are kept: empty
/// lines before a request line are skipped, and identical repeated `Content-Length` values are one.
///
/// After an error, or after a request that closes the connection, the parser reads nothing more:
/// bytes behind such a request are never taken as another request.
public struct HTTPRequestParser: Sendable {
    private var reader: HTTPMessageReader<HTTPRequestLine, HTTPRequestHead>

    public init(limits: HTTPLimits = .server) {
        reader = HTTPMessageReader(limits: limits)
    }

    public var limits: HTTPLimits { reader.limits }

    /// Adds bytes read from the connection. Bytes after the last request of the connection are dropped.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { reader.append(bytes) }

    /// Adds bytes read from the connection. Bytes after the last request of the connection are dropped.
    public mutating func append(_ bytes: some Sequence<UInt8>) { reader.append(bytes) }

    /// The next complete request, or nil until more bytes arrive (or after the last request).
    ///
    /// Throws the first error in the byte stream, and the same error on every later call: the
    /// server answers with ``HTTPError/response`` and closes the connection.
    public mutating func nextRequest() throws(HTTPError) -> HTTPRequest? {
        let limits = reader.limits
        let request = try reader.next { (line, headers) throws(HTTPError) in
            let head = try HTTPRequestHead(validating: line, headers: headers)
            let framing = try HTTPBodyFraming.ofRequest(headers, version: head.version, limits: limits)
            return (head, framing, head.keepsAlive)
        }
        return request.map { HTTPRequest(head: $0.0, body: $0.body) }
    }

    /// The head of a request whose body has not fully arrived, so a server can answer
    /// `Expect: 100-continue` (``HTTPRequestHead/expectsContinue``) or refuse early. Nil between requests.
    public var headAwaitingBody: HTTPRequestHead? { reader.headAwaitingBody }

    /// Whether no part of a request has arrived: the connection is between requests, where the
    /// keep-alive idle timeout applies rather than the request timeouts.
    public var isIdle: Bool { reader.isIdle }

    /// Whether the connection's last request has been read (it asked to close, or the stream
    /// was malformed); the server closes once it has answered.
    public var isFinished: Bool { !reader.isReading }
}

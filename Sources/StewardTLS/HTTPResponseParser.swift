/// Turns the bytes a partner's server sends back into responses, as they arrive: the client
/// side of Steward's pushes.
///
/// Framing follows RFC 9112 §6.3 with the same strictness as the server side: a response to
/// HEAD, and every 1xx, 204 and 304, has no body whatever its headers say; otherwise `chunked`,
/// `Content-Length`, or, with neither, everything until the server closes, which the
/// connection layer reports with ``finish()``. Interim responses (100 Continue, 103 Early Hints)
/// are read and skipped; 101 is an error, since Steward never asks to switch protocols.
///
/// A response that closes the connection (`Connection: close`, HTTP/1.0 without keep-alive, or
/// delimited by close) is the last one read: later bytes are dropped.
public struct HTTPResponseParser: Sendable {
    private var reader: HTTPMessageReader<HTTPStatusLine, HTTPResponse>

    public init(limits: HTTPLimits = .client) {
        reader = HTTPMessageReader(limits: limits)
    }

    public var limits: HTTPLimits { reader.limits }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { reader.append(bytes) }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: some Sequence<UInt8>) { reader.append(bytes) }

    /// The next complete final response, or nil until more bytes arrive.
    ///
    /// - Parameter method: the method of the request this response answers, which decides
    ///   whether it has a body (HEAD never has one). It is read when the response's head completes.
    public mutating func nextResponse(to method: HTTPMethod) throws(HTTPError) -> HTTPResponse? {
        let limits = reader.limits
        let response = try reader.next { (line, headers) throws(HTTPError) in
            try Self.interpret(line, headers: headers, method: method, limits: limits)
        }
        return response.map(Self.assemble)
    }

    /// Reports that the server closed the connection: returns a response delimited by the close,
    /// nil if the connection ended between responses, and throws
    /// ``HTTPError/Code/truncatedMessage`` if it ended in the middle of one.
    public mutating func finish() throws(HTTPError) -> HTTPResponse? {
        try reader.finish().map(Self.assemble)
    }

    /// Whether the connection can carry no further response: the last one closed it, it ended,
    /// or the stream was malformed.
    public var isFinished: Bool { !reader.isReading }

    /// Whether no part of a response has arrived since the last one.
    public var isIdle: Bool { reader.isIdle }

    private static func interpret(
        _ line: HTTPStatusLine, headers: HTTPHeaders, method: HTTPMethod, limits: HTTPLimits
    ) throws(HTTPError) -> (head: HTTPResponse, framing: HTTPBodyFraming, keepsAlive: Bool)? {
        if line.status == .switchingProtocols {
            throw HTTPError(.unexpectedUpgrade, "The server switched protocols although none was asked for.")
        }
        if line.status.isInformational { return nil }
        let framing = try HTTPBodyFraming.ofResponse(
            headers, version: line.version, status: line.status, method: method, limits: limits)
        let head = HTTPResponse(status: line.status, version: line.version, headers: headers)
        return (head, framing, framing != .untilClose && headers.keepConnectionAlive(line.version))
    }

    private static func assemble(_ message: (HTTPResponse, body: [UInt8])) -> HTTPResponse {
        var response = message.0
        response.body = message.body
        return response
    }
}

/// `HTTP-version SP 3DIGIT SP reason-phrase` (RFC 9112 §4). A missing reason phrase is accepted
/// with or without its space, since servers differ and the phrase carries no meaning.
struct HTTPStatusLine: HTTPStartLine {
    let version: HTTPVersion
    let status: HTTPStatus

    static let skipsLeadingEmptyLines = false

    init(parsing line: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPError) {
        let invalid = HTTPError(.invalidStatusLine, "The status line is not `HTTP/1.1 200 reason`.")
        let start = line.startIndex
        guard line.count >= 12, let version = HTTPVersion(line.prefix(8)), line[start + 8] == HTTPSyntax.space,
            let code = HTTPSyntax.decimal(line[(start + 9)..<(start + 12)]), (100...599).contains(code),
            line.count == 12 || line[start + 12] == HTTPSyntax.space,
            line.dropFirst(13).allSatisfy(HTTPSyntax.isFieldValueByte)
        else { throw invalid }
        guard version.major == 1 else {
            throw HTTPError(.unsupportedVersion, "The server answered in \(version); only HTTP/1.x is spoken.")
        }
        self.version = version.minor > 1 ? .http1_1 : version
        self.status = HTTPStatus(code)
    }

    static func overlongError(_ unfinishedLine: ArraySlice<UInt8>, limits: HTTPLimits) -> HTTPError {
        HTTPError(.headTooLarge, "The status line is longer than \(limits.maximumHeadLength) bytes.")
    }
}

/// Writes a response whose body is produced piece by piece (an export page by page) without
/// holding all of it: the head with `Transfer-Encoding: chunked`, then one chunk per piece, then
/// the last chunk.
///
/// ```swift
/// var writer = HTTPChunkedWriter(response: HTTPResponse(status: .ok, headers: ["Content-Type": "text/csv"]))
/// send(writer.head)
/// for page in pages { send(writer.chunk(page)) }
/// send(writer.end())
/// ```
///
/// Only for responses that have a body: not for HEAD requests, 1xx, 204 or 304.
public struct HTTPChunkedWriter: Sendable {
    /// The status line and headers, to send first. The response's body, if any, is not part of it.
    public let head: [UInt8]
    /// Whether ``end()`` has written the last chunk.
    public private(set) var hasEnded = false

    public init(response: HTTPResponse, closesConnection: Bool = false) {
        precondition(!response.status.forbidsBody, "a \(response.status.code) response has no body to stream")
        var head: [UInt8] = []
        response.writeHead(into: &head, contentLength: nil, isChunked: true, closesConnection: closesConnection)
        self.head = head
    }

    /// One chunk carrying `bytes`. Empty input writes nothing, since a zero-size chunk would end the body.
    public func chunk(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        precondition(!hasEnded, "chunk(_:) after end()")
        guard !bytes.isEmpty else { return [] }
        var chunk = Array(String(bytes.count, radix: 16).utf8)
        chunk.reserveCapacity(chunk.count + bytes.count + 4)
        chunk.append(contentsOf: "\r\n".utf8)
        chunk.append(contentsOf: bytes)
        chunk.append(contentsOf: "\r\n".utf8)
        return chunk
    }

    /// One chunk carrying `bytes`. Empty input writes nothing, since a zero-size chunk would end the body.
    public func chunk(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { chunk($0) }
    }

    /// The last chunk and the end of the body (no trailers).
    public mutating func end() -> [UInt8] {
        precondition(!hasEnded, "end() called twice")
        hasEnded = true
        return Array("0\r\n\r\n".utf8)
    }
}

/// How a message's body is delimited, decided from its head by RFC 9112 §6.3, strictly.
///
/// Request smuggling lives in the gap between two parsers that frame one byte stream
/// differently, so any head whose framing another parser could read another way is refused
/// rather than interpreted: `Content-Length` beside `Transfer-Encoding`, disagreeing lengths,
/// `chunked` twice or not last, codings Steward does not decode, `Transfer-Encoding` in HTTP/1.0.
public enum HTTPBodyFraming: Sendable, Hashable {
    /// Exactly this many bytes (zero for a request with neither header).
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
    /// Everything until the server closes the connection; responses only.
    case untilClose

    /// The framing of a request. A request without `Content-Length` or `Transfer-Encoding` has no
    /// body (requests are never delimited by closing).
    static func ofRequest(_ headers: HTTPHeaders, version: HTTPVersion, limits: HTTPLimits) throws(HTTPError) -> Self {
        try framing(headers, version: version, limits: limits) ?? .length(0)
    }

    /// The framing of a response to `method`: none for HEAD, 1xx, 204 and 304, whatever the
    /// headers say; until close when neither length header is present.
    static func ofResponse(
        _ headers: HTTPHeaders, version: HTTPVersion, status: HTTPStatus, method: HTTPMethod, limits: HTTPLimits
    ) throws(HTTPError) -> Self {
        if method == .head || status.forbidsBody { return .length(0) }
        return try framing(headers, version: version, limits: limits) ?? .untilClose
    }

    private static func framing(_ headers: HTTPHeaders, version: HTTPVersion, limits: HTTPLimits) throws(HTTPError) -> Self? {
        let hasTransferEncoding = headers.contains("Transfer-Encoding")
        let contentLength = try Self.contentLength(headers, limits: limits)
        if hasTransferEncoding && contentLength != nil {
            throw HTTPError(
                .conflictingFraming, "The message has both Content-Length and Transfer-Encoding; send exactly one of them.")
        }
        if hasTransferEncoding {
            try checkTransferEncoding(headers, version: version)
            return .chunked
        }
        return contentLength.map { .length($0) }
    }

    /// The one length every `Content-Length` line and list element agrees on (RFC 9110 §8.6 lets a
    /// recipient accept `42, 42`), or nil without the header.
    private static func contentLength(_ headers: HTTPHeaders, limits: HTTPLimits) throws(HTTPError) -> Int? {
        var agreed: Int?
        for value in headers.values(for: "Content-Length") {
            for element in value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let digits = HTTPSyntax.trimmingWhitespace(ArraySlice(element))
                guard let length = HTTPSyntax.decimal(digits) else {
                    throw HTTPError(.invalidContentLength, "Content-Length is not a decimal number of bytes.")
                }
                if let agreed, agreed != length {
                    throw HTTPError(.invalidContentLength, "The message has Content-Length values that disagree.")
                }
                agreed = length
            }
        }
        if let agreed, agreed > limits.maximumBodyLength {
            throw HTTPError(.bodyTooLarge, "The body is larger than the limit of \(limits.maximumBodyLength) bytes.")
        }
        return agreed
    }

    /// Accepts exactly one coding, `chunked`, over all `Transfer-Encoding` lines.
    private static func checkTransferEncoding(_ headers: HTTPHeaders, version: HTTPVersion) throws(HTTPError) {
        guard version.isHTTP11OrLater else {
            throw HTTPError(.invalidTransferEncoding, "Transfer-Encoding is not defined for HTTP/1.0 messages.")
        }
        let codings = headers.listElements(for: "Transfer-Encoding")
        guard codings.allSatisfy({ HTTPSyntax.isToken(ArraySlice($0.utf8)) }) else {
            throw HTTPError(.invalidTransferEncoding, "Transfer-Encoding names a coding that is not a token, or gives it parameters.")
        }
        guard codings.last == "chunked", codings.count(where: { $0 == "chunked" }) == 1 else {
            throw HTTPError(
                .invalidTransferEncoding, "Transfer-Encoding must end in chunked and name it once, so the body's end is known.")
        }
        guard codings.count == 1 else {
            throw HTTPError(.unsupportedTransferEncoding, "Only the chunked transfer coding is supported; send the body without others.")
        }
    }
}

import StewardTLS
import Testing

@Suite struct HTTPLimitsTests {
    private let small = HTTPLimits(maximumTargetLength: 64, maximumHeadLength: 256, maximumHeaderCount: 4, maximumBodyLength: 16)

    private func status(_ text: String, _ limits: HTTPLimits, pieceSize: Int? = nil) -> HTTPStatus? {
        let bytes = wire(text)
        let result = pieceSize.map { parseRequests(bytes, pieceSize: $0, limits: limits) } ?? parseRequests(bytes, limits: limits)
        return result.error?.status
    }

    @Test func theDefaultsAreModest() {
        let limits = HTTPLimits()
        #expect(limits.maximumTargetLength == 8192)
        #expect(limits.maximumHeadLength == 16384)
        #expect(limits.maximumHeaderCount == 100)
        #expect(limits.maximumBodyLength == 1 << 20)
        #expect(HTTPLimits.client.maximumBodyLength > HTTPLimits.server.maximumBodyLength)
    }

    @Test func aTargetAtTheLimitIsAcceptedAndOneByteMoreIs414() {
        let atLimit = "/" + String(repeating: "a", count: 63)
        #expect(parseRequests(wire("GET \(atLimit) HTTP/1.1\nHost: h\n\n"), limits: small).requests.count == 1)
        #expect(status("GET \(atLimit)a HTTP/1.1\nHost: h\n\n", small) == .uriTooLong)
    }

    @Test func anOverlongTargetThatNeverEndsIs414OnceTheHeadLimitIsReached() {
        let endless = "GET /" + String(repeating: "a", count: 400)
        #expect(status(endless, small) == .uriTooLong)
        #expect(status(endless, small, pieceSize: 7) == .uriTooLong)
    }

    @Test func aRequestLineLongOnlyInItsMethodIs431() {
        #expect(status(String(repeating: "G", count: 400), small) == .requestHeaderFieldsTooLarge)
    }

    @Test func aHeadBlockPastTheLimitIs431WhetherOrNotItEnds() {
        let header = "X-Big: " + String(repeating: "v", count: 300) + "\n"
        #expect(status("GET / HTTP/1.1\nHost: h\n\(header)\n", small) == .requestHeaderFieldsTooLarge)
        #expect(status("GET / HTTP/1.1\nHost: h\n\(header)", small, pieceSize: 1) == .requestHeaderFieldsTooLarge)
        let result = parseRequests(wire("GET / HTTP/1.1\nHost: h\nX: " + String(repeating: "v", count: 300)), limits: small)
        #expect(result.error?.code == .headTooLarge)
        #expect(result.error?.closesConnection == true)
    }

    @Test func aHeadExactlyAtTheLimitIsAccepted() {
        let base = "GET / HTTP/1.1\nHost: h\nX: \n\n"
        let padding = String(repeating: "v", count: 256 - wire(base).count)
        let text = "GET / HTTP/1.1\nHost: h\nX: \(padding)\n\n"
        #expect(wire(text).count == 256)
        #expect(parseRequests(wire(text), limits: small).requests.count == 1)
        #expect(status("GET / HTTP/1.1\nHost: h\nX: \(padding)v\n\n", small) == .requestHeaderFieldsTooLarge)
    }

    @Test func leadingEmptyLinesCountTowardTheHeadLimit() {
        #expect(status(String(repeating: "\n", count: 200), small) == .requestHeaderFieldsTooLarge)
    }

    @Test func moreHeaderLinesThanTheLimitIs431() {
        let four = "GET / HTTP/1.1\nHost: h\nA: 1\nB: 2\nC: 3\n\n"
        #expect(parseRequests(wire(four), limits: small).requests.count == 1)
        let result = parseRequests(wire("GET / HTTP/1.1\nHost: h\nA: 1\nB: 2\nC: 3\nD: 4\n\n"), limits: small)
        #expect(result.error?.code == .tooManyHeaders)
        #expect(result.error?.status == .requestHeaderFieldsTooLarge)
    }

    @Test func aContentLengthPastTheLimitIs413BeforeAnyBodyArrives() {
        let result = parseRequests(wire("POST / HTTP/1.1\nHost: h\nContent-Length: 17\n\n"), limits: small)
        #expect(result.error?.code == .bodyTooLarge)
        #expect(result.error?.status == .contentTooLarge)
        let atLimit = parseRequests(wire("POST / HTTP/1.1\nHost: h\nContent-Length: 16\n\n") + Array(repeating: 0x41, count: 16), limits: small)
        #expect(atLimit.requests.first?.body.count == 16)
    }

    @Test func aChunkedBodyPastTheLimitIs413AsSoonAsAChunkSizeSaysSo() {
        let result = parseRequests(wire("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n8\n12345678\n9\n"), limits: small)
        #expect(result.error?.status == .contentTooLarge)
        let atLimit = parseRequests(
            wire("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n8\n12345678\n8\n12345678\n0\n\n"), limits: small)
        #expect(atLimit.requests.first?.body.count == 16)
    }

    @Test func chunkExtensionsCountTowardTheBodyLimit() {
        let result = parseRequests(
            wire("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n1;\(String(repeating: "e", count: 20))\nx\n0\n\n"),
            limits: small)
        #expect(result.error?.code == .bodyTooLarge)
    }

    @Test func trailersAreHeldToTheHeaderLimits() {
        let many = "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\nA: 1\nB: 2\nC: 3\nD: 4\nE: 5\n\n"
        #expect(status(many, small) == .requestHeaderFieldsTooLarge)
        let long = "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\nA: \(String(repeating: "v", count: 300))\n\n"
        #expect(status(long, small) == .requestHeaderFieldsTooLarge)
    }

    @Test func everyParseErrorMapsToItsStatusAndClosesTheConnection() {
        let expected: [(HTTPError.Code, HTTPStatus)] = [
            (.invalidRequestLine, 400), (.invalidTarget, 400), (.invalidHeader, 400), (.obsoleteLineFolding, 400),
            (.invalidLineEnding, 400), (.unexpectedHTTP2Preface, 400), (.invalidHost, 400), (.conflictingFraming, 400),
            (.invalidContentLength, 400), (.invalidTransferEncoding, 400), (.invalidChunk, 400),
            (.unsupportedTransferEncoding, 501), (.unsupportedVersion, 505), (.targetTooLong, 414),
            (.headTooLarge, 431), (.tooManyHeaders, 431), (.bodyTooLarge, 413),
        ]
        for (code, status) in expected {
            #expect(code.status == status, "\(code)")
            #expect(code.closesConnection, "\(code)")
        }
    }

    @Test func anErrorsResponseCarriesItsStatusAndClosesTheConnection() {
        let error = HTTPError(.tooManyHeaders, "The message has more than 4 header lines.")
        let bytes = error.response.serialized(closesConnection: error.closesConnection)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(text.hasSuffix("431 Request Header Fields Too Large: The message has more than 4 header lines.\n"))
    }
}

import StewardTLS
import Testing

/// Every ambiguity a front proxy could frame differently is refused with 400 (or 501/505) and
/// a closed connection, never interpreted.
@Suite struct HTTPRequestSmugglingTests {
    private func expectRefused(
        _ text: String, _ code: HTTPError.Code, crlf: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let result = parseRequests(wire(text, crlf: crlf))
        #expect(result.error?.code == code, sourceLocation: sourceLocation)
        #expect(result.error?.closesConnection == true, sourceLocation: sourceLocation)
        #expect(result.requests.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func contentLengthBesideTransferEncodingIsRefused() {
        expectRefused("POST / HTTP/1.1\nHost: h\nContent-Length: 4\nTransfer-Encoding: chunked\n\n0\n\n", .conflictingFraming)
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\nContent-Length: 0\n\n0\n\n", .conflictingFraming)
        #expect(HTTPError.Code.conflictingFraming.status == .badRequest)
    }

    @Test func disagreeingContentLengthsAreRefused() {
        expectRefused("POST / HTTP/1.1\nHost: h\nContent-Length: 4\nContent-Length: 5\n\nabcde", .invalidContentLength)
        expectRefused("POST / HTTP/1.1\nHost: h\nContent-Length: 4, 5\n\nabcde", .invalidContentLength)
    }

    @Test func contentLengthMustBePlainDigits() {
        for value in ["+4", "-1", "0x4", "4a", "4 4", "", "4,", " ", "4.0", "١"] {
            expectRefused("POST / HTTP/1.1\nHost: h\nContent-Length: \(value)\n\nabcd", .invalidContentLength)
        }
    }

    @Test func aHugeContentLengthIsTooLargeNotAnOverflow() {
        expectRefused("POST / HTTP/1.1\nHost: h\nContent-Length: 99999999999999999999999999\n\n", .bodyTooLarge)
    }

    @Test func transferEncodingMustBeOneChunked() {
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked, identity\n\n0\n\n", .invalidTransferEncoding)
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n0\n\n", .invalidTransferEncoding)
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip\n\n0\n\n", .invalidTransferEncoding)
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: \n\n0\n\n", .invalidTransferEncoding)
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked;q=1\n\n0\n\n", .invalidTransferEncoding)
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: \"chunked\"\n\n0\n\n", .invalidTransferEncoding)
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: xchunked\n\n0\n\n", .invalidTransferEncoding)
    }

    @Test func codingsBesideChunkedAreNotImplemented() {
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip, chunked\n\n0\n\n", .unsupportedTransferEncoding)
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: identity, chunked\n\n0\n\n", .unsupportedTransferEncoding)
        #expect(HTTPError.Code.unsupportedTransferEncoding.status == .notImplemented)
    }

    @Test func transferEncodingInHTTP10IsRefused() {
        expectRefused("POST / HTTP/1.0\nTransfer-Encoding: chunked\n\n0\n\n", .invalidTransferEncoding)
    }

    @Test func looseChunkSizesAreRefused() {
        for size in ["-1", "+5", "0x5", " 5", "5 ", "", "g", "5\t", "12345678901234567", "5;\u{1}"] {
            expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n\(size)\nhello\n0\n\n", .invalidChunk)
        }
    }

    @Test func aChunkSizeNearIntMaxIsTooLarge() {
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\nFFFFFFFFFFFFFFFF\nx\n", .bodyTooLarge)
    }

    @Test func chunkDataMustEndInCRLF() {
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5\nhelloX\n0\n\n", .invalidChunk)
        expectRefused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", .invalidChunk, crlf: false)
    }

    @Test func aBareLineFeedAnywhereIsRefused() {
        expectRefused("GET / HTTP/1.1\nHost: h\n\n", .invalidLineEnding, crlf: false)
        expectRefused("GET / HTTP/1.1\r\nHost: h\n\r\n", .invalidLineEnding, crlf: false)
        expectRefused("GET / HTTP/1.1\r\nHost: h\r\n\n", .invalidLineEnding, crlf: false)
        expectRefused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", .invalidLineEnding, crlf: false)
    }

    @Test func aBareCarriageReturnIsRefused() {
        expectRefused("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", .invalidHeader, crlf: false)
        expectRefused("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget, crlf: false)
    }

    @Test func obsoleteLineFoldingIsRefused() {
        expectRefused("GET / HTTP/1.1\nHost: h\nX-Long: one\n two\n\n", .obsoleteLineFolding)
        expectRefused("GET / HTTP/1.1\nHost: h\nX-Long: one\n\ttwo\n\n", .obsoleteLineFolding)
        expectRefused("GET / HTTP/1.1\n Host: h\n\n", .obsoleteLineFolding)
    }

    @Test func whitespaceBeforeAHeaderColonIsRefused() {
        expectRefused("POST / HTTP/1.1\nHost: h\nTransfer-Encoding : chunked\n\n0\n\n", .invalidHeader)
        expectRefused("POST / HTTP/1.1\nHost: h\nContent-Length\t: 0\n\n", .invalidHeader)
    }

    @Test func headerNamesMustBeTokens() {
        for name in ["", "Bad Name", "X\u{1}", "Zoë", "X(y)", "X\"y"] {
            expectRefused("GET / HTTP/1.1\nHost: h\n\(name): v\n\n", .invalidHeader)
        }
        expectRefused("GET / HTTP/1.1\nHost: h\nNo-Colon\n\n", .invalidHeader)
    }

    @Test func controlCharactersInHeaderValuesAreRefused() {
        for control in ["\u{0}", "\u{1}", "\u{7F}", "\u{1B}"] {
            expectRefused("GET / HTTP/1.1\nHost: h\nX: a\(control)b\n\n", .invalidHeader)
        }
    }

    @Test func theTargetMayHoldOnlyVisibleASCIIWithoutAFragment() {
        for target in ["/a\u{1}b", "/zoë", "/a\u{7F}", "/a#frag", "/a\tb"] {
            expectRefused("GET \(target) HTTP/1.1\nHost: h\n\n", .invalidTarget)
        }
    }

    @Test func theRequestLineHasSingleSpacesAndAValidVersion() {
        for line in ["GET  / HTTP/1.1", "GET / HTTP/1.1 ", "GET /", "GET / HTTP/1", "GET / http/1.1", "GET / HTTP/1.10",
            "GET\t/ HTTP/1.1", "G(T / HTTP/1.1", " GET / HTTP/1.1", "GET / HTTP/1.1 extra",
        ] {
            expectRefused("\(line)\nHost: h\n\n", .invalidRequestLine)
        }
    }

    @Test func otherMajorVersionsAre505() {
        expectRefused("GET / HTTP/2.0\nHost: h\n\n", .unsupportedVersion)
        expectRefused("GET / HTTP/0.9\nHost: h\n\n", .unsupportedVersion)
        #expect(HTTPError.Code.unsupportedVersion.status == .httpVersionNotSupported)
    }

    @Test func theHTTP2PrefaceIsRefusedAsSuch() {
        expectRefused("PRI * HTTP/2.0\n\nSM\n\n", .unexpectedHTTP2Preface)
    }

    @Test func http11NeedsExactlyOneValidHost() {
        expectRefused("GET / HTTP/1.1\n\n", .invalidHost)
        expectRefused("GET / HTTP/1.1\nHost: a\nHost: b\n\n", .invalidHost)
        expectRefused("GET / HTTP/1.1\nHost: a\nHost: a\n\n", .invalidHost)
        expectRefused("GET / HTTP/1.1\nHost: \n\n", .invalidHost)
        expectRefused("GET / HTTP/1.1\nHost: a b\n\n", .invalidHost)
        expectRefused("GET / HTTP/1.1\nHost: evil.example/path\n\n", .invalidHost)
        expectRefused("GET / HTTP/1.0\nHost: a\nHost: b\n\n", .invalidHost)
    }

    @Test func aHostWithPortOrIPv6LiteralIsAccepted() {
        #expect(onlyRequest("GET / HTTP/1.1\nHost: steward.example:8443\n\n") != nil)
        #expect(onlyRequest("GET / HTTP/1.1\nHost: [2001:db8::1]:443\n\n") != nil)
    }

    @Test func theClassicCLTESmuggleDoesNotYieldASecondRequest() {
        let attack = "POST / HTTP/1.1\nHost: h\nContent-Length: 13\nTransfer-Encoding: chunked\n\n0\n\nSMUGGLED"
        let result = parseRequests(wire(attack))
        #expect(result.requests.isEmpty)
        #expect(result.error?.status == .badRequest)
    }

    @Test func aTESmuggleWithObfuscatedValueIsRefused() {
        for value in ["chunked\u{B}", " chunked, x", "chunked,chunked", "identity"] {
            let result = parseRequests(wire("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: \(value)\n\n0\n\n"))
            #expect(result.requests.isEmpty, "Transfer-Encoding: \(value)")
            #expect(result.error != nil)
        }
    }
}

import StewardTLS
import Testing

@Suite struct HTTPResponseParserTests {
    @Test func serializedResponsesRoundTripThroughTheParser() throws {
        let responses = [
            HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: Array(#"{"users":[]}"#.utf8)),
            HTTPResponse(status: .created, headers: ["Location": "/acks/7"]),
            HTTPResponse(status: .noContent, headers: ["X-Request-Id": "r1"]),
            HTTPResponse(status: .notModified, headers: ["ETag": "\"v2\""]),
            HTTPResponse(status: .tooManyRequests, headers: ["Retry-After": "30"], body: Array("slow down".utf8)),
            HTTPResponse(status: .ok, body: (0..<5000).map { UInt8(truncatingIfNeeded: $0) }),
        ]
        let stream = responses.flatMap { $0.serialized() }
        let result = parseResponses(stream)
        #expect(result.error == nil)
        #expect(result.responses.count == responses.count)
        for (parsed, original) in zip(result.responses, responses) {
            #expect(parsed.status == original.status)
            #expect(parsed.body == (original.status.forbidsBody ? [] : original.body))
            for field in original.headers { #expect(parsed.headers[field.name] == field.value) }
        }
    }

    @Test func theRoundTripHoldsWhereverTheStreamIsSplit() {
        let stream = HTTPResponse(status: .ok, headers: ["A": "b"], body: Array("hello".utf8)).serialized()
            + HTTPResponse(status: .accepted, body: Array("queued".utf8)).serialized()
        for cut in 1..<stream.count {
            let result = parseResponses(stream, cuts: [cut])
            #expect(result.error == nil && result.responses.map(\.body) == [Array("hello".utf8), Array("queued".utf8)], "cut \(cut)")
        }
    }

    @Test func aChunkedResponseWithTrailersIsDecoded() throws {
        let bytes = wire("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n2;ext\nde\n0\nDigest: x\n\n")
        for cut in 1..<bytes.count {
            let result = parseResponses(bytes, cuts: [cut])
            #expect(result.responses.first?.body == Array("abcde".utf8), "cut \(cut)")
        }
    }

    @Test func aResponseWithoutLengthRunsUntilTheServerCloses() throws {
        let bytes = wire("HTTP/1.1 200 OK\nContent-Type: text/plain\n\n") + Array("all of it, then close".utf8)
        var parser = HTTPResponseParser()
        parser.append(bytes)
        #expect(try parser.nextResponse(to: .get) == nil)
        let response = try #require(try parser.finish())
        #expect(response.body == Array("all of it, then close".utf8))
        #expect(parser.isFinished)
    }

    @Test func aCloseDelimitedBodyIsHeldToTheBodyLimit() {
        let limits = HTTPLimits(maximumBodyLength: 8)
        let result = parseResponses(wire("HTTP/1.1 200 OK\n\n") + Array(repeating: 0x41, count: 9), closes: true, limits: limits)
        #expect(result.error?.code == .bodyTooLarge)
    }

    @Test func interimResponsesAreSkipped() {
        let bytes = wire("HTTP/1.1 100 Continue\n\nHTTP/1.1 103 Early Hints\nLink: </a>; rel=preload\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok")
        let result = parseResponses(bytes)
        #expect(result.responses.map(\.status) == [.ok])
        #expect(result.responses.first?.body == Array("ok".utf8))
    }

    @Test func switchingProtocolsIsAnError() {
        #expect(parseResponses(wire("HTTP/1.1 101 Switching Protocols\nUpgrade: h2c\n\n")).error?.code == .unexpectedUpgrade)
    }

    @Test func aResponseToHeadHasNoBodyWhateverItsLengthSays() {
        let bytes = wire("HTTP/1.1 200 OK\nContent-Length: 1234\n\nHTTP/1.1 404 Not Found\nContent-Length: 0\n\n")
        let result = parseResponses(bytes, method: .head)
        #expect(result.responses.map(\.status) == [.ok, .notFound])
        #expect(result.responses.first?.headers["Content-Length"] == "1234")
    }

    @Test func noContentAndNotModifiedHaveNoBodyWhateverTheirHeadersSay() {
        let bytes = wire("HTTP/1.1 204 No Content\nTransfer-Encoding: chunked\n\nHTTP/1.1 304 Not Modified\nContent-Length: 10\n\nHTTP/1.1 200 OK\nContent-Length: 1\n\nx")
        let result = parseResponses(bytes)
        #expect(result.responses.map(\.status) == [.noContent, .notModified, .ok])
    }

    @Test func aResponseThatClosesIsTheLastOne() throws {
        var parser = HTTPResponseParser()
        parser.append(wire("HTTP/1.1 200 OK\nConnection: close\nContent-Length: 1\n\nxHTTP/1.1 200 OK\nContent-Length: 0\n\n"))
        #expect(try parser.nextResponse(to: .get)?.body == [UInt8(ascii: "x")])
        #expect(try parser.nextResponse(to: .get) == nil)
        #expect(parser.isFinished)
    }

    @Test func anHTTP10ResponseWithoutKeepAliveIsTheLastOne() throws {
        var parser = HTTPResponseParser()
        parser.append(wire("HTTP/1.0 200 OK\nContent-Length: 0\n\n"))
        #expect(try parser.nextResponse(to: .get)?.version == .http1_0)
        #expect(parser.isFinished)
    }

    @Test func aConnectionThatEndsMidMessageIsTruncated() {
        #expect(parseResponses(wire("HTTP/1.1 200 OK\nContent-Length: 10\n\nabc"), closes: true).error?.code == .truncatedMessage)
        #expect(parseResponses(wire("HTTP/1.1 200 OK\nContent-"), closes: true).error?.code == .truncatedMessage)
        #expect(parseResponses(wire("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nab"), closes: true).error?.code == .truncatedMessage)
    }

    @Test func aConnectionThatEndsBetweenResponsesIsClean() {
        let result = parseResponses(wire("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), closes: true)
        #expect(result.error == nil)
        #expect(result.responses.count == 1)
    }

    @Test func statusLinesMayOmitTheReasonPhrase() {
        #expect(parseResponses(wire("HTTP/1.1 200\nContent-Length: 0\n\n")).responses.first?.status == .ok)
        #expect(parseResponses(wire("HTTP/1.1 200 \nContent-Length: 0\n\n")).responses.first?.status == .ok)
    }

    @Test func malformedStatusLinesAreRefused() {
        for line in ["HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1  200 OK", "HTTP/1.1 abc OK", "http/1.1 200 OK", "HTTP/1.1 700 X",
            "HTTP/1.1 200OK", "ICY 200 OK",
        ] {
            #expect(parseResponses(wire("\(line)\nContent-Length: 0\n\n")).error?.code == .invalidStatusLine, "\(line)")
        }
        #expect(parseResponses(wire("HTTP/2.0 200 OK\n\n")).error?.code == .unsupportedVersion)
    }

    @Test func responsesAreFramedAsStrictlyAsRequests() {
        let cases: [(String, HTTPError.Code)] = [
            ("HTTP/1.1 200 OK\nContent-Length: 3\nTransfer-Encoding: chunked\n\n", .conflictingFraming),
            ("HTTP/1.1 200 OK\nContent-Length: 3\nContent-Length: 4\n\n", .invalidContentLength),
            ("HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\n", .unsupportedTransferEncoding),
            ("HTTP/1.1 200 OK\nTransfer-Encoding: chunked, gzip\n\n", .invalidTransferEncoding),
            ("HTTP/1.1 200 OK\nX: folded\n value\n\n", .obsoleteLineFolding),
            ("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nz\n", .invalidChunk),
        ]
        for (text, code) in cases {
            #expect(parseResponses(wire(text)).error?.code == code, "\(text)")
        }
    }

    @Test func responseHeadAndBodyLimitsAreEnforced() {
        let limits = HTTPLimits(maximumHeadLength: 128, maximumHeaderCount: 2, maximumBodyLength: 10)
        #expect(parseResponses(wire("HTTP/1.1 200 OK\nX: \(String(repeating: "v", count: 200))\n\n"), limits: limits).error?.code == .headTooLarge)
        #expect(parseResponses(wire("HTTP/1.1 200 OK\nA: 1\nB: 2\nC: 3\n\n"), limits: limits).error?.code == .tooManyHeaders)
        #expect(parseResponses(wire("HTTP/1.1 200 OK\nContent-Length: 11\n\n"), limits: limits).error?.code == .bodyTooLarge)
        #expect(parseResponses(wire("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nB\n"), limits: limits).error?.code == .bodyTooLarge)
    }
}

import StewardTLS
import Testing

@Suite struct HTTPRequestParserTests {
    @Test func aSimpleGetGivesMethodTargetPathQueryVersionAndHeaders() throws {
        let request = try #require(
            onlyRequest("GET /ims/oneroster/v1p1/users?limit=100&offset=0 HTTP/1.1\nHost: steward.example\nAccept: application/json\n\n"))
        #expect(request.method == .get)
        #expect(request.target == "/ims/oneroster/v1p1/users?limit=100&offset=0")
        #expect(request.path == "/ims/oneroster/v1p1/users")
        #expect(request.query == "limit=100&offset=0")
        #expect(request.version == .http1_1)
        #expect(request.headers.fields == [
            HTTPField(name: "Host", value: "steward.example"), HTTPField(name: "Accept", value: "application/json"),
        ])
        #expect(request.body.isEmpty)
    }

    @Test func headersKeepTheirOrderAndRepeatsAndAreLookedUpIgnoringCase() throws {
        let request = try #require(onlyRequest("GET / HTTP/1.1\nHost: h\nX-Tag: one\nx-tag: two\nACCEPT:   text/csv  \n\n"))
        #expect(request.headers["accept"] == "text/csv")
        #expect(request.headers["X-TAG"] == "one")
        #expect(request.headers.values(for: "x-Tag") == ["one", "two"])
        #expect(request.headers.map(\.name) == ["Host", "X-Tag", "x-tag", "ACCEPT"])
        #expect(!request.headers.contains("Content-Type"))
    }

    @Test func aTargetWithoutQueryHasNilQueryAndAnEmptyQueryIsEmpty() throws {
        #expect(try #require(onlyRequest("GET /a HTTP/1.1\nHost: h\n\n")).query == nil)
        #expect(try #require(onlyRequest("GET /a? HTTP/1.1\nHost: h\n\n")).query == "")
    }

    @Test func anAbsoluteFormTargetGivesItsPathAndQuery() throws {
        let request = try #require(onlyRequest("GET https://steward.example/ims/x?y=1 HTTP/1.1\nHost: steward.example\n\n"))
        #expect(request.path == "/ims/x")
        #expect(request.query == "y=1")
        let bare = try #require(onlyRequest("GET http://steward.example HTTP/1.1\nHost: steward.example\n\n"))
        #expect(bare.path == "/")
    }

    @Test func optionsAsteriskIsAcceptedAndOtherMethodsWithAsteriskAreNot() throws {
        #expect(try #require(onlyRequest("OPTIONS * HTTP/1.1\nHost: h\n\n")).path == "*")
        #expect(requestErrorCode("GET * HTTP/1.1\nHost: h\n\n") == .invalidTarget)
    }

    @Test func authorityFormAndConnectAreRefused() {
        #expect(requestErrorCode("CONNECT steward.example:443 HTTP/1.1\nHost: steward.example:443\n\n") == .invalidTarget)
        #expect(requestErrorCode("CONNECT / HTTP/1.1\nHost: h\n\n") == .invalidTarget)
        #expect(requestErrorCode("GET steward.example/x HTTP/1.1\nHost: h\n\n") == .invalidTarget)
    }

    @Test func unknownMethodsParseSoTheRouterCanAnswer405() throws {
        let request = try #require(onlyRequest("PROPFIND /x HTTP/1.1\nHost: h\n\n"))
        #expect(request.method == HTTPMethod("PROPFIND"))
    }

    @Test func aContentLengthBodyIsReadExactly() throws {
        let request = try #require(onlyRequest("POST /acks HTTP/1.1\nHost: h\nContent-Length: 11\n\nhello world"))
        #expect(request.body == Array("hello world".utf8))
    }

    @Test func identicalRepeatedContentLengthsCountAsOne() throws {
        let request = try #require(onlyRequest("POST / HTTP/1.1\nHost: h\nContent-Length: 3\nContent-Length: 3, 3\n\nabc"))
        #expect(request.body == Array("abc".utf8))
    }

    @Test func aChunkedBodyIsDecodedWithExtensionsAndTrailersSkipped() throws {
        let text = """
            POST /acks HTTP/1.1
            Host: h
            Transfer-Encoding: chunked

            5;name=value
            hello
            6 ; quoted="a b"
             world
            0
            X-Checksum: abc
            X-Other: d

            GET /next HTTP/1.1
            Host: h


            """
        let result = parseRequests(wire(text))
        #expect(result.error == nil)
        #expect(result.requests.map(\.path) == ["/acks", "/next"])
        #expect(result.requests.first?.body == Array("hello world".utf8))
        #expect(result.requests.first?.headers.contains("X-Checksum") == false)
    }

    @Test func chunkedIsMatchedIgnoringCaseAndUppercaseHexSizesWork() throws {
        let request = try #require(onlyRequest("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: CHUNKED\n\nA\n0123456789\n000\n\n"))
        #expect(request.body == Array("0123456789".utf8))
    }

    @Test func aGetMayCarryABody() throws {
        let request = try #require(onlyRequest("GET /search HTTP/1.1\nHost: h\nContent-Length: 2\n\n{}"))
        #expect(request.body == Array("{}".utf8))
    }

    @Test func aRequestWithoutLengthHeadersHasNoBodyAndTheNextBytesAreTheNextRequest() {
        let result = parseRequests(wire("DELETE /a HTTP/1.1\nHost: h\n\nGET /b HTTP/1.1\nHost: h\n\n"))
        #expect(result.requests.map(\.path) == ["/a", "/b"])
        #expect(result.requests.allSatisfy { $0.body.isEmpty })
    }

    @Test func emptyLinesBeforeARequestLineAreSkipped() {
        let result = parseRequests(wire("POST /a HTTP/1.1\nHost: h\nContent-Length: 1\n\nx\n\nGET /b HTTP/1.1\nHost: h\n\n"))
        #expect(result.error == nil)
        #expect(result.requests.map(\.path) == ["/a", "/b"])
    }

    @Test func http11KeepsAliveUnlessConnectionClose() throws {
        #expect(try #require(onlyRequest("GET / HTTP/1.1\nHost: h\n\n")).keepsAlive)
        #expect(try #require(onlyRequest("GET / HTTP/1.1\nHost: h\nConnection: Close\n\n")).keepsAlive == false)
        #expect(try #require(onlyRequest("GET / HTTP/1.1\nHost: h\nConnection: te, close\n\n")).keepsAlive == false)
    }

    @Test func http10ClosesUnlessKeepAlive() throws {
        #expect(try #require(onlyRequest("GET / HTTP/1.0\n\n")).keepsAlive == false)
        #expect(try #require(onlyRequest("GET / HTTP/1.0\nConnection: Keep-Alive\n\n")).keepsAlive)
    }

    @Test func aHigherHTTP1MinorVersionIsServedAsHTTP11() throws {
        #expect(try #require(onlyRequest("GET / HTTP/1.7\nHost: h\n\n")).version == .http1_1)
    }

    @Test func bytesAfterARequestThatClosesAreNeverParsed() throws {
        var parser = HTTPRequestParser()
        parser.append(wire("GET /a HTTP/1.1\nHost: h\nConnection: close\n\nGET /smuggled HTTP/1.1\nHost: h\n\n"))
        #expect(try parser.nextRequest()?.path == "/a")
        #expect(try parser.nextRequest() == nil)
        #expect(parser.isFinished)
        parser.append(wire("GET /later HTTP/1.1\nHost: h\n\n"))
        #expect(try parser.nextRequest() == nil)
    }

    @Test func anErrorIsThrownAgainOnEveryLaterCall() {
        var parser = HTTPRequestParser()
        parser.append(wire("GET / HTTP/1.1\nHost: h\nBad Header: x\n\n"))
        let first = #expect(throws: HTTPError.self) { try parser.nextRequest() }
        parser.append(wire("GET / HTTP/1.1\nHost: h\n\n"))
        let second = #expect(throws: HTTPError.self) { try parser.nextRequest() }
        #expect(first == second)
        #expect(first?.code == .invalidHeader)
        #expect(parser.isFinished)
    }

    @Test func requestsBeforeAMalformedOneInTheSameReadAreStillReturned() {
        let result = parseRequests(wire("GET /a HTTP/1.1\nHost: h\n\nGET /b HTTP/1.1\nHost: h\nContent-Length: x\n\n"))
        #expect(result.requests.map(\.path) == ["/a"])
        #expect(result.error?.code == .invalidContentLength)
    }

    @Test func expectContinueIsNotedAndTheHeadIsVisibleBeforeTheBody() throws {
        var parser = HTTPRequestParser()
        parser.append(wire("PUT /x HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 4\n\n"))
        #expect(try parser.nextRequest() == nil)
        let head = try #require(parser.headAwaitingBody)
        #expect(head.expectsContinue)
        #expect(head.path == "/x")
        parser.append(Array("data".utf8))
        let request = try #require(try parser.nextRequest())
        #expect(request.expectsContinue)
        #expect(request.body == Array("data".utf8))
        #expect(parser.headAwaitingBody == nil)
    }

    @Test func expectContinueIsIgnoredInHTTP10() throws {
        #expect(try #require(onlyRequest("PUT /x HTTP/1.0\nExpect: 100-continue\n\n")).expectsContinue == false)
    }

    @Test func theParserSaysWhenNoRequestIsUnderWaySoIdleAndRequestTimeoutsDiffer() throws {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        parser.append(Array("GE".utf8))
        #expect(!parser.isIdle)
        parser.append(wire("T / HTTP/1.1\nHost: h\n\n"))
        _ = try parser.nextRequest()
        #expect(parser.isIdle)
        parser.append(wire("\n"))
        _ = try parser.nextRequest()
        #expect(!parser.isIdle)
    }

    @Test func headerValuesMayHoldObsTextWhichIsDecodedAsUTF8() throws {
        let bytes = wire("GET / HTTP/1.1\nHost: h\nX-Name: ") + Array("Zoë".utf8) + wire("\n\n")
        let result = parseRequests(bytes)
        #expect(result.requests.first?.headers["X-Name"] == "Zoë")
    }

    @Test func bytesFedAsAnUnsafeBufferParseTheSame() throws {
        var parser = HTTPRequestParser()
        wire("GET /raw HTTP/1.1\nHost: h\n\n").withUnsafeBytes { parser.append($0) }
        #expect(try parser.nextRequest()?.path == "/raw")
    }
}

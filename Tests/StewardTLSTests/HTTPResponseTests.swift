import Foundation
import StewardTLS
import Testing

@Suite struct HTTPResponseTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func aResponseSerializesItsStatusLineHeadersLengthAndBody() {
        let response = HTTPResponse(status: .created, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"], body: Array("{}".utf8))
        #expect(text(response.serialized()) == "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: 2\r\n\r\n{}")
    }

    @Test func theSerializerOwnsContentLengthAndTransferEncoding() {
        let response = HTTPResponse(status: .ok, headers: ["Content-Length": "999", "transfer-encoding": "chunked", "X": "y"], body: Array("abc".utf8))
        #expect(text(response.serialized()) == "HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: 3\r\n\r\nabc")
    }

    @Test func anEmptyBodyStillSaysContentLengthZero() {
        #expect(text(HTTPResponse(status: .ok).serialized()) == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func noContentAndNotModifiedHaveNeitherLengthNorBody() {
        for status: HTTPStatus in [.noContent, .notModified] {
            let bytes = HTTPResponse(status: status, headers: ["ETag": "\"v1\""], body: Array("ignored".utf8)).serialized()
            #expect(text(bytes) == "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nETag: \"v1\"\r\n\r\n")
        }
    }

    @Test func aHeadResponseKeepsTheLengthAndLeavesOutTheBody() {
        let bytes = HTTPResponse(status: .ok, body: Array("twelve bytes".utf8)).serialized(respondingTo: .head)
        #expect(text(bytes) == "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")
    }

    @Test func closingTheConnectionReplacesAnyConnectionHeader() {
        let bytes = HTTPResponse(status: .ok, headers: ["Connection": "keep-alive"]).serialized(closesConnection: true)
        #expect(text(bytes) == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(HTTPResponse(headers: ["Connection": "Close"]).closesConnection)
    }

    @Test func aHandlerCannotSplitTheResponseWithCRLFInAHeader() {
        let response = HTTPResponse(
            status: .found, headers: ["Location": "/next\r\nSet-Cookie: stolen=1", "Bad\r\nName": "x", "": "empty"])
        let serialized = text(response.serialized())
        #expect(serialized == "HTTP/1.1 302 Found\r\nLocation: /next  Set-Cookie: stolen=1\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func everyStatusStewardUsesHasItsStandardReasonPhrase() {
        let phrases: [Int: String] = [
            200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
            400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 409: "Conflict", 413: "Content Too Large", 414: "URI Too Long",
            415: "Unsupported Media Type", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
            505: "HTTP Version Not Supported",
        ]
        for (code, phrase) in phrases {
            #expect(HTTPStatus(code).reasonPhrase == phrase)
        }
        #expect(HTTPStatus(299).reasonPhrase == "Success")
    }

    @Test func theChunkedWriterStreamsAHeadChunksAndAnEnd() {
        var writer = HTTPChunkedWriter(response: HTTPResponse(status: .ok, headers: ["Content-Type": "text/csv"]))
        var bytes = writer.head
        bytes += writer.chunk(Array("sourcedId,role\n".utf8))
        bytes += writer.chunk([])
        bytes += writer.chunk(Array(repeating: UInt8(ascii: "x"), count: 300))
        bytes += writer.end()
        #expect(writer.hasEnded)
        let expected = "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "f\r\nsourcedId,role\n\r\n" + "12c\r\n" + String(repeating: "x", count: 300) + "\r\n0\r\n\r\n"
        #expect(text(bytes) == expected)
    }

    @Test func aChunkedResponseParsesBackToItsBody() throws {
        var writer = HTTPChunkedWriter(response: HTTPResponse(status: .ok, headers: ["X-Page": "1"]), closesConnection: true)
        let pieces = (0..<20).map { Array("piece \($0);".utf8) }
        var bytes = writer.head
        for piece in pieces { bytes += writer.chunk(piece) }
        bytes += writer.end()
        let result = parseResponses(bytes)
        #expect(result.error == nil)
        let response = try #require(result.responses.first)
        #expect(response.body == pieces.flatMap { $0 })
        #expect(response.headers["X-Page"] == "1")
    }

    @Test func theDateHeaderIsIMFFixdate() {
        #expect(HTTPDate.string(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.string(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.string(secondsSince1970: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.string(secondsSince1970: 4_102_444_799) == "Thu, 31 Dec 2099 23:59:59 GMT")
        #expect(HTTPDate.string(secondsSince1970: -1) == "Wed, 31 Dec 1969 23:59:59 GMT")
    }

    @Test func theDateHeaderAgreesWithFoundationsFormatterAcrossManyDays() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var generator = HTTPSeededGenerator(seed: 7)
        for _ in 0..<500 {
            let seconds = Int.random(in: 0..<4_102_444_800, using: &generator)
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            #expect(HTTPDate.string(from: date) == formatter.string(from: date))
        }
    }
}

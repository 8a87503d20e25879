import StewardTLS
import Testing

/// Three pipelined requests covering every framing: none, Content-Length, chunked with trailers.
private let pipelinedStream = wire(
    """
    GET /ims/oneroster/v1p1/users?limit=2 HTTP/1.1
    Host: steward.example
    Accept: application/json

    POST /acks HTTP/1.1
    Host: steward.example
    Content-Length: 12

    {"ack":true}
    PUT /upload HTTP/1.1
    Host: steward.example
    Transfer-Encoding: chunked

    4;x=y
    Wiki
    5
    pedia
    0
    Trailer-One: 1


    """)

@Suite struct HTTPPipeliningTests {
    private func expectThreeRequests(_ result: RequestParse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.error == nil, sourceLocation: sourceLocation)
        #expect(result.requests.map(\.path) == ["/ims/oneroster/v1p1/users", "/acks", "/upload"], sourceLocation: sourceLocation)
        #expect(result.requests.map(\.body) == [[], Array(#"{"ack":true}"#.utf8), Array("Wikipedia".utf8)], sourceLocation: sourceLocation)
    }

    @Test func severalRequestsInOneReadAreAllReturnedInOrder() {
        expectThreeRequests(parseRequests(pipelinedStream))
    }

    @Test func splittingTheStreamAtAnySingleByteGivesTheSameRequests() {
        for cut in 1..<pipelinedStream.count {
            expectThreeRequests(parseRequests(pipelinedStream, cuts: [cut]))
        }
    }

    @Test func splittingAtEveryPairOfBytesGivesTheSameRequests() {
        let reference = parseRequests(pipelinedStream).requests
        for first in stride(from: 1, to: pipelinedStream.count, by: 3) {
            for second in stride(from: first + 1, to: pipelinedStream.count, by: 7) {
                let result = parseRequests(pipelinedStream, cuts: [first, second])
                #expect(result.error == nil && result.requests == reference, "cuts \(first), \(second)")
            }
        }
    }

    @Test func feedingOneByteAtATimeGivesTheSameRequests() {
        expectThreeRequests(parseRequests(pipelinedStream, pieceSize: 1))
    }

    @Test func aRequestArrivesOnlyWhenItsLastByteHas() {
        var parser = HTTPRequestParser()
        var returned = 0
        for (offset, byte) in pipelinedStream.enumerated() {
            parser.append([byte])
            while (try? parser.nextRequest()) != nil { returned += 1 }
            if offset == pipelinedStream.count - 2 { #expect(returned == 2) }
        }
        #expect(returned == 3)
    }

    @Test func oneByteFeedsOfALargeHeadStayFast() {
        var text = "GET / HTTP/1.1\nHost: h\n"
        for index in 0..<90 { text += "X-Header-\(index): " + String(repeating: "v", count: 150) + "\n" }
        let bytes = wire(text + "\n")
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(parseRequests(bytes, pieceSize: 1).requests.count == 1) }
        #expect(elapsed < .seconds(2))
    }
}

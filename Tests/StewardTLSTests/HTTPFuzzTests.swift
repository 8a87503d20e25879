import StewardTLS
import Testing

/// Seeded random mutations of valid messages. Whatever the bytes, the parsers must return (no
/// crash, no endless loop), and where a stream is split must not change what they make of it.
@Suite struct HTTPFuzzTests {
    private static let requestSeeds: [[UInt8]] = [
        wire("GET /ims/oneroster/v1p1/users?limit=1 HTTP/1.1\nHost: h\nAccept: */*\n\n"),
        wire("POST /acks HTTP/1.1\nHost: h\nContent-Length: 5\n\nhelloGET / HTTP/1.1\nHost: h\n\n"),
        wire("PUT /x HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3;e=1\nabc\n0\nT: 1\n\nGET /y HTTP/1.0\n\n"),
    ]

    private static let responseSeeds: [[UInt8]] = [
        wire("HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Length: 3\n\nabc"),
        wire("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nab\n0\n\nHTTP/1.1 204 No Content\n\n"),
        wire("HTTP/1.0 200 OK\n\nuntil close"),
    ]

    /// Pieces that steer mutations toward the parsers' decisions.
    private static let tokens: [[UInt8]] = [
        "\r\n", "\n", "\r", " ", "\t", ":", ";", ",", "0", "F", "-", "chunked", "identity",
        "Content-Length: 7\r\n", "Transfer-Encoding: chunked\r\n", "Connection: close\r\n", "\r\n\r\n", "HTTP/1.1", "\u{0}",
    ].map { Array($0.utf8) }

    private func mutate(_ seed: [UInt8], using generator: inout HTTPSeededGenerator) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let position = Int.random(in: 0...bytes.count, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0 where position < bytes.count:
                bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 1 where position < bytes.count:
                bytes.remove(at: position)
            case 2:
                bytes.insert(contentsOf: Self.tokens.randomElement(using: &generator)!, at: position)
            case 3 where position < bytes.count:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &generator))
                bytes.insert(contentsOf: bytes[position..<end], at: end)
            default:
                bytes.insert(UInt8.random(in: 0...255, using: &generator), at: position)
            }
        }
        return bytes
    }

    private func randomCuts(_ count: Int, using generator: inout HTTPSeededGenerator) -> [Int] {
        guard count > 1 else { return [] }
        return (0..<Int.random(in: 1...6, using: &generator)).map { _ in Int.random(in: 1..<count, using: &generator) }.sorted()
    }

    @Test func mutatedRequestsNeverCrashAndParseTheSameHoweverTheyAreSplit() {
        var generator = HTTPSeededGenerator(seed: 0x5EED_0001)
        for iteration in 0..<3000 {
            let seed = Self.requestSeeds[iteration % Self.requestSeeds.count]
            let bytes = mutate(seed, using: &generator)
            let whole = parseRequests(bytes)
            let split = parseRequests(bytes, cuts: randomCuts(bytes.count, using: &generator))
            #expect(whole.requests == split.requests, "iteration \(iteration)")
            #expect(whole.error == split.error, "iteration \(iteration)")
            #expect(whole.requests.reduce(0) { $0 + $1.body.count } <= bytes.count)
        }
    }

    @Test func mutatedResponsesNeverCrashAndParseTheSameHoweverTheyAreSplit() {
        var generator = HTTPSeededGenerator(seed: 0x5EED_0002)
        for iteration in 0..<3000 {
            let seed = Self.responseSeeds[iteration % Self.responseSeeds.count]
            let bytes = mutate(seed, using: &generator)
            let whole = parseResponses(bytes, closes: true)
            let split = parseResponses(bytes, cuts: randomCuts(bytes.count, using: &generator), closes: true)
            #expect(whole.responses == split.responses, "iteration \(iteration)")
            #expect(whole.error == split.error, "iteration \(iteration)")
        }
    }

    @Test func randomBytesNeverCrashEitherParser() {
        var generator = HTTPSeededGenerator(seed: 0x5EED_0003)
        for _ in 0..<1000 {
            let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = parseRequests(bytes, pieceSize: Int.random(in: 1...64, using: &generator))
            _ = parseResponses(bytes, closes: true)
        }
    }
}

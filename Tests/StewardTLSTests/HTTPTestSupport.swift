import StewardCore
import Foundation
import StewardTLS
import Testing

/// A request stream written readably: `\n` stands for CRLF unless `crlf` is false.
func wire(_ text: String, crlf: Bool = true) -> [UInt8] {
    Array((crlf ? text.replacingOccurrences(of: "\n", with: "\r\n") : text).utf8)
}

/// What the parser made of a byte stream: the requests it returned, then the error it threw, if any.
struct RequestParse {
    var requests: [HTTPRequest] = []
    var error: HTTPError?
}

/// Feeds `bytes` to a request parser in pieces at `cuts` (offsets), draining requests after each.
func parseRequests(_ bytes: [UInt8], cuts: [Int] = [], limits: HTTPLimits = .server) -> RequestParse {
    var parser = HTTPRequestParser(limits: limits)
    var result = RequestParse()
    var start = 0
    for end in cuts.filter({ $0 > 0 && $0 < bytes.count }) + [bytes.count] where end >= start {
        parser.append(bytes[start..<end])
        start = end
        do {
            while let request = try parser.nextRequest() { result.requests.append(request) }
        } catch {
            result.error = error
            return result
        }
    }
    return result
}

/// Feeds `bytes` one piece of `size` bytes at a time.
func parseRequests(_ bytes: [UInt8], pieceSize: Int, limits: HTTPLimits = .server) -> RequestParse {
    parseRequests(bytes, cuts: Array(stride(from: pieceSize, to: bytes.count, by: pieceSize)), limits: limits)
}

/// The error code parsing `text` ends in, or nil when it parses.
func requestErrorCode(_ text: String, limits: HTTPLimits = .server) -> HTTPError.Code? {
    parseRequests(wire(text), limits: limits).error?.code
}

/// The one request `text` holds; records an issue when it holds another number or fails.
func onlyRequest(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> HTTPRequest? {
    let result = parseRequests(wire(text))
    #expect(result.error == nil, "unexpected \(String(describing: result.error))", sourceLocation: sourceLocation)
    #expect(result.requests.count == 1, sourceLocation: sourceLocation)
    return result.requests.first
}

/// What a response parser made of a byte stream.
struct ResponseParse {
    var responses: [HTTPResponse] = []
    var error: HTTPError?
}

/// Feeds `bytes` to a response parser in pieces at `cuts`; with `closes`, reports the end of the
/// stream afterwards. Every response is taken as the answer to `method`.
func parseResponses(
    _ bytes: [UInt8], method: HTTPMethod = .get, cuts: [Int] = [], closes: Bool = false, limits: HTTPLimits = .client
) -> ResponseParse {
    var parser = HTTPResponseParser(limits: limits)
    var result = ResponseParse()
    var start = 0
    do {
        for end in cuts.filter({ $0 > 0 && $0 < bytes.count }) + [bytes.count] where end >= start {
            parser.append(bytes[start..<end])
            start = end
            while let response = try parser.nextResponse(to: method) { result.responses.append(response) }
        }
        if closes, let last = try parser.finish() { result.responses.append(last) }
    } catch {
        result.error = error
    }
    return result
}

/// A seeded generator (SplitMix64), so every run mutates the same way.
typealias HTTPSeededGenerator = SplitMix64

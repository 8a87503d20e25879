/// Reads one message body as it arrives, by its ``HTTPBodyFraming``, under the body limit.
///
/// Chunked bodies are decoded exactly as RFC 9112 §7.1 spells them: hex digits, optional
/// `;extensions`, CRLF, the data, CRLF; the zero-size chunk, trailer lines, the empty line.
/// Anything else (a sign, `0x`, whitespace without an extension, a missing CRLF after the data)
/// is an error, because lenient chunk parsing is a smuggling vector in its own right.
struct HTTPBodyReader: Sendable {
    private enum Phase: Sendable {
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers(HTTPFieldReader)
        case untilClose
        case complete
    }

    /// The longest chunk-size line, extensions included. Extension bytes also count toward the body
    /// limit, so the total a peer can make Steward read stays bounded.
    static let maximumChunkLineLength = 4096
    /// Sixteen hex digits already exceed any body limit; more is refused before it can overflow.
    private static let maximumChunkSizeDigits = 16

    private var phase: Phase
    private(set) var body: [UInt8] = []
    /// Chunk data and extension bytes declared so far, held to the body limit.
    private var declaredLength = 0

    init(framing: HTTPBodyFraming) {
        switch framing {
        case .length(let length):
            phase = length == 0 ? .complete : .fixed(remaining: length)
            body.reserveCapacity(length)
        case .chunked:
            phase = .chunkSize
        case .untilClose:
            phase = .untilClose
        }
    }

    var isComplete: Bool {
        if case .complete = phase { return true }
        return false
    }

    /// Whether the body has fully arrived.
    mutating func read(from buffer: inout HTTPInputBuffer, limits: HTTPLimits) throws(HTTPError) -> Bool {
        while !buffer.isEmpty || isComplete {
            switch phase {
            case .complete:
                return true
            case .fixed(let remaining):
                let run = buffer.read(upTo: remaining)
                body.append(contentsOf: run)
                phase = run.count == remaining ? .complete : .fixed(remaining: remaining - run.count)
            case .chunkSize:
                guard let size = try readChunkSize(from: &buffer, limits: limits) else { return false }
                phase = size == 0 ? .trailers(HTTPFieldReader(keepsFields: false)) : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let run = buffer.read(upTo: remaining)
                body.append(contentsOf: run)
                phase = run.count == remaining ? .chunkEnd : .chunkData(remaining: remaining - run.count)
            case .chunkEnd:
                guard let isCRLF = buffer.startsWithCRLF() else { return false }
                guard isCRLF else { throw HTTPError(.invalidChunk, "A chunk's data is not followed by CRLF.") }
                buffer.skip(2)
                phase = .chunkSize
            case .trailers(var trailers):
                let isDone = try trailers.read(from: &buffer, limits: limits)
                phase = isDone ? .complete : .trailers(trailers)
                if !isDone { return false }
            case .untilClose:
                body.append(contentsOf: buffer.read(upTo: buffer.count))
                try checkLimit(body.count, limits: limits)
            }
        }
        return false
    }

    /// Ends a body at the end of the stream: completes one delimited by close, and reports any
    /// other unfinished body as truncated.
    mutating func finishAtEndOfStream() throws(HTTPError) {
        switch phase {
        case .complete: return
        case .untilClose: phase = .complete
        default: throw HTTPError(.truncatedMessage, "The connection closed before the body was complete.")
        }
    }

    private mutating func readChunkSize(from buffer: inout HTTPInputBuffer, limits: HTTPLimits) throws(HTTPError) -> Int? {
        let tooLong = HTTPError(.invalidChunk, "A chunk-size line is longer than \(Self.maximumChunkLineLength) bytes.")
        guard let range = try buffer.readLine(limit: Self.maximumChunkLineLength, tooLong: tooLong) else { return nil }
        let line = buffer.bytes[range]
        let digits = line.prefix { HTTPSyntax.hexValue($0) != nil }
        guard !digits.isEmpty, digits.count <= Self.maximumChunkSizeDigits else {
            throw HTTPError(.invalidChunk, "A chunk size is not 1 to \(Self.maximumChunkSizeDigits) hexadecimal digits.")
        }
        let extensions = line[digits.endIndex...]
        try Self.checkExtensions(extensions)
        var size = 0
        for digit in digits {
            let (shifted, overflow) = size.multipliedReportingOverflow(by: 16)
            size = overflow ? Int.max : shifted | HTTPSyntax.hexValue(digit)!
        }
        let (withData, dataOverflow) = declaredLength.addingReportingOverflow(size)
        let (total, extensionOverflow) = withData.addingReportingOverflow(extensions.count)
        declaredLength = dataOverflow || extensionOverflow ? Int.max : total
        try checkLimit(declaredLength, limits: limits)
        return size
    }

    /// Extensions are skipped, but must look like `BWS ";" …` with no control characters.
    private static func checkExtensions(_ bytes: ArraySlice<UInt8>) throws(HTTPError) {
        guard !bytes.isEmpty else { return }
        let afterWhitespace = bytes.drop(while: HTTPSyntax.isWhitespace)
        guard afterWhitespace.first == HTTPSyntax.semicolon,
            afterWhitespace.allSatisfy({ $0 == HTTPSyntax.tab || ($0 >= 0x20 && $0 < 0x7F) })
        else {
            throw HTTPError(.invalidChunk, "A chunk size is followed by something other than a chunk extension.")
        }
    }

    private func checkLimit(_ length: Int, limits: HTTPLimits) throws(HTTPError) {
        if length > limits.maximumBodyLength {
            throw HTTPError(.bodyTooLarge, "The body is larger than the limit of \(limits.maximumBodyLength) bytes.")
        }
    }
}

/// The first line of a message: a request line or a status line.
protocol HTTPStartLine: Sendable {
    /// Parses a complete start line, CRLF removed.
    init(parsing line: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPError)
    /// The error for a start line that grew past the head limit before it ended.
    static func overlongError(_ unfinishedLine: ArraySlice<UInt8>, limits: HTTPLimits) -> HTTPError
    /// Whether empty lines before the start line are skipped (RFC 9112 §2.2 asks servers to skip
    /// at least one, for clients that end a body with an extra CRLF).
    static var skipsLeadingEmptyLines: Bool { get }
}

/// Reads a start line and the header lines after it, up to the empty line, as they arrive.
///
/// The head limit counts every byte from the first byte of the message (leading empty lines
/// included) to the empty line that ends the head.
struct HTTPHeadReader<StartLine: HTTPStartLine>: Sendable {
    private var startLine: StartLine?
    private var fields = HTTPFieldReader(keepsFields: true)

    /// The start line and headers once the head is complete, or nil while it is still arriving.
    mutating func read(
        from buffer: inout HTTPInputBuffer, limits: HTTPLimits
    ) throws(HTTPError) -> (StartLine, HTTPHeaders)? {
        while startLine == nil {
            guard let line = try readStartLine(from: &buffer, limits: limits) else { return nil }
            fields.length += line.count + 2
            if line.isEmpty && StartLine.skipsLeadingEmptyLines { continue }
            startLine = try StartLine(parsing: buffer.bytes[line], limits: limits)
        }
        guard let startLine, try fields.read(from: &buffer, limits: limits) else { return nil }
        return (startLine, HTTPHeaders(fields.fields))
    }

    /// Whether any byte of the head has been consumed.
    var hasStarted: Bool { fields.length > 0 }

    private func readStartLine(from buffer: inout HTTPInputBuffer, limits: HTTPLimits) throws(HTTPError) -> Range<Int>? {
        let allowance = limits.maximumHeadLength - fields.length
        do {
            return try buffer.readLine(limit: allowance, tooLong: HTTPError(.headTooLarge, ""))
        } catch where error.code == .headTooLarge {
            let unfinished = buffer.bytes[buffer.start..<min(buffer.bytes.count, buffer.start + allowance)]
            throw StartLine.overlongError(unfinished, limits: limits)
        }
    }
}

/// Reads header lines (or a chunked body's trailer lines) up to the empty line that ends them,
/// under the head-size and header-count limits.
struct HTTPFieldReader: Sendable {
    private(set) var fields: [HTTPField] = []
    /// Bytes consumed so far, CRLFs included, counted against ``HTTPLimits/maximumHeadLength``.
    var length = 0
    private var count = 0
    /// Trailers are checked and counted, then dropped: nothing in Steward acts on them.
    let keepsFields: Bool

    init(keepsFields: Bool) { self.keepsFields = keepsFields }

    /// Whether the empty line that ends the block has been read.
    mutating func read(from buffer: inout HTTPInputBuffer, limits: HTTPLimits) throws(HTTPError) -> Bool {
        while true {
            let allowance = limits.maximumHeadLength - length
            guard let line = try buffer.readLine(limit: allowance, tooLong: Self.headTooLarge(limits)) else { return false }
            length += line.count + 2
            if line.isEmpty { return true }
            count += 1
            guard count <= limits.maximumHeaderCount else {
                throw HTTPError(.tooManyHeaders, "The message has more than \(limits.maximumHeaderCount) header lines.")
            }
            let field = try Self.parseField(buffer.bytes[line], lineNumber: count)
            if keepsFields {
                fields.append(
                    HTTPField(
                        name: String(decoding: field.name, as: UTF8.self),
                        value: String(decoding: field.value, as: UTF8.self)))
            }
        }
    }

    private static func headTooLarge(_ limits: HTTPLimits) -> HTTPError {
        HTTPError(.headTooLarge, "The header lines are longer than \(limits.maximumHeadLength) bytes; send fewer or shorter headers.")
    }

    /// Splits `name ":" OWS value OWS`, refusing whitespace before the colon (RFC 9112 §5.1),
    /// folded lines (§5.2) and control characters anywhere.
    static func parseField(
        _ line: ArraySlice<UInt8>, lineNumber: Int
    ) throws(HTTPError) -> (name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        if let first = line.first, HTTPSyntax.isWhitespace(first) {
            throw HTTPError(
                .obsoleteLineFolding, "Header line \(lineNumber) starts with whitespace (obsolete line folding); put the value on one line.")
        }
        guard let colon = line.firstIndex(of: HTTPSyntax.colon), HTTPSyntax.isToken(line[..<colon]) else {
            throw HTTPError(.invalidHeader, "Header line \(lineNumber) is not `name: value` with a token for a name.")
        }
        let value = HTTPSyntax.trimmingWhitespace(line[(colon + 1)...])
        guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else {
            throw HTTPError(.invalidHeader, "The value of header line \(lineNumber) holds a control character.")
        }
        return (line[..<colon], value)
    }
}

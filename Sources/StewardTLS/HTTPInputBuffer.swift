/// The bytes received and not yet parsed, read line by line or in counted runs.
///
/// Consumed bytes are dropped only when new bytes are appended, so ranges a reader gets back
/// stay valid until then. The search for a line end resumes where the last one stopped, so a
/// peer that sends one byte at a time costs linear, not quadratic, work.
struct HTTPInputBuffer: Sendable {
    private(set) var bytes: [UInt8] = []
    /// The first unconsumed byte.
    private(set) var start = 0
    /// Where the search for the next LF resumes; every byte from `start` to here is not LF.
    private var scanned = 0

    /// How many bytes are buffered and unconsumed.
    var count: Int { bytes.count - start }
    var isEmpty: Bool { start == bytes.count }

    mutating func append(_ new: UnsafeRawBufferPointer) {
        dropConsumed()
        bytes.append(contentsOf: new)
    }

    mutating func append(contentsOf new: some Sequence<UInt8>) {
        dropConsumed()
        bytes.append(contentsOf: new)
    }

    private mutating func dropConsumed() {
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
        } else if start >= 4096 && start >= bytes.count / 2 {
            bytes.removeFirst(start)
        } else {
            return
        }
        scanned -= start
        start = 0
    }

    /// Consumes the next line and returns its content without the CRLF, or returns nil when the
    /// line has not fully arrived.
    ///
    /// A line must end in CRLF: a bare LF is an error (``HTTPError/Code/invalidLineEnding``).
    /// RFC 9112 §2.2 lets a recipient accept one, but two parsers that disagree on where a line
    /// ends disagree on where a message ends, and that is request smuggling.
    ///
    /// - Parameter limit: the most bytes the line may take, CRLF included. A longer line, or an
    ///   unfinished one that can no longer fit, throws `tooLong`.
    mutating func readLine(limit: Int, tooLong: @autoclosure () -> HTTPError) throws(HTTPError) -> Range<Int>? {
        guard let newline = bytes[scanned...].firstIndex(of: HTTPSyntax.lf) else {
            scanned = bytes.count
            if count + 1 > limit { throw tooLong() }
            return nil
        }
        guard newline > start, bytes[newline - 1] == HTTPSyntax.cr else {
            throw HTTPError(.invalidLineEnding, "A line ended in a bare LF; HTTP/1.1 lines end in CRLF.")
        }
        if newline + 1 - start > limit { throw tooLong() }
        let line = start..<(newline - 1)
        consume(upTo: newline + 1)
        return line
    }

    /// Consumes up to `maximum` bytes and returns them.
    mutating func read(upTo maximum: Int) -> ArraySlice<UInt8> {
        let end = start + min(maximum, count)
        let run = bytes[start..<end]
        consume(upTo: end)
        return run
    }

    /// Whether the next bytes are exactly CRLF, without consuming them; nil until two bytes are here.
    func startsWithCRLF() -> Bool? {
        guard count >= 2 else { return nil }
        return bytes[start] == HTTPSyntax.cr && bytes[start + 1] == HTTPSyntax.lf
    }

    mutating func skip(_ length: Int) {
        consume(upTo: start + length)
    }

    mutating func removeAll() {
        bytes.removeAll()
        start = 0
        scanned = 0
    }

    private mutating func consume(upTo end: Int) {
        start = end
        scanned = max(scanned, end)
    }
}

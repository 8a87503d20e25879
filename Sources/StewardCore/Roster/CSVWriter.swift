#if canImport(Glibc)
import Glibc
#endif

/// Writes RFC 4180 CSV, one record at a time, into a buffer that it hands on in large chunks, so
/// a file of any length is written in constant memory and with few system calls.
///
/// A field is quoted when, and only when, it holds a comma, a quote, a CR or an LF; quotes inside
/// are doubled. Records end with LF unless the format asks for CRLF. Values are written as the
/// bytes given: the writer does not check that they are UTF-8, so a test drop can hold a bad
/// byte on purpose.
///
/// A value may be written whole (`field`) or composed of parts (`beginField`, `append`,
/// `endField`) without building a `String` first; the quoting decision covers the whole field.
///
/// Not `Sendable`: one writer belongs to the one thread that writes its file.
public final class CSVWriter {
    public enum LineEnding: Sendable, Equatable {
        case lf, crlf
    }

    /// The byte-level choices of a file that do not change its content.
    public struct Format: Sendable, Equatable {
        public var lineEnding: LineEnding
        /// Start the file with a UTF-8 byte-order mark (EF BB BF).
        public var byteOrderMark: Bool

        public init(lineEnding: LineEnding = .lf, byteOrderMark: Bool = false) {
            self.lineEnding = lineEnding
            self.byteOrderMark = byteOrderMark
        }

        public static let standard = Format()
    }

    /// Where the buffered bytes go when the buffer fills, and at `finish()`.
    public typealias Output = (UnsafeRawBufferPointer) throws -> Void

    public let format: Format
    /// The 1-based physical line on which the record being written (or the next one) starts. A
    /// field with a line feed inside pushes the next record's line down by one per line feed.
    public private(set) var recordLine = 1
    /// Records finished so far, the header included.
    public private(set) var recordCount = 0
    /// Bytes handed to the output so far plus those still buffered.
    public var byteCount: Int { bytesFlushed + count }

    private let output: Output
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var bytesFlushed = 0
    private let flushThreshold: Int
    private var fieldsInRecord = 0
    private var fieldStart = 0
    private var fieldNeedsQuotes = false
    private var lineFeedsInRecord = 0

    /// A writer that hands its bytes to `output` in chunks of about `bufferSize` bytes.
    public init(format: Format = .standard, bufferSize: Int = 1 << 18, output: @escaping Output) {
        self.format = format
        self.output = output
        flushThreshold = max(bufferSize, 64)
        capacity = flushThreshold * 2
        buffer = .allocate(capacity: capacity)
        if format.byteOrderMark { appendRaw([0xEF, 0xBB, 0xBF]) }
    }

    /// A writer onto an open file descriptor, which it neither closes nor seeks. Write failures
    /// throw ``StewardError`` with code `system-call-failed`, naming `path` when given.
    public convenience init(fileDescriptor: Int32, path: String? = nil, format: Format = .standard, bufferSize: Int = 1 << 18) {
        self.init(format: format, bufferSize: bufferSize) { bytes in
            try Self.writeAll(bytes, to: fileDescriptor, path: path)
        }
    }

    deinit { buffer.deallocate() }

    // MARK: - Whole fields

    /// One field holding `value`.
    public func field(_ value: String) {
        beginField()
        append(value)
        endField()
    }

    /// One field holding `value`, or an empty field for `nil`.
    public func field(_ value: String?) {
        if let value { field(value) } else { emptyField() }
    }

    /// One field holding `bytes` as they are.
    public func field(bytes: [UInt8]) {
        beginField()
        append(bytes)
        endField()
    }

    /// One field holding a literal, such as `"true"`.
    public func field(_ value: StaticString) {
        beginField()
        append(value)
        endField()
    }

    /// One field holding a whole number in decimal, zero-padded to `width` digits.
    public func field(_ value: Int, width: Int = 0) {
        beginField()
        append(value, width: width)
        endField()
    }

    public func emptyField() {
        beginField()
        endField()
    }

    public func emptyFields(_ count: Int) {
        for _ in 0..<count { emptyField() }
    }

    /// A whole record of text fields, ended.
    public func record(_ fields: [String]) throws {
        for value in fields { field(value) }
        try endRecord()
    }

    // MARK: - Composed fields

    /// Starts a field whose value the following `append` calls compose.
    public func beginField() {
        if fieldsInRecord > 0 { appendRaw(UInt8(ascii: ",")) }
        fieldsInRecord += 1
        fieldStart = count
        fieldNeedsQuotes = false
    }

    public func append(_ value: String) {
        var value = value
        value.withUTF8 { appendScanned($0) }
    }

    public func append(_ value: StaticString) {
        appendScanned(UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { appendScanned($0) }
    }

    /// A whole number in decimal, zero-padded to `width` digits.
    public func append(_ value: Int, width: Int = 0) {
        if value < 0 { appendRaw(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let length = max(digits, width)
        reserve(length)
        var index = count + length - 1
        for _ in 0..<length {
            buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        }
        count += length
    }

    /// Ends the field: quotes it when it holds a comma, quote, CR or LF.
    public func endField() {
        guard fieldNeedsQuotes else { return }
        var quotes = 0
        for index in fieldStart..<count {
            switch buffer[index] {
            case UInt8(ascii: "\""): quotes += 1
            case UInt8(ascii: "\n"): lineFeedsInRecord += 1
            default: break
            }
        }
        let length = count - fieldStart
        reserve(quotes + 2)
        // Move the field right, back to front, doubling each quote, then wrap it in quotes.
        var source = count - 1
        var target = count + quotes + 1
        buffer[target] = UInt8(ascii: "\"")
        target -= 1
        while source >= fieldStart {
            let byte = buffer[source]
            buffer[target] = byte
            target -= 1
            if byte == UInt8(ascii: "\"") {
                buffer[target] = byte
                target -= 1
            }
            source -= 1
        }
        buffer[fieldStart] = UInt8(ascii: "\"")
        count = fieldStart + length + quotes + 2
        fieldNeedsQuotes = false
    }

    // MARK: - Records and output

    /// Ends the record with the format's line ending; hands the buffer on once it is full enough.
    public func endRecord() throws {
        switch format.lineEnding {
        case .lf: appendRaw(UInt8(ascii: "\n"))
        case .crlf: appendRaw([UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        }
        recordCount += 1
        recordLine += 1 + lineFeedsInRecord
        lineFeedsInRecord = 0
        fieldsInRecord = 0
        if count >= flushThreshold { try flush() }
    }

    /// Hands every buffered byte to the output. Call it once the last record is written.
    public func finish() throws {
        try flush()
    }

    private func flush() throws {
        guard count > 0 else { return }
        try output(UnsafeRawBufferPointer(start: buffer, count: count))
        bytesFlushed += count
        count = 0
    }

    // MARK: - The buffer

    private func appendScanned(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        let target = buffer + count
        var needsQuotes = false
        for index in 0..<bytes.count {
            let byte = bytes[index]
            target[index] = byte
            // Every byte that forces quotes is at most ",".
            if byte <= UInt8(ascii: ","), byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"")
                || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                needsQuotes = true
            }
        }
        count += bytes.count
        if needsQuotes { fieldNeedsQuotes = true }
    }

    private func appendRaw(_ byte: UInt8) {
        reserve(1)
        buffer[count] = byte
        count += 1
    }

    private func appendRaw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { appendRaw($0) }
    }

    private func appendRaw(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        UnsafeMutableRawPointer(buffer + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    /// Makes room for `extra` more bytes. The buffer only grows for a record longer than the
    /// flush threshold; records are never split between two outputs.
    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let newCapacity = max(capacity * 2, count + extra)
        let newBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBuffer.update(from: buffer, count: count)
        buffer.deallocate()
        buffer = newBuffer
        capacity = newCapacity
    }

    /// Writes all of `bytes` to `descriptor`, retrying short writes and `EINTR`.
    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String?) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                throw StewardError(.systemCallFailed, "cannot write: \(String(cString: strerror(code)))", location: path)
            }
            offset += written
        }
    }
}

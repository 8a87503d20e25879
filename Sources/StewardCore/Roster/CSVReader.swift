/// One record of a CSV file: its fields, decoded as UTF-8, and the physical line it starts on.
public struct CSVRecord: Sendable, Equatable {
    /// 1-based physical line of the record's first byte. A record with a line break inside a
    /// quoted field spans several lines; the next record's `line` counts all of them.
    public let line: Int
    public let fields: [String]

    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// Something wrong with the syntax of a CSV file. It names a place, never a value, so it may be
/// shown and logged as it is.
public struct CSVProblem: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The file ends inside a quoted field. Reported at the line where the record starts.
        case unterminatedQuote
        /// A `"` in a field that does not start with one (`a"b`). The field keeps the quote.
        case quoteInUnquotedField
        /// Text between a closing quote and the next separator (`"a"b`). The field reads `ab`.
        case textAfterClosingQuote
        /// The field is not valid UTF-8. It is decoded with U+FFFD for each bad sequence.
        case invalidUTF8
        /// The record holds more than ``CSVParser/maximumRecordLength`` bytes. It is skipped (not
        /// handed over): this bounds memory when a stray quote swallows the rest of a file.
        case recordTooLong
    }

    public let kind: Kind
    /// 1-based physical line where the record starts.
    public let line: Int
    /// 1-based field number within the record.
    public let column: Int

    public init(_ kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }
}

/// An incremental RFC 4180 parser: it is fed a file in chunks of any size and reports each
/// record as soon as it is complete, so an import streams a file of any length in constant
/// memory (one record at a time).
///
/// What it reads:
/// - Fields are separated by `,`; a field that starts with `"` is quoted and may hold commas,
///   line breaks (CR, LF, CRLF) and doubled quotes (`""` reads as `"`).
/// - Records end at LF, CRLF or a lone CR. A file need not end with a line break.
/// - An empty line (nothing between two line breaks) is not a record: it is skipped, so a blank
///   line between records or at the end of a file never shows up as a record with one empty
///   field. A line holding only `""` or spaces is a record.
/// - A UTF-8 byte-order mark at the very start of the file is skipped and noted in
///   ``sawByteOrderMark``; anywhere else it is data.
/// - Line numbers count physical lines, so they match what an editor shows even after a record
///   with a line break inside a quoted field.
///
/// Malformed input is never fatal: each problem is reported (at most one quote problem per
/// field) and the field is kept as read, so the caller decides whether to warn or reject. A
/// record's problems are reported before the record itself. Only a record longer than
/// ``maximumRecordLength`` is left out, so that memory stays bounded whatever the input.
///
/// The result does not depend on how the file is cut into chunks: a chunk may end anywhere,
/// even between CR and LF, inside a doubled quote or inside a multi-byte UTF-8 character.
public struct CSVParser: Sendable {
    /// Whether the file started with a UTF-8 byte-order mark (which is not part of the first field).
    public private(set) var sawByteOrderMark = false
    /// The most bytes a record may hold (its fields plus one per separator) before it is
    /// reported as ``CSVProblem/Kind/recordTooLong`` and skipped.
    public let maximumRecordLength: Int

    private enum State: UInt8 {
        /// Between records: line breaks here are empty lines and are skipped.
        case recordStart
        /// After a comma, or at the first byte of a record.
        case fieldStart
        case unquoted
        case quoted
        /// Just after a `"` inside a quoted field: a doubled quote or the closing quote.
        case quoteInQuoted
    }

    private var state = State.recordStart
    /// The current record's finished fields.
    private var fields: [String] = []
    /// The current field's bytes so far, when it could not be taken straight from the chunk: it
    /// started in an earlier chunk, or holds a doubled quote or text after a closing quote.
    private var pending: [UInt8] = []
    /// Where the current field's bytes not yet in `pending` start, and (after a quote inside a
    /// quoted field) end, in the chunk being parsed.
    private var runStart = 0
    private var runEnd = 0
    /// The physical line of the next byte.
    private var line = 1
    private var recordLine = 1
    /// Bytes the current record holds so far, to enforce `maximumRecordLength`.
    private var recordLength = 0
    private var isSkippingRecord = false
    /// The last byte of the previous chunk: an LF right after a CR does not start another line.
    private var previousByte: UInt8 = 0
    private var fieldHasQuoteProblem = false
    /// Until the first three bytes are seen: the ones that so far match a byte-order mark.
    private var byteOrderMarkPrefix: [UInt8]? = []

    /// `maximumRecordLength` bounds the memory one record may take; OneRoster records are far
    /// shorter than the default of 1 MiB.
    public init(maximumRecordLength: Int = 1 << 20) {
        self.maximumRecordLength = maximumRecordLength
    }

    /// Feeds the next chunk of the file; calls `record` for each record completed by it and
    /// `problem` for each syntax problem found, in file order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer,
                              record: (CSVRecord) throws -> Void,
                              problem: (CSVProblem) throws -> Void) rethrows {
        var rest = bytes
        if byteOrderMarkPrefix != nil {
            rest = try skipByteOrderMark(bytes, record: record, problem: problem)
        }
        try parse(rest, record: record, problem: problem)
    }

    /// Ends the file: emits the last record when the file does not end with a line break, and
    /// reports ``CSVProblem/Kind/unterminatedQuote`` when it ends inside a quoted field (that
    /// record is still emitted, holding what was read). The parser is then ready for a new file.
    public mutating func finish(record: (CSVRecord) throws -> Void,
                                problem: (CSVProblem) throws -> Void) rethrows {
        if let prefix = byteOrderMarkPrefix, !prefix.isEmpty {
            byteOrderMarkPrefix = nil
            try prefix.withUnsafeBytes { try parse($0, record: record, problem: problem) }
        }
        if state == .quoted {
            try problem(CSVProblem(.unterminatedQuote, line: recordLine, column: fields.count + 1))
        }
        if state != .recordStart {
            try endField(UnsafeBufferPointer(start: nil, count: 0), problem: problem)
            try endRecord(record: record)
        }
        let byteOrderMark = sawByteOrderMark
        self = CSVParser(maximumRecordLength: maximumRecordLength)
        sawByteOrderMark = byteOrderMark
    }

    // MARK: - Byte-order mark

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Consumes the bytes of `bytes` that belong to a byte-order mark at the start of the file and
    /// returns the rest. When the start turns out not to be a mark, the bytes held back so far are
    /// parsed as data first.
    private mutating func skipByteOrderMark(_ bytes: UnsafeRawBufferPointer,
                                            record: (CSVRecord) throws -> Void,
                                            problem: (CSVProblem) throws -> Void) rethrows -> UnsafeRawBufferPointer {
        var prefix = byteOrderMarkPrefix ?? []
        var index = 0
        while index < bytes.count, prefix.count < 3 {
            guard bytes[index] == Self.byteOrderMark[prefix.count] else {
                byteOrderMarkPrefix = nil
                try prefix.withUnsafeBytes { try parse($0, record: record, problem: problem) }
                return UnsafeRawBufferPointer(rebasing: bytes[index...])
            }
            prefix.append(bytes[index])
            index += 1
        }
        if prefix.count == 3 {
            sawByteOrderMark = true
            byteOrderMarkPrefix = nil
        } else {
            byteOrderMarkPrefix = prefix
        }
        return UnsafeRawBufferPointer(rebasing: bytes[index...])
    }

    // MARK: - The state machine

    private static let lineFeed: UInt8 = 0x0A
    private static let carriageReturn: UInt8 = 0x0D
    private static let quote: UInt8 = 0x22
    private static let comma: UInt8 = 0x2C

    private mutating func parse(_ buffer: UnsafeRawBufferPointer,
                                record: (CSVRecord) throws -> Void,
                                problem: (CSVProblem) throws -> Void) rethrows {
        try buffer.withMemoryRebound(to: UInt8.self) { try parse($0, record: record, problem: problem) }
    }

    /// Runs the state machine over `chunk`. Ordinary bytes are not stepped through one at a time:
    /// each state scans ahead to the next byte that matters to it, and a field that lies whole in
    /// the chunk is decoded straight from it, without being copied first.
    private mutating func parse(_ chunk: UnsafeBufferPointer<UInt8>,
                                record: (CSVRecord) throws -> Void,
                                problem: (CSVProblem) throws -> Void) rethrows {
        guard let bytes = chunk.baseAddress, !chunk.isEmpty else { return }
        let count = chunk.count
        var index = 0
        runStart = 0
        runEnd = 0
        while index < count {
            switch state {
            case .recordStart:
                let byte = bytes[index]
                if byte == Self.lineFeed {
                    if byteBefore(index, in: bytes) != Self.carriageReturn { line += 1 }
                    index += 1
                } else if byte == Self.carriageReturn {
                    line += 1
                    index += 1
                } else {
                    recordLine = line
                    state = .fieldStart
                }

            case .fieldStart:
                if bytes[index] == Self.quote {
                    state = .quoted
                    index += 1
                } else {
                    state = .unquoted
                }
                runStart = index

            case .unquoted:
                index = Self.nextSpecialByte(in: bytes, from: index, to: count)
                guard index < count else { break }
                let byte = bytes[index]
                if byte == Self.quote {
                    try reportQuoteProblem(.quoteInUnquotedField, problem: problem)
                    index += 1
                    continue
                }
                try endField(run(bytes, upTo: index), problem: problem)
                index += 1
                if byte != Self.comma {
                    // A CR or LF ends the record (an LF here never follows a CR: a CR ends the record).
                    line += 1
                    try endRecord(record: record)
                }

            case .quoted:
                index = Self.nextQuoteOrLineBreak(in: bytes, from: index, to: count)
                guard index < count else { break }
                let byte = bytes[index]
                if byte == Self.quote {
                    runEnd = index
                    state = .quoteInQuoted
                } else if byte == Self.carriageReturn || byteBefore(index, in: bytes) != Self.carriageReturn {
                    line += 1
                }
                index += 1

            case .quoteInQuoted:
                let byte = bytes[index]
                switch byte {
                case Self.quote:
                    // A doubled quote: keep the first, skip the second.
                    keep(run(bytes, upTo: runEnd))
                    keep(byte)
                    runStart = index + 1
                    state = .quoted
                case Self.comma:
                    try endField(run(bytes, upTo: runEnd), problem: problem)
                case Self.lineFeed, Self.carriageReturn:
                    line += 1
                    try endField(run(bytes, upTo: runEnd), problem: problem)
                    try endRecord(record: record)
                default:
                    try reportQuoteProblem(.textAfterClosingQuote, problem: problem)
                    keep(run(bytes, upTo: runEnd))
                    runStart = index
                    state = .unquoted
                }
                index += 1
            }
        }
        keepUnfinishedField(bytes, count: count)
        try checkRecordLength(problem: problem)
        previousByte = bytes[count - 1]
    }

    /// At the end of a chunk, moves the part of the current field that lies in it to `pending`.
    private mutating func keepUnfinishedField(_ bytes: UnsafePointer<UInt8>, count: Int) {
        switch state {
        case .unquoted, .quoted: keep(run(bytes, upTo: count))
        case .quoteInQuoted: keep(run(bytes, upTo: runEnd))
        case .recordStart, .fieldStart: break
        }
    }

    private func byteBefore(_ index: Int, in bytes: UnsafePointer<UInt8>) -> UInt8 {
        index > 0 ? bytes[index - 1] : previousByte
    }

    /// The current field's bytes in the chunk, from `runStart` up to `end`.
    @inline(__always)
    private func run(_ bytes: UnsafePointer<UInt8>, upTo end: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes + runStart, count: end - runStart)
    }

    /// The index of the first `,`, `"`, CR or LF at or after `start`, or `end`.
    @inline(__always)
    private static func nextSpecialByte(in bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var index = start
        // Eight bytes at a time while none of them is special.
        while index + 8 <= end {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
            if hasByte(word, equalTo: comma) | hasByte(word, equalTo: quote)
                | hasByte(word, equalTo: lineFeed) | hasByte(word, equalTo: carriageReturn) != 0 { break }
            index += 8
        }
        while index < end {
            let byte = bytes[index]
            // All four special bytes are at most 0x2C, so most bytes take only the first test.
            if byte <= comma && (byte == comma || byte == quote || byte == lineFeed || byte == carriageReturn) { break }
            index += 1
        }
        return index
    }

    /// The index of the first `"`, CR or LF at or after `start`, or `end`.
    @inline(__always)
    private static func nextQuoteOrLineBreak(in bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var index = start
        while index + 8 <= end {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
            if hasByte(word, equalTo: quote) | hasByte(word, equalTo: lineFeed) | hasByte(word, equalTo: carriageReturn) != 0 { break }
            index += 8
        }
        while index < end {
            let byte = bytes[index]
            if byte == quote || byte == lineFeed || byte == carriageReturn { break }
            index += 1
        }
        return index
    }

    /// Non-zero when some byte of `word` equals `byte` (the classic "has a zero byte" test on
    /// `word ^ byte×8`); exact as a yes/no answer.
    @inline(__always)
    private static func hasByte(_ word: UInt64, equalTo byte: UInt8) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & (ones &* 0x80)
    }

    // MARK: - Building a record

    /// Adds bytes of the current field to `pending`.
    private mutating func keep(_ run: UnsafeBufferPointer<UInt8>) {
        guard !run.isEmpty, !isSkippingRecord else { return }
        pending.append(contentsOf: run)
        recordLength += run.count
    }

    private mutating func keep(_ byte: UInt8) {
        guard !isSkippingRecord else { return }
        pending.append(byte)
        recordLength += 1
    }

    /// Past `maximumRecordLength`, reports the record once and drops what it holds so far; the
    /// rest of it is read past without being kept.
    private mutating func checkRecordLength(problem: (CSVProblem) throws -> Void) rethrows {
        guard recordLength > maximumRecordLength, !isSkippingRecord else { return }
        isSkippingRecord = true
        try problem(CSVProblem(.recordTooLong, line: recordLine, column: fields.count + 1))
        fields = []
        pending = []
    }

    private mutating func reportQuoteProblem(_ kind: CSVProblem.Kind, problem: (CSVProblem) throws -> Void) rethrows {
        guard !fieldHasQuoteProblem else { return }
        fieldHasQuoteProblem = true
        try problem(CSVProblem(kind, line: recordLine, column: fields.count + 1))
    }

    /// Ends the current field, whose last bytes are `run`: decodes it (from the chunk itself when
    /// nothing of it is pending) and reports it when it is not valid UTF-8.
    private mutating func endField(_ run: UnsafeBufferPointer<UInt8>, problem: (CSVProblem) throws -> Void) rethrows {
        fieldHasQuoteProblem = false
        state = .fieldStart
        recordLength += run.count + 1
        try checkRecordLength(problem: problem)
        guard !isSkippingRecord else { return }
        let text: String
        let isValid: Bool
        if pending.isEmpty {
            (text, isValid) = Self.decode(run)
        } else {
            pending.append(contentsOf: run)
            (text, isValid) = pending.withUnsafeBufferPointer { Self.decode($0) }
            pending.removeAll(keepingCapacity: true)
        }
        if !isValid {
            try problem(CSVProblem(.invalidUTF8, line: recordLine, column: fields.count + 1))
        }
        fields.append(text)
    }

    /// The bytes as text, with U+FFFD for each invalid sequence, and whether there was none.
    @inline(__always)
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> (String, isValid: Bool) {
        var text = String(decoding: bytes, as: UTF8.self)
        if isASCII(bytes) { return (text, true) }
        // Decoding replaced something exactly when the result differs from the bytes.
        return (text, text.withUTF8 { $0.count == bytes.count && memoryEqual($0, bytes) })
    }

    private static func memoryEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let left = a.baseAddress, let right = b.baseAddress else { return a.count == b.count }
        var index = 0
        while index + 8 <= a.count {
            if UnsafeRawPointer(left + index).loadUnaligned(as: UInt64.self)
                != UnsafeRawPointer(right + index).loadUnaligned(as: UInt64.self) { return false }
            index += 8
        }
        while index < a.count {
            if left[index] != right[index] { return false }
            index += 1
        }
        return true
    }

    /// Hands over the finished record (unless it was too long) and starts the next.
    private mutating func endRecord(record: (CSVRecord) throws -> Void) rethrows {
        let finished = fields
        let wasSkipped = isSkippingRecord
        fields = []
        fields.reserveCapacity(finished.count)
        recordLength = 0
        isSkippingRecord = false
        state = .recordStart
        if !wasSkipped { try record(CSVRecord(line: recordLine, fields: finished)) }
    }

    /// Whether every byte is below 0x80, which makes the bytes valid UTF-8 without further checks.
    @inline(__always)
    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var index = 0
        var seen: UInt64 = 0
        while index + 8 <= bytes.count {
            seen |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            seen |= UInt64(bytes[index])
            index += 1
        }
        return seen & 0x8080_8080_8080_8080 == 0
    }
}

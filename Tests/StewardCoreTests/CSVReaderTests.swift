import Foundation
import StewardCore
import Testing

/// What a parse reports, in the order it reports it.
private enum Event: Equatable, CustomStringConvertible {
    case record(Int, [String])
    case problem(CSVProblem.Kind, line: Int, column: Int)

    var description: String {
        switch self {
        case .record(let line, let fields): return "record(\(line), \(fields))"
        case .problem(let kind, let line, let column): return "problem(\(kind), \(line):\(column))"
        }
    }
}

private struct Parse {
    var events: [Event] = []
    var sawByteOrderMark = false
    var records: [CSVRecord] = []
}

/// Parses `bytes` fed in chunks of `chunkSize` bytes (the whole file at once when nil).
private func parse(_ bytes: [UInt8], chunkSize: Int? = nil, maximumRecordLength: Int = 1 << 20) -> Parse {
    parse(bytes, chunkSizes: { chunkSize ?? bytes.count }, maximumRecordLength: maximumRecordLength)
}

/// Parses `bytes` fed in chunks whose sizes `chunkSizes` gives one after the other.
private func parse(_ bytes: [UInt8], chunkSizes: () -> Int, maximumRecordLength: Int = 1 << 20) -> Parse {
    var parser = CSVParser(maximumRecordLength: maximumRecordLength)
    var result = Parse()
    let onRecord = { (record: CSVRecord) in result.events.append(.record(record.line, record.fields)) }
    let onProblem = { (problem: CSVProblem) in
        result.events.append(.problem(problem.kind, line: problem.line, column: problem.column))
    }
    bytes.withUnsafeBytes { all in
        var start = 0
        while start < all.count {
            let end = min(all.count, start + max(1, chunkSizes()))
            parser.feed(UnsafeRawBufferPointer(rebasing: all[start..<end]), record: onRecord, problem: onProblem)
            start = end
        }
    }
    parser.finish(record: onRecord, problem: onProblem)
    result.sawByteOrderMark = parser.sawByteOrderMark
    return result
}

private func parse(_ text: String, chunkSize: Int? = nil) -> Parse {
    parse(Array(text.utf8), chunkSize: chunkSize)
}

@Suite struct CSVReaderTests {
    // MARK: Records and fields

    @Test func recordsEndAtLineFeedCarriageReturnLineFeedOrALoneCarriageReturn() {
        #expect(parse("a,b\nc,d\r\ne,f\rg,h").events == [
            .record(1, ["a", "b"]), .record(2, ["c", "d"]), .record(3, ["e", "f"]), .record(4, ["g", "h"]),
        ])
    }

    @Test func lastRecordNeedsNoLineBreak() {
        #expect(parse("id,name\n1,x").events == [.record(1, ["id", "name"]), .record(2, ["1", "x"])])
    }

    @Test func emptyFieldsAreKeptIncludingATrailingOne() {
        #expect(parse("a,,\n,\n\"\"\n,b").events == [
            .record(1, ["a", "", ""]), .record(2, ["", ""]), .record(3, [""]), .record(4, ["", "b"]),
        ])
    }

    @Test func quotedFieldsHoldCommasDoubledQuotesAndLineBreaks() {
        let text = "\"a,b\",\"say \"\"hi\"\"\",\"one\r\ntwo\nthree\rfour\",\"\"\"\"\n"
        #expect(parse(text).events == [.record(1, ["a,b", "say \"hi\"", "one\r\ntwo\nthree\rfour", "\""])])
    }

    @Test func spacesAreData() {
        #expect(parse(" a , \"b\"\n \"c\" ,d\n").events == [
            .problem(.quoteInUnquotedField, line: 1, column: 2), .record(1, [" a ", " \"b\""]),
            .problem(.quoteInUnquotedField, line: 2, column: 1), .record(2, [" \"c\" ", "d"]),
        ])
        #expect(parse("\" a\" ,b\n").events == [.problem(.textAfterClosingQuote, line: 1, column: 1), .record(1, [" a ", "b"])])
    }

    // MARK: Lines

    @Test func emptyLinesAreSkippedNotRecords() {
        #expect(parse("\na\n\n\r\n\rb\n\n").events == [.record(2, ["a"]), .record(6, ["b"])])
    }

    @Test func lineNumbersCountThePhysicalLinesOfQuotedLineBreaks() {
        let text = "h1,h2\n1,\"two\nlines\"\n2,\"crlf\r\ninside\"\r\n3,\"cr\rinside\"\r4,x\n"
        #expect(parse(text).events.map { if case .record(let line, _) = $0 { line } else { 0 } } == [1, 2, 4, 6, 8])
    }

    // MARK: Byte-order mark

    @Test func byteOrderMarkAtTheStartIsSkippedAndNoted() {
        let result = parse("\u{FEFF}sourcedId,name\n1,x\n")
        #expect(result.sawByteOrderMark)
        #expect(result.events == [.record(1, ["sourcedId", "name"]), .record(2, ["1", "x"])])
    }

    @Test func byteOrderMarkElsewhereIsData() {
        let result = parse("a\n\u{FEFF}b\n")
        #expect(!result.sawByteOrderMark)
        #expect(result.events == [.record(1, ["a"]), .record(2, ["\u{FEFF}b"])])
    }

    @Test func shortFilesAndPartialByteOrderMarksAreData() {
        #expect(parse("a").events == [.record(1, ["a"])])
        #expect(parse("ab").events == [.record(1, ["ab"])])
        #expect(parse("").events == [])
        let partial = parse([0xEF, 0xBB, 0x61])
        #expect(!partial.sawByteOrderMark)
        #expect(partial.events == [.problem(.invalidUTF8, line: 1, column: 1), .record(1, ["\u{FFFD}a"])])
        #expect(parse([0xEF, 0xBB, 0xBF]).events == [])
    }

    // MARK: Problems

    @Test func quoteInsideAnUnquotedFieldIsReportedAndKept() {
        #expect(parse("a\"b\"c,d\n").events == [
            .problem(.quoteInUnquotedField, line: 1, column: 1), .record(1, ["a\"b\"c", "d"]),
        ])
    }

    @Test func textAfterAClosingQuoteIsReportedAndKept() {
        #expect(parse("x,\"a\"b\"c\n").events == [
            .problem(.textAfterClosingQuote, line: 1, column: 2), .record(1, ["x", "ab\"c"]),
        ])
    }

    @Test func endOfFileInsideQuotesIsReportedAtTheRecordsFirstLine() {
        #expect(parse("a\nb,\"c\nd\ne").events == [
            .record(1, ["a"]), .problem(.unterminatedQuote, line: 2, column: 2), .record(2, ["b", "c\nd\ne"]),
        ])
    }

    @Test func invalidUTF8IsReportedPerFieldAndDecodedWithReplacementCharacters() {
        let bytes: [UInt8] = Array("ok,".utf8) + [0xFF, 0xFE] + Array("bad,é日本\n".utf8) + [0xC3] + Array(",fine".utf8)
        #expect(parse(bytes).events == [
            .problem(.invalidUTF8, line: 1, column: 2), .record(1, ["ok", "\u{FFFD}\u{FFFD}bad", "é日本"]),
            .problem(.invalidUTF8, line: 2, column: 1), .record(2, ["\u{FFFD}", "fine"]),
        ])
    }

    @Test func overlongRecordIsReportedOnceAndSkippedAndTheNextRecordIsWhole() {
        let text = "0123456789abc,\"de\"\"f\",g\nnext,1\n,,,,,,,,,,,,\n\"open,,,,\n,,,,,,,,"
        for chunkSize in [1, 3, 1000] {
            #expect(parse(Array(text.utf8), chunkSize: chunkSize, maximumRecordLength: 10).events == [
                .problem(.recordTooLong, line: 1, column: 1), .record(2, ["next", "1"]),
                .problem(.recordTooLong, line: 3, column: 11),
                .problem(.recordTooLong, line: 4, column: 1), .problem(.unterminatedQuote, line: 4, column: 1),
            ], "chunk size \(chunkSize)")
        }
    }

    // MARK: Chunks

    struct TrickyInput: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let bytes: [UInt8]
    }

    static let trickyInputs = [
        TrickyInput(testDescription: "every rule at once",
                    bytes: Array("\u{FEFF}id,\"na\"\"me\"\r\n1,\"a,b\r\nc\"\r\n\r\n2,x\"y\r3,\"q\"z\n\"\"\"\",é日本😀\n\"open\r\nend".utf8)),
        TrickyInput(testDescription: "CRLF after quotes and empty fields",
                    bytes: Array("a\r\n\r\n\"\"\r\n,\r\n\"x\"\"\"\r\n".utf8)),
        TrickyInput(testDescription: "partial byte-order mark and cut characters",
                    bytes: [0xEF, 0xBB, 0x0A, 0xEF, 0xBB, 0xBF, 0x2C, 0xF0, 0x9F, 0x98, 0x0D, 0x0A, 0x22, 0xE6, 0x97, 0xA5, 0x22, 0x22, 0x0D]),
        TrickyInput(testDescription: "line breaks and quotes only",
                    bytes: Array("\r\r\n\n\"\r\"\r\"\n\"\n,,\r\"\"\"\"\"\"\r\na\"\"b\r\n".utf8)),
    ]

    @Test(arguments: trickyInputs)
    func everyChunkSizeParsesTheSame(_ tricky: TrickyInput) {
        let input = tricky.bytes
        let whole = parse(input)
        #expect(!whole.events.isEmpty)
        for chunkSize in 1...input.count {
            let chunked = parse(input, chunkSize: chunkSize)
            #expect(chunked.events == whole.events, "chunk size \(chunkSize)")
            #expect(chunked.sawByteOrderMark == whole.sawByteOrderMark, "chunk size \(chunkSize)")
        }
    }

    @Test func trickyInputParsesAsSpecified() {
        #expect(parse(Self.trickyInputs[0].bytes).events == [
            .record(1, ["id", "na\"me"]),
            .record(2, ["1", "a,b\r\nc"]),
            .problem(.quoteInUnquotedField, line: 5, column: 2), .record(5, ["2", "x\"y"]),
            .problem(.textAfterClosingQuote, line: 6, column: 2), .record(6, ["3", "qz"]),
            .record(7, ["\"", "é日本😀"]),
            .problem(.unterminatedQuote, line: 8, column: 1), .record(8, ["open\r\nend"]),
        ])
    }

    // MARK: Volume

    @Test func largeGeneratedFileRoundTripsWithItsLineNumbers() {
        var random = SplitMix64(seed: 42)
        let alphabet = ["a", "Z", "7", " ", ",", "\"", "\n", "\r\n", "é", "日", "😀", "-", "@"].map { Array($0.utf8) }
        var file: [UInt8] = []
        var expected: [Event] = []
        var line = 1
        for _ in 0..<20_000 {
            let fields = (0..<Int(random.next() % 12 + 1)).map { _ in
                String(decoding: (0..<Int(random.next() % 20)).flatMap { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] },
                       as: UTF8.self)
            }
            if fields == [""] { continue }  // an empty line, which is not a record
            expected.append(.record(line, fields))
            let encoded = fields.map(encode).joined(separator: ",") + (random.next() % 2 == 0 ? "\n" : "\r\n")
            line += encoded.utf8.filter { $0 == 0x0A }.count
            file += Array(encoded.utf8)
        }
        #expect(parse(file, chunkSize: 65536).events == expected)
        #expect(parse(file, chunkSize: 7919).events == expected)
        #expect(parse(file, chunkSizes: { Int(random.next() % 300) + 1 }).events == expected)
    }

    private func encode(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    @Test func parserStartsAfreshAfterFinish() {
        var parser = CSVParser()
        var records: [CSVRecord] = []
        for text in ["a,\"b", "c\n"] {
            Array(text.utf8).withUnsafeBytes { parser.feed($0, record: { records.append($0) }, problem: { _ in }) }
            parser.finish(record: { records.append($0) }, problem: { _ in })
        }
        #expect(records == [CSVRecord(line: 1, fields: ["a", "b"]), CSVRecord(line: 1, fields: ["c"])])
    }
}


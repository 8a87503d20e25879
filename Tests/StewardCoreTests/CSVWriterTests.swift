#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardCore
import Testing

@Suite struct CSVWriterTests {
    /// Writes with `body` into memory, in chunks of `bufferSize`.
    func written(_ format: CSVWriter.Format = .standard, bufferSize: Int = 1 << 16,
                 _ body: (CSVWriter) throws -> Void) throws -> (bytes: [UInt8], chunks: Int) {
        var bytes: [UInt8] = []
        var chunks = 0
        let writer = CSVWriter(format: format, bufferSize: bufferSize) {
            bytes.append(contentsOf: $0)
            chunks += 1
        }
        try body(writer)
        try writer.finish()
        return (bytes, chunks)
    }

    func text(_ body: (CSVWriter) throws -> Void) throws -> String {
        String(decoding: try written(.standard, body).bytes, as: UTF8.self)
    }

    @Test func plainValuesAreWrittenAsTheyAre() throws {
        #expect(try text { try $0.record(["sch-0001", "", "Cedar Valley", "José"]) } == "sch-0001,,Cedar Valley,José\n")
    }

    @Test func valuesWithCommaQuoteOrLineBreakAreQuotedWithQuotesDoubled() throws {
        let text = try text { try $0.record(["a,b", "say \"hi\"", "two\nlines", "cr\rhere", "\"", ","]) }
        #expect(text == "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",\"\"\"\",\",\"\n")
    }

    @Test func everyValueRoundTripsThroughAnRFC4180Reader() throws {
        let values = ["", " ", "plain", "a,b", "\"", "\"\"", "quote \" inside", "\"quoted\"", "line\nfeed", "crlf\r\nend",
                      ",\n\"", "Nguyễn", "O'Brien", "trailing,", ",leading", String(repeating: "x\"y,", count: 300)]
        let bytes = try written(bufferSize: 64) { writer in
            try writer.record(values)
            try writer.record(values.reversed())
        }.bytes
        #expect(TinyCSV.records(bytes).map(\.fields) == [values, values.reversed()])
    }

    @Test func theProjectsReaderReadsWhatTheWriterWrote() throws {
        let values = ["sch-0001", "a,b", "say \"hi\"", "two\nlines", "", "Zoë"]
        let bytes = try written { writer in
            try writer.record(["h1", "h2", "h3", "h4", "h5", "h6"])
            try writer.record(values)
            try writer.record(values)
        }.bytes
        var parser = CSVParser()
        var records: [CSVRecord] = []
        var problems: [CSVProblem] = []
        bytes.withUnsafeBytes { parser.feed($0, record: { records.append($0) }, problem: { problems.append($0) }) }
        parser.finish(record: { records.append($0) }, problem: { problems.append($0) })
        #expect(problems.isEmpty)
        #expect(records.map(\.fields) == [["h1", "h2", "h3", "h4", "h5", "h6"], values, values])
        #expect(records.map(\.line) == [1, 2, 4])
    }

    @Test func composedFieldIsQuotedAsAWhole() throws {
        let text = try text { writer in
            writer.beginField()
            writer.append("gdn-1")
            writer.append(",")
            writer.append("gdn-2")
            writer.endField()
            writer.field("next")
            try writer.endRecord()
        }
        #expect(text == "\"gdn-1,gdn-2\",next\n")
    }

    @Test func numbersAreWrittenInDecimalZeroPadded() throws {
        let text = try text { writer in
            writer.field(42, width: 5)
            writer.field(0)
            writer.field(-7, width: 3)
            writer.field(1_234_567, width: 3)
            try writer.endRecord()
        }
        #expect(text == "00042,0,-007,1234567\n")
    }

    @Test func recordLineCountsLineFeedsInsideValues() throws {
        var lines: [Int] = []
        _ = try written { writer in
            for value in ["header", "one\ntwo\nthree", "plain", "x"] {
                lines.append(writer.recordLine)
                try writer.record([value])
            }
        }
        #expect(lines == [1, 2, 5, 6])
    }

    @Test func crlfAndByteOrderMarkWhenAsked() throws {
        let bytes = try written(CSVWriter.Format(lineEnding: .crlf, byteOrderMark: true)) { writer in
            try writer.record(["a", "b"])
            try writer.record(["c\nd"])
        }.bytes
        #expect(bytes == [0xEF, 0xBB, 0xBF] + Array("a,b\r\n\"c\nd\"\r\n".utf8))
    }

    @Test func bytesAreHandedOnInChunksWithoutSplittingRecords() throws {
        let (bytes, chunks) = try written(bufferSize: 64) { writer in
            for number in 0..<100 { try writer.record(["row \(number)", "value, with comma"]) }
        }
        #expect(chunks > 10)
        #expect(TinyCSV.records(bytes).count == 100)
    }

    @Test func writesToAFileDescriptor() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("csvwriter-\(getpid()).csv").path
        defer { unlink(path) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(descriptor >= 0)
        let writer = CSVWriter(fileDescriptor: descriptor, path: path, bufferSize: 64)
        for number in 0..<50 { try writer.record(["\(number)", "a \"quoted\" value"]) }
        try writer.finish()
        close(descriptor)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == writer.byteCount)
        #expect(TinyCSV.records(bytes).last?.fields == ["49", "a \"quoted\" value"])
    }
}

/// A small RFC 4180 reader for the tests: records with the physical line each starts on.
/// Independent of the project's reader, so each checks the other.
enum TinyCSV {
    struct Record {
        var line: Int
        var fields: [String]
        var rawFields: [[UInt8]]
    }

    static func records(_ bytes: [UInt8]) -> [Record] {
        var records: [Record] = []
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var atRecordStart = true
        func endField() {
            fields.append(field)
            field = []
        }
        func endRecord() {
            endField()
            records.append(Record(line: recordLine, fields: fields.map { String(decoding: $0, as: UTF8.self) }, rawFields: fields))
            fields = []
            atRecordStart = true
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if atRecordStart {
                recordLine = line
                atRecordStart = false
            }
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inQuotes = true
            case UInt8(ascii: ","): endField()
            case UInt8(ascii: "\r") where index < bytes.count && bytes[index] == UInt8(ascii: "\n"): break
            case UInt8(ascii: "\n"):
                line += 1
                endRecord()
            default: field.append(byte)
            }
        }
        if !atRecordStart { endRecord() }
        return records
    }
}

/// One thing an import found wrong or doubtful in a drop, at `file:line:column`.
///
/// Messages name files, lines, columns and sourcedIds, never a value from a student's record:
/// a finding may be shown to anyone who runs an import, and is kept with the import record.
public struct Finding: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable, Comparable {
        case warning, error
        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .error }
    }

    /// Stable names for each kind of finding; tests, reports and operators match on these.
    public struct Code: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
        public var description: String { rawValue }

        // The drop as a whole
        public static let invalidManifest = Code(rawValue: "invalid-manifest")
        public static let unsupportedVersion = Code(rawValue: "unsupported-version")
        public static let missingFile = Code(rawValue: "missing-file")
        public static let skippedFile = Code(rawValue: "skipped-file")
        public static let unreadableDrop = Code(rawValue: "unreadable-drop")
        // CSV syntax (RFC 4180)
        public static let malformedCSV = Code(rawValue: "malformed-csv")
        public static let wrongFieldCount = Code(rawValue: "wrong-field-count")
        public static let invalidUTF8 = Code(rawValue: "invalid-utf8")
        public static let byteOrderMark = Code(rawValue: "byte-order-mark")
        // Headers
        public static let missingColumn = Code(rawValue: "missing-column")
        public static let misspelledColumn = Code(rawValue: "misspelled-column")
        public static let columnOrder = Code(rawValue: "column-order")
        public static let extraColumn = Code(rawValue: "extra-column")
        // Values
        public static let missingValue = Code(rawValue: "missing-value")
        public static let invalidEnumeration = Code(rawValue: "invalid-enumeration")
        public static let lenientEnumeration = Code(rawValue: "lenient-enumeration")
        public static let invalidDate = Code(rawValue: "invalid-date")
        public static let ambiguousDate = Code(rawValue: "ambiguous-date")
        public static let lenientDate = Code(rawValue: "lenient-date")
        public static let invalidBoolean = Code(rawValue: "invalid-boolean")
        public static let lenientBoolean = Code(rawValue: "lenient-boolean")
        public static let invalidYear = Code(rawValue: "invalid-year")
        public static let statusInBulk = Code(rawValue: "status-in-bulk")
        public static let passwordIgnored = Code(rawValue: "password-ignored")
        // Records
        public static let duplicateId = Code(rawValue: "duplicate-id")
        public static let unresolvedReference = Code(rawValue: "unresolved-reference")
        public static let deleteOfUnknown = Code(rawValue: "delete-of-unknown")
    }

    public var severity: Severity
    public var code: Code
    /// The file inside the drop, such as `users.csv`.
    public var file: String
    /// 1-based line of the record (its first line, for a record that spans several); 0 for the
    /// file as a whole.
    public var line: Int
    /// 1-based column (field) number; 0 for the record or file as a whole.
    public var column: Int
    public var message: String

    public init(_ severity: Severity, _ code: Code, file: String, line: Int = 0, column: Int = 0, _ message: String) {
        self.severity = severity
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `users.csv:12:5: error: invalid-date: …`
    public var description: String {
        var place = file
        if line > 0 { place += ":\(line)" }
        if column > 0 { place += ":\(column)" }
        return "\(place): \(severity.rawValue): \(code.rawValue): \(message)"
    }
}

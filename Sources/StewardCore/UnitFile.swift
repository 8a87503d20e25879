/// A configuration file in the style of systemd units: `[Section]` headers, `Key=Value` lines,
/// `#` or `;` comments (also after a value, when preceded by white space), repeatable keys and
/// space-separated lists. Operators read Steward's files like the units beside them.
///
/// Parsing keeps every entry with its line, so each later check can name `file:line: key`.
public struct UnitFile: Sendable {
    /// One `Key=Value` line.
    public struct Entry: Sendable, Equatable {
        public var section: String
        public var key: String
        public var value: String
        public var line: Int

        /// The value read as a switch: `yes`/`true`/`on` or `no`/`false`/`off`, in any case;
        /// nil for anything else.
        public var switchValue: Bool? {
            switch value.lowercased() {
            case "yes", "true", "on": return true
            case "no", "false", "off": return false
            default: return nil
            }
        }
    }

    /// The path the text came from, used in every problem this file reports.
    public let path: String
    public private(set) var entries: [Entry] = []
    /// Lines that could not be read as a section, an entry or a comment.
    public private(set) var problems: [ConfigurationProblem] = []

    /// Reads `text` as the contents of `path`. Never throws: malformed lines become ``problems``.
    public init(path: String, text: String) {
        self.path = path
        var section: String?
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Self.strippingComment(rawLine.trimmingWhitespace())
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    problems.append(.init(path, lineNumber, nil, "a section header must look like [Name]"))
                    continue
                }
                section = String(line.dropFirst().dropLast()).trimmingWhitespace()
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                problems.append(.init(path, lineNumber, nil, "expected Key=Value, a [Section] or a # comment"))
                continue
            }
            let key = String(line[..<equals]).trimmingWhitespace()
            let value = String(line[line.index(after: equals)...]).trimmingWhitespace()
            guard !key.isEmpty else {
                problems.append(.init(path, lineNumber, nil, "a line starts with '=': the key is missing"))
                continue
            }
            guard let section else {
                problems.append(.init(path, lineNumber, key, "this key comes before any [Section] header"))
                continue
            }
            entries.append(Entry(section: section, key: key, value: value, line: lineNumber))
        }
    }

    /// Every section name, in order of first appearance.
    public var sections: [String] {
        var seen: [String] = []
        for entry in entries where !seen.contains(entry.section) { seen.append(entry.section) }
        return seen
    }

    /// A full-line comment starts with `#` or `;`; a trailing one is `#` after white space.
    private static func strippingComment(_ line: String) -> String {
        if line.hasPrefix("#") || line.hasPrefix(";") { return "" }
        var previousWasSpace = false
        for index in line.indices {
            let character = line[index]
            if character == "#" && previousWasSpace {
                return String(line[..<index]).trimmingWhitespace()
            }
            previousWasSpace = character == " " || character == "\t"
        }
        return line
    }
}

/// One thing wrong in a configuration file, printed as `file:line: key: what is wrong`.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible, Codable {
    public var file: String
    public var line: Int
    public var key: String?
    public var message: String

    public init(_ file: String, _ line: Int, _ key: String?, _ message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `file:line: key: message`; a problem with the whole file (line 0) is `file: message`.
    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        if let key { return "\(place): \(key): \(message)" }
        return "\(place): \(message)"
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and carriage returns.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// Every problem found in a set of configuration files; none of them is applied.
public struct ConfigurationProblems: Error, Sendable, Equatable {
    public var problems: [ConfigurationProblem]
    public init(_ problems: [ConfigurationProblem]) { self.problems = problems }
}

/// What a kind of configuration file may contain: its sections and, per section, its keys.
/// Checking a ``UnitFile`` against a schema catches misspelled sections and keys (with a
/// suggestion), a single-valued key given twice, and a required key left out.
public struct UnitFileSchema: Sendable {
    public struct Key: Sendable {
        public var name: String
        /// Whether the key may appear more than once; its values then add up to one list.
        public var isRepeatable: Bool
        public var isRequired: Bool

        public init(_ name: String, repeatable: Bool = false, required: Bool = false) {
            self.name = name
            self.isRepeatable = repeatable
            self.isRequired = required
        }
    }

    public struct Section: Sendable {
        public var name: String
        public var keys: [Key]
        /// A section whose keys are checked by someone else (a connector module's `[Connector]`).
        public var acceptsAnyKey: Bool

        public init(_ name: String, keys: [Key], acceptsAnyKey: Bool = false) {
            self.name = name
            self.keys = keys
            self.acceptsAnyKey = acceptsAnyKey
        }
    }

    public var sections: [Section]

    public init(_ sections: [Section]) { self.sections = sections }
}

extension UnitFile {
    /// Every problem of this file against `schema`, including the file's own syntax problems.
    public func problems(against schema: UnitFileSchema) -> [ConfigurationProblem] {
        var found = problems
        var seenSingles: [String: Int] = [:]
        let sectionNames = schema.sections.map(\.name)
        for entry in entries {
            guard let section = schema.sections.first(where: { $0.name == entry.section }) else {
                found.append(.init(path, entry.line, nil, "unknown section [\(entry.section)]"
                    + suggestion(entry.section, among: sectionNames, bracketed: true)))
                continue
            }
            if section.acceptsAnyKey { continue }
            guard let key = section.keys.first(where: { $0.name == entry.key }) else {
                found.append(.init(path, entry.line, entry.key, "unknown key in [\(entry.section)]"
                    + suggestion(entry.key, among: section.keys.map(\.name), bracketed: false)))
                continue
            }
            let qualified = "\(entry.section).\(entry.key)"
            if !key.isRepeatable, let first = seenSingles[qualified] {
                found.append(.init(path, entry.line, entry.key,
                    "given twice (first on line \(first)); keep one"))
            }
            seenSingles[qualified] = seenSingles[qualified] ?? entry.line
        }
        for section in schema.sections {
            for key in section.keys where key.isRequired && first(section.name, key.name) == nil {
                found.append(.init(path, lastLine(of: section.name), key.name,
                    "required in [\(section.name)] but missing"))
            }
        }
        return found
    }

    /// The first entry of `key` in `section`.
    public func first(_ section: String, _ key: String) -> Entry? {
        entries.first { $0.section == section && $0.key == key }
    }

    /// Every entry of `key` in `section`, in file order.
    public func all(_ section: String, _ key: String) -> [Entry] {
        entries.filter { $0.section == section && $0.key == key }
    }

    /// The entries of a section, in file order.
    public func entries(in section: String) -> [Entry] {
        entries.filter { $0.section == section }
    }

    /// The line to blame for something missing from a section: its last entry, or line 1.
    private func lastLine(of section: String) -> Int {
        entries.last { $0.section == section }?.line ?? 1
    }

    private func suggestion(_ word: String, among candidates: [String], bracketed: Bool) -> String {
        guard let best = closestMatch(word, among: candidates) else {
            return "; known: " + candidates.map { bracketed ? "[\($0)]" : $0 }.joined(separator: ", ")
        }
        return "; did you mean " + (bracketed ? "[\(best)]" : best) + "?"
    }
}

/// The candidate `word` was most likely meant to be, when one is close enough to suggest: a
/// few letters off (case-insensitive Levenshtein distance of at most 2, or a third of its length).
public func closestMatch(_ word: String, among candidates: [String]) -> String? {
    guard let best = candidates.min(by: { editDistance($0, word) < editDistance($1, word) }),
          editDistance(best, word) <= max(2, word.count / 3) else { return nil }
    return best
}

/// Case-insensitive Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

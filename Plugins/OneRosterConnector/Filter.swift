/// A OneRoster `filter=` expression: one or two predicates `field op 'value'`, joined by
/// ` AND ` or ` OR ` (OneRoster 1.1 and 1.2, §3.4.3 of the REST binding).
struct Filter: Sendable, Equatable {
    enum Operator: String, Sendable, CaseIterable {
        case equal = "=", notEqual = "!=", greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<=", contains = "~"
    }

    struct Predicate: Sendable, Equatable {
        var field: String
        var op: Operator
        var value: String

        /// Whether `value` (a property's comparable texts) satisfies the predicate. A list
        /// matches when one of its texts does, except `!=`, which needs none to be equal. A
        /// missing property matches only `!=`. Order is Swift's string order (canonically
        /// equivalent texts are equal); ISO dates and `dateLastModified` compare as times.
        func matches(_ texts: [String]) -> Bool {
            switch op {
            case .notEqual: return !texts.contains(value)
            case .equal: return texts.contains(value)
            case .contains:
                let needle = value.lowercased()
                return texts.contains { $0.lowercased().contains(needle) }
            case .greater: return texts.contains { $0 > value }
            case .greaterOrEqual: return texts.contains { $0 >= value }
            case .less: return texts.contains { $0 < value }
            case .lessOrEqual: return texts.contains { $0 <= value }
            }
        }
    }

    enum Join: String, Sendable { case and = "AND", or = "OR" }

    var predicates: [Predicate]
    var join: Join?

    /// The fields the filter reads.
    var fields: [String] { predicates.map(\.field) }

    /// Whether an object passes, given how to read a property's comparable texts.
    func matches(_ texts: (String) -> [String]) -> Bool {
        let results = predicates.map { $0.matches(texts($0.field)) }
        return join == .or ? results.contains(true) : !results.contains(false)
    }

    /// Why a filter expression cannot be read.
    struct SyntaxError: Error, Sendable, Equatable {
        let message: String
    }

    /// Reads `text`: `givenName='Ann'`, `grades='03' AND familyName~'ro'`. Spaces around the
    /// operator are allowed; values are single-quoted and may hold spaces and the words AND
    /// and OR.
    static func parse(_ text: String) throws(SyntaxError) -> Filter {
        var scanner = Substring(text)
        var filter = Filter(predicates: [], join: nil)
        while true {
            filter.predicates.append(try predicate(&scanner))
            skipSpaces(&scanner)
            if scanner.isEmpty { return filter }
            guard filter.predicates.count < 2 else { throw SyntaxError(message: "a filter holds at most two predicates") }
            guard let join = Join.allCases.first(where: { scanner.hasPrefix($0.rawValue + " ") }) else {
                throw SyntaxError(message: "predicates are joined by AND or OR")
            }
            filter.join = join
            scanner = scanner.dropFirst(join.rawValue.count)
        }
    }

    private static func predicate(_ scanner: inout Substring) throws(SyntaxError) -> Predicate {
        skipSpaces(&scanner)
        let field = scanner.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
        guard !field.isEmpty else { throw SyntaxError(message: "a predicate starts with a field name") }
        scanner = scanner.dropFirst(field.count)
        skipSpaces(&scanner)
        // Longest operator first, so `>=` is not read as `>`.
        guard let op = Operator.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count })
            .first(where: { scanner.hasPrefix($0.rawValue) }) else {
            throw SyntaxError(message: "the operator is one of = != > >= < <= ~")
        }
        scanner = scanner.dropFirst(op.rawValue.count)
        skipSpaces(&scanner)
        guard scanner.first == "'" else { throw SyntaxError(message: "the value is in single quotes") }
        scanner = scanner.dropFirst()
        guard let close = scanner.firstIndex(of: "'") else { throw SyntaxError(message: "the value's closing quote is missing") }
        let value = String(scanner[..<close])
        scanner = scanner[scanner.index(after: close)...]
        return Predicate(field: String(field), op: op, value: value)
    }

    private static func skipSpaces(_ scanner: inout Substring) {
        scanner = scanner.drop { $0 == " " }
    }
}

extension Filter.Join: CaseIterable {}

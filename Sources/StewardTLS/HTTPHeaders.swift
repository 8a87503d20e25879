/// One header line: a name and its value, as received or as to be sent.
public struct HTTPField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The header lines of a message, in order, with names looked up case-insensitively.
///
/// Order and repetition are kept because both carry meaning: a repeated `Set-Cookie`, list
/// headers split over several lines, and the proof that a request carried two `Host` lines.
/// Values received from a peer are decoded as UTF-8 (invalid sequences become U+FFFD); the
/// framing headers Steward acts on are checked as bytes before that.
public struct HTTPHeaders: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [HTTPField]

    public init(_ fields: [HTTPField] = []) { self.fields = fields }

    /// Keeps the literal's order: `["Content-Type": "text/plain", "Cache-Control": "no-store"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { HTTPField(name: $0.0, value: $0.1) }
    }

    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }
    public subscript(position: Int) -> HTTPField { fields[position] }

    /// The first value for `name`, or nil when the message has none.
    public subscript(name: String) -> String? {
        fields.first { Self.namesMatch($0.name, name) }?.value
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        fields.compactMap { Self.namesMatch($0.name, name) ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { Self.namesMatch($0.name, name) }
    }

    /// The elements of a comma-separated list header over all its lines (RFC 9110 §5.6.1),
    /// trimmed, lowercased, with empty elements dropped: `Connection: keep-alive, Upgrade`
    /// gives `["keep-alive", "upgrade"]`.
    public func listElements(for name: String) -> [String] {
        values(for: name).flatMap { value in
            value.split(separator: ",").compactMap { element in
                let trimmed = element.trimmingOptionalWhitespace()
                return trimmed.isEmpty ? nil : trimmed.lowercased()
            }
        }
    }

    /// Whether the connection stays open after a message with these headers: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive` (RFC 9112 §9.3).
    func keepConnectionAlive(_ version: HTTPVersion) -> Bool {
        let connection = listElements(for: "Connection")
        return !connection.contains("close") && (version.isHTTP11OrLater || connection.contains("keep-alive"))
    }

    /// Appends a line, keeping any others with the same name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    /// Replaces every line named `name` with one line carrying `value`, placed where the first was.
    public mutating func set(_ name: String, _ value: String) {
        guard let first = fields.firstIndex(where: { Self.namesMatch($0.name, name) }) else {
            add(name, value)
            return
        }
        fields[first].value = value
        var index = fields.index(after: first)
        while index < fields.endIndex {
            if Self.namesMatch(fields[index].name, name) {
                fields.remove(at: index)
            } else {
                index += 1
            }
        }
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.namesMatch($0.name, name) }
    }

    /// Header names are ASCII tokens, so an ASCII case fold is the whole of case-insensitivity.
    static func namesMatch(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) { HTTPSyntax.lowercased($0) == HTTPSyntax.lowercased($1) }
    }
}

extension Substring {
    /// The string without leading and trailing spaces and tabs (RFC 9110's OWS).
    func trimmingOptionalWhitespace() -> Substring {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isWhitespace($0) }), let last = lastIndex(where: { !isWhitespace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}

import ConnectorKit
import Foundation

/// A OneRoster property value as this connector builds it: text, a list, or an object such as
/// a reference. Kept as a value (not Foundation's `Any`) so filters and sorts can read it. Not
/// `indirect`: the array and dictionary already hold their elements apart, so a text costs no
/// box of its own.
enum JSONValue: Sendable, Equatable {
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// What a filter or a sort compares: the text, each text of a list, or a reference's
    /// `sourcedId` (so `school='sch-0001'` matches a class of that school).
    var comparableTexts: [String] {
        switch self {
        case .string(let text): return [text]
        case .array(let items): return items.flatMap(\.comparableTexts)
        case .object(let members): return members["sourcedId"]?.comparableTexts ?? []
        }
    }

    /// Compact JSON with keys in code-point order, so equal answers are equal bytes. Written
    /// directly: Foundation's `JSONSerialization` with sorted keys cost more than reading the
    /// view (it collates the keys).
    static func encode(_ object: JSONObject) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONValue.object(object).write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .string(let text): Self.write(text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string, escaped as ConnectorKit writes it.
    private static func write(_ text: String, to out: inout [UInt8]) { JSONString.append(text, to: &out) }
}

/// A JSON object's members, kept in key order (code points) as they are set: an object of a
/// dozen properties needs no hash table, and is written in order without sorting.
struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private(set) var members: [(key: String, value: JSONValue)] = []

    init() { members.reserveCapacity(20) }

    init(dictionaryLiteral elements: (String, JSONValue)...) {
        members.reserveCapacity(elements.count)
        for (key, value) in elements { self[key] = value }
    }

    subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            let position = members.firstIndex { $0.key >= key } ?? members.count
            let present = position < members.count && members[position].key == key
            switch (newValue, present) {
            case (let value?, true): members[position].value = value
            case (let value?, false): members.insert((key, value), at: position)
            case (nil, true): members.remove(at: position)
            case (nil, false): break
            }
        }
    }

    /// Only the members whose key `isIncluded` accepts.
    func filter(_ isIncluded: (String) -> Bool) -> JSONObject {
        var kept = JSONObject()
        kept.members = members.filter { isIncluded($0.key) }
        return kept
    }

    static func == (left: JSONObject, right: JSONObject) -> Bool {
        left.members.count == right.members.count && zip(left.members, right.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension RecordFields {
    /// A list field as a JSON array of its texts, nil when the record has none.
    func stringList(_ name: String) -> JSONValue? {
        let values = list(name)
        return values.isEmpty ? nil : .array(values.map(JSONValue.string))
    }
}

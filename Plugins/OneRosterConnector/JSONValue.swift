import Foundation

/// A OneRoster property value as this connector builds it: text, a list, or an object such as
/// a reference. Kept as a value (not Foundation's `Any`) so filters and sorts can read it.
indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value as Foundation objects, for `JSONSerialization`.
    var foundation: Any {
        switch self {
        case .string(let text): return text
        case .array(let items): return items.map(\.foundation)
        case .object(let members): return members.mapValues(\.foundation)
        }
    }

    /// What a filter or a sort compares: the text, each text of a list, or a reference's
    /// `sourcedId` (so `school='sch-0001'` matches a class of that school).
    var comparableTexts: [String] {
        switch self {
        case .string(let text): return [text]
        case .array(let items): return items.flatMap(\.comparableTexts)
        case .object(let members): return members["sourcedId"]?.comparableTexts ?? []
        }
    }

    /// Compact JSON with sorted keys, so equal answers are equal bytes.
    static func encode(_ object: [String: JSONValue]) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object.mapValues(\.foundation),
                                                options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Array(data)
    }
}

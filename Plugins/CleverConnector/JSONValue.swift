import ConnectorKit

/// A Clever property value as this connector builds it. Kept as a value (not Foundation's
/// `Any`) so two renderings of a record can be compared for an event's `previous_attributes`.
/// Like OneRosterConnector's, with numbers and null; strings are written by ConnectorKit's
/// `JSONString`.
indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(Int)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    /// Compact JSON with keys in code-point order, so equal answers are equal bytes.
    static func encode(_ object: [String: JSONValue]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONValue.object(object).write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .string(let text): Self.write(text, to: &out)
        case .number(let number): out += Array(String(number).utf8)
        case .null: out += Array("null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string, escaped as ConnectorKit writes it.
    private static func write(_ text: String, to out: inout [UInt8]) { JSONString.append(text, to: &out) }
}

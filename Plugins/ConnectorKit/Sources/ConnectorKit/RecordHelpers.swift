/// Typed reads of a record's fields, for connectors: a text field's value, or the first of a
/// list; a list, or a text as a list of one. An empty text reads as absent.
public struct RecordFields: Sendable {
    public let fields: SharedFields

    public init(_ fields: SharedFields) { self.fields = fields }

    public func text(_ name: String) -> String? {
        switch fields[name] {
        case .text(let text)?: return text.isEmpty ? nil : text
        case .list(let list)?: return list.first { !$0.isEmpty }
        case nil: return nil
        }
    }

    public func list(_ name: String) -> [String] {
        switch fields[name] {
        case .text(let text)?: return text.isEmpty ? [] : [text]
        case .list(let list)?: return list
        case nil: return []
        }
    }
}

/// JSON strings for connectors that write their answers' bytes themselves.
public enum JSONString {
    static let hex = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string: `"` and `\` escaped, `\n`, `\r`, `\t`, other control
    /// characters as `\u00XX`, everything else as UTF-8. A text that needs no escape is copied
    /// whole.
    public static func append(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendContents(text, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `text` escaped as inside a JSON string, without the quotes: for a string a
    /// connector writes in parts (a path, then an id).
    public static func appendContents(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            var clean = true
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                clean = false
                break
            }
            guard !clean else { return out.append(contentsOf: bytes) }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
                case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0..<0x20: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                       hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
                default: out.append(byte)
                }
            }
        }
    }
}

/// Query strings for the links connectors write (`next`, `prev`).
public enum PercentEncoding {
    /// `text` with everything but RFC 3986's unreserved characters percent-encoded.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                escaped += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return escaped
    }
}

/// How one CSV value is read: checked against its column's kind and brought to one canonical
/// form. Anything that could be read two ways is an error, never a guess; a variant with only one
/// reading is accepted with a warning.
public enum ValueRules {
    /// The outcome of reading one value.
    public enum Reading: Sendable, Equatable {
        /// The value as stored (canonical form).
        case accepted(String)
        /// Accepted in canonical form, with a warning about the variant found.
        case lenient(String, Finding.Code, String)
        /// Refused, with the finding's code and message.
        case refused(Finding.Code, String)
    }

    /// Reads `value` of a column of kind `kind`. Empty values are handled by the caller
    /// (required or not).
    public static func read(_ value: String, as kind: ColumnKind) -> Reading {
        switch kind {
        case .text, .list, .reference, .referenceList, .secret:
            return .accepted(value)
        case .enumeration(let allowed):
            return enumeration(value, allowed)
        case .boolean:
            return boolean(value)
        case .date:
            return date(value)
        case .dateTime:
            return dateTime(value)
        case .year:
            return value.utf8.count == 4 && value.utf8.allSatisfy(isDigit)
                ? .accepted(value) : .refused(.invalidYear, "expected a four-digit year such as 2027")
        }
    }

    static func enumeration(_ value: String, _ allowed: [String]) -> Reading {
        if allowed.contains(value) { return .accepted(value) }
        // A different letter case has one reading only when it matches exactly one allowed word.
        let matches = allowed.filter { $0.lowercased() == value.lowercased() }
        if matches.count == 1 {
            return .lenient(matches[0], .lenientEnumeration, "'\(matches[0])' written in another letter case; read as \(matches[0])")
        }
        return .refused(.invalidEnumeration, "not one of: \(allowed.joined(separator: ", "))")
    }

    static func boolean(_ value: String) -> Reading {
        switch value {
        case "true", "false": return .accepted(value)
        case "TRUE", "True": return .lenient("true", .lenientBoolean, "\(value) read as true; the binding writes true")
        case "FALSE", "False": return .lenient("false", .lenientBoolean, "\(value) read as false; the binding writes false")
        default: return .refused(.invalidBoolean, "expected true or false")
        }
    }

    /// `YYYY-MM-DD`. `YYYY-M-D` (one digit) has one reading and is accepted with a warning.
    /// `1/05/2023` and other slash or dot forms are day-month or month-day: refused as ambiguous.
    public static func date(_ value: String) -> Reading {
        let bytes = Array(value.utf8)
        if bytes.contains(UInt8(ascii: "/")) || bytes.contains(UInt8(ascii: ".")) {
            return .refused(.ambiguousDate, "a date with / or . can be read as day-month or month-day; write YYYY-MM-DD")
        }
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isDigit) }),
              parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              isValid(year: year, month: month, day: day)
        else {
            return .refused(.invalidDate, "expected a date YYYY-MM-DD")
        }
        let canonical = parts[0] + "-" + (month < 10 ? "0" : "") + String(month) + "-" + (day < 10 ? "0" : "") + String(day)
        if parts[1].count == 2 && parts[2].count == 2 { return .accepted(value) }
        return .lenient(canonical, .lenientDate, "read as \(canonical); the binding writes YYYY-MM-DD")
    }

    /// An ISO 8601 date-time such as `2026-11-29T12:00:00Z` or `2026-11-29T12:00:00.123+01:00`;
    /// a bare date is accepted as that day.
    static func dateTime(_ value: String) -> Reading {
        let dateEnd = value.firstIndex(of: "T") ?? value.endIndex
        let datePart = String(value[..<dateEnd])
        guard case .accepted = date(datePart), datePart.count == 10 else {
            return .refused(.invalidDate, "expected an ISO 8601 date-time such as 2026-11-29T12:00:00Z")
        }
        if dateEnd == value.endIndex { return .accepted(value) }
        let time = value[value.index(after: dateEnd)...]
        let allowed = Set("0123456789:.+-Z".utf8)
        guard time.count >= 5, time.utf8.allSatisfy(allowed.contains) else {
            return .refused(.invalidDate, "expected an ISO 8601 date-time such as 2026-11-29T12:00:00Z")
        }
        return .accepted(value)
    }

    static func isValid(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    /// The items of a comma-separated list value, trimmed, without empty items.
    /// (Spaces, tabs and carriage returns are trimmed.) Read over the UTF-8 bytes: every page of
    /// a view splits several lists per person.
    public static func items(_ value: String) -> [String] {
        var utf8 = value
        return utf8.withUTF8 { bytes in
            var items: [String] = []
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x2C { end += 1 }
                var low = start, high = end
                while low < high, isBlank(bytes[low]) { low += 1 }
                while high > low, isBlank(bytes[high - 1]) { high -= 1 }
                if high > low { items.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[low..<high]), as: UTF8.self)) }
                start = end + 1
            }
            return items
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}

import ConnectorKit

/// Writes a page of users straight into JSON bytes: a full sync reads every user of a view in
/// order and asks for every property, and building each one as a `JSONObject` first cost more
/// than reading it from the view.
///
/// It writes exactly what `JSONValue.encode` writes for `Mapping.object(_:as: .user)`: the
/// same members and values, keys in code-point order. `OneRosterUnitTests` holds the two to
/// that over many records. Requests that filter, sort or select `fields`, and every other
/// entity, take the object path.
struct UserWriter {
    let mapping: Mapping
    /// `/ims/…/orgs/`: a school's href, before its id.
    private let orgHref: [UInt8]
    /// Dates by roster version: a page's users share a few.
    private var dates: [Int64: String] = [:]

    init(mapping: Mapping) {
        self.mapping = mapping
        orgHref = Array("\(mapping.version.basePath)/orgs/".utf8)
    }

    /// `{"users":[…]}`.
    mutating func page(_ records: [SharedViewRecord]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.count * 420 + 16)
        Self.append(#"{"users":["#, to: &out)
        for (index, record) in records.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            write(record, to: &out)
        }
        Self.append("]}", to: &out)
        return out
    }

    /// Appends `text`'s UTF-8 bytes as they are (JSON syntax and keys that need no escape).
    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private mutating func date(_ version: Int64) -> String {
        if let known = dates[version] { return known }
        let date = mapping.appliedAt(version) ?? Mapping.dateLastModified(version)
        dates[version] = date
        return date
    }

    /// One user, members in code-point order of their keys.
    mutating func write(_ record: SharedViewRecord, to out: inout [UInt8]) {
        let fields = RecordFields(record.fields)
        var first = true
        func raw(_ text: StaticString) { Self.append(text, to: &out) }
        func key(_ name: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            raw(name)
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func text(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONString.append(value, to: &out)
        }
        func list(_ values: [String]) {
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        func orgReference(_ id: String) {
            raw(#"{"href":"#)
            if id.isEmpty {
                raw(#""""#)
            } else {
                // The path's prefix needs no escape; the id is escaped as any string.
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: orgHref)
                JSONString.appendContents(id, to: &out)
                out.append(UInt8(ascii: "\""))
            }
            raw(#","sourcedId":"#)
            JSONString.append(id, to: &out)
            raw(#","type":"org"}"#)
        }
        let v1p2 = mapping.version == .v1p2
        let schools = fields.list("school")
        text("dateLastModified", date(record.version))
        text("email", fields.text("email"))
        text("enabledUser", "true")
        text("familyName", fields.text("family_name") ?? "")
        text("givenName", fields.text("given_name") ?? "")
        let grades = fields.list("grade")
        if !grades.isEmpty {
            key("grades")
            list(grades)
        }
        text("identifier", fields.text("student_number"))
        if let initial = fields.text("family_initial") {
            key("metadata")
            raw(#"{"familyInitial":"#)
            JSONString.append(initial, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        text("middleName", fields.text("middle_name"))
        if !v1p2 {
            key("orgs")
            out.append(UInt8(ascii: "["))
            for (index, school) in schools.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                orgReference(school)
            }
            out.append(UInt8(ascii: "]"))
        }
        text("phone", fields.text("phone"))
        if v1p2 { text("preferredFirstName", fields.text("preferred_name")) }
        if v1p2 {
            // An org is required in each role; with `school` withheld the org is left empty.
            key("roles")
            out.append(UInt8(ascii: "["))
            let role = Mapping.role(record.kind)
            for (index, school) in (schools.isEmpty ? [""] : schools).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                raw(#"{"org":"#)
                orgReference(school)
                raw(#","role":"#)
                JSONString.append(role, to: &out)
                raw(index == 0 ? #","roleType":"primary"}"# : #","roleType":"secondary"}"#)
            }
            out.append(UInt8(ascii: "]"))
        } else {
            text("role", record.kind.rawValue)
        }
        text("sms", fields.text("sms"))
        text("sourcedId", record.id)
        text("status", "active")
        if let stateId = fields.text("state_id") {
            key("userIds")
            raw(#"[{"identifier":"#)
            JSONString.append(stateId, to: &out)
            raw(#","type":"state"}]"#)
        }
        text("username", fields.text("username"))
        out.append(UInt8(ascii: "}"))
    }
}

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

    /// The view fields a user is written from, taken from its record's list of fields through
    /// the writer's `layout` (a page's records list the same names in the same order).
    private struct UserFields {
        var givenName: String?, familyName: String?, familyInitial: String?, middleName: String?, preferredName: String?
        var email: String?, phone: String?, sms: String?, username: String?, studentNumber: String?, stateId: String?
        var grades: [String] = [], schools: [String] = []

        /// The view fields a user is written from, each a slot of `UserFields`.
        enum Slot: String {
            case givenName = "given_name", familyName = "family_name", familyInitial = "family_initial", middleName = "middle_name"
            case preferredName = "preferred_name", email, phone, sms, username, studentNumber = "student_number"
            case stateId = "state_id", grade, school
        }

        init(_ values: [SharedFieldValue], slots: [Slot?]) {
            for (value, slot) in zip(values, slots) {
                guard let slot else { continue }
                // As RecordFields reads them: a text is its first non-empty item, a list all its items.
                let text: String?, list: [String]
                switch value {
                case .text(let value): (text, list) = (value.isEmpty ? nil : value, value.isEmpty ? [] : [value])
                case .list(let values): (text, list) = (values.first { !$0.isEmpty }, values)
                }
                switch slot {
                case .givenName: givenName = text
                case .familyName: familyName = text
                case .familyInitial: familyInitial = text
                case .middleName: middleName = text
                case .preferredName: preferredName = text
                case .email: email = text
                case .phone: phone = text
                case .sms: sms = text
                case .username: username = text
                case .studentNumber: studentNumber = text
                case .stateId: stateId = text
                case .grade: grades = list
                case .school: schools = list
                }
            }
        }
    }

    /// The slot of each name of the last record's fields: worked out again only when a record
    /// lists other names (comparing a page's shared list of names costs nothing).
    private var layout: (names: [String], slots: [UserFields.Slot?]) = ([], [])

    private mutating func fields(of record: SharedViewRecord) -> UserFields {
        if record.fields.names != layout.names {
            layout = (record.fields.names, record.fields.names.map(UserFields.Slot.init(rawValue:)))
        }
        return UserFields(record.fields.values, slots: layout.slots)
    }

    /// One user, members in code-point order of their keys.
    mutating func write(_ record: SharedViewRecord, to out: inout [UInt8]) {
        let fields = fields(of: record)
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
        let schools = fields.schools
        text("dateLastModified", date(record.version))
        text("email", fields.email)
        text("enabledUser", "true")
        text("familyName", fields.familyName ?? "")
        text("givenName", fields.givenName ?? "")
        let grades = fields.grades
        if !grades.isEmpty {
            key("grades")
            list(grades)
        }
        text("identifier", fields.studentNumber)
        if let initial = fields.familyInitial {
            key("metadata")
            raw(#"{"familyInitial":"#)
            JSONString.append(initial, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        text("middleName", fields.middleName)
        if !v1p2 {
            key("orgs")
            out.append(UInt8(ascii: "["))
            for (index, school) in schools.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                orgReference(school)
            }
            out.append(UInt8(ascii: "]"))
        }
        text("phone", fields.phone)
        if v1p2 { text("preferredFirstName", fields.preferredName) }
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
        text("sms", fields.sms)
        text("sourcedId", record.id)
        text("status", "active")
        if let stateId = fields.stateId {
            key("userIds")
            raw(#"[{"identifier":"#)
            JSONString.append(stateId, to: &out)
            raw(#","type":"state"}]"#)
        }
        text("username", fields.username)
        out.append(UInt8(ascii: "}"))
    }
}

import ConnectorKit

/// A Clever object built from one record, and the view fields it was built from: what the
/// record of disclosures says was sent.
struct Built: Sendable, Equatable {
    var object: [String: JSONValue]
    var fields: Set<String>
}

/// Reads a record's fields and remembers which ones an object used.
struct FieldReader {
    let record: SharedViewRecord
    private let fields: RecordFields
    private(set) var used: Set<String> = []

    init(_ record: SharedViewRecord) {
        self.record = record
        self.fields = RecordFields(record.fields)
    }

    /// The field's text turned into a Clever value; nil (and unused) when the view does not
    /// carry it or `convert` cannot read it.
    mutating func text(_ name: String, _ convert: (String) -> String? = { $0 }) -> JSONValue? {
        guard let value = fields.text(name).flatMap(convert) else { return nil }
        used.insert(name)
        return .string(value)
    }

    /// The field's list, each item turned into a Clever value; nil when it is empty.
    mutating func list(_ name: String) -> [String]? {
        let values = fields.list(name)
        guard !values.isEmpty else { return nil }
        used.insert(name)
        return values
    }
}

/// Turns records of a partner's view into Clever Data API objects, with only what the view
/// carries: a property whose fields the grant withholds is left out, never invented.
///
/// `last_modified` is the time the import that last changed the record was applied, left out
/// when the view does not know it. `created` is always left out: the view keeps when a record
/// last changed, not when it first appeared.
struct Mapping: Sendable {
    /// The district's id, for every object's `district`; nil when the view holds no district.
    var district: String?
    var appliedAt: @Sendable (Int64) -> String? = { _ in nil }

    func build(_ record: SharedViewRecord, as type: ObjectType, students: [String]? = nil) -> Built {
        var reader = FieldReader(record)
        var object: [String: JSONValue] = ["id": .string(record.id)]
        func put(_ name: String, _ value: JSONValue?) { if let value { object[name] = value } }
        if type != .district { put("district", district.map(JSONValue.string)) }
        switch type {
        case .district:
            put("name", reader.text("name"))
        case .school:
            put("name", reader.text("name"))
            put("school_number", reader.text("identifier"))
            object["sis_id"] = .string(record.id)
            put("last_modified", lastModified(record))
        case .user:
            put("email", reader.text("email"))
            var name: [String: JSONValue] = [:]
            name["first"] = reader.text("given_name")
            name["middle"] = reader.text("middle_name")
            // A Library grant carries the family name's initial only.
            name["last"] = reader.text("family_name") ?? reader.text("family_initial")
            if !name.isEmpty { object["name"] = .object(name) }
            put("last_modified", lastModified(record))
            object["roles"] = .object(roles(&reader))
        case .section:
            put("name", reader.text("title"))
            put("school", reader.text("school"))
            put("course", reader.text("course"))
            put("term_id", reader.text("terms"))
            put("subject", reader.text("subjects", Self.subject))
            put("period", reader.text("periods"))
            put("grade", reader.text("grades", Self.grade))
            put("section_number", reader.text("class_code"))
            if let teachers = reader.list("teachers") {
                object["teachers"] = .array(teachers.map(JSONValue.string))
                object["teacher"] = .string(teachers[0])
            }
            if let students { object["students"] = .array(students.map(JSONValue.string)) }
            put("last_modified", lastModified(record))
        case .term:
            put("name", reader.text("title"))
            put("start_date", reader.text("start_date"))
            put("end_date", reader.text("end_date"))
        case .course:
            put("name", reader.text("title"))
            put("number", reader.text("course_code"))
        }
        return Built(object: object, fields: reader.used)
    }

    /// `roles`: `student`, `teacher`, or `staff` for administrators and aides.
    private func roles(_ reader: inout FieldReader) -> [String: JSONValue] {
        var role: [String: JSONValue] = [:]
        func put(_ name: String, _ value: JSONValue?) { if let value { role[name] = value } }
        let kind = reader.record.kind
        let schools = reader.list("school")
        if kind != .administrator && kind != .aide { put("school", schools.map { .string($0[0]) }) }
        put("schools", schools.map { .array($0.map(JSONValue.string)) })
        put("credentials", reader.text("username").map { .object(["district_username": $0]) })
        switch kind {
        case .student:
            put("sis_id", reader.text("sis_id"))
            put("state_id", reader.text("state_id"))
            put("student_number", reader.text("student_number"))
            put("grade", reader.text("grade", Self.grade))
            put("dob", reader.text("birth_date", Self.dateOfBirth))
            put("gender", reader.text("sex", Self.gender))
            if let races = reader.list("race"), let race = Self.race(races) { role["race"] = .string(race) }
            put("hispanic_ethnicity", reader.text("hispanic_latino", Self.hispanicEthnicity))
            return ["student": .object(role)]
        case .teacher:
            put("sis_id", reader.text("sis_id"))
            put("state_id", reader.text("state_id"))
            put("teacher_number", reader.text("student_number"))
            return ["teacher": .object(role)]
        default:
            put("staff_id", reader.text("sis_id"))
            role["roles"] = .array([.string(kind.rawValue)])
            return ["staff": .object(role)]
        }
    }

    private func lastModified(_ record: SharedViewRecord) -> JSONValue? {
        appliedAt(record.version).map(JSONValue.string)
    }

    // MARK: Values

    /// Clever's grade for a OneRoster grade code.
    static func grade(_ code: String) -> String? {
        switch code {
        case "IT": return "InfantToddler"
        case "PR": return "Preschool"
        case "PK": return "PreKindergarten"
        case "TK": return "TransitionalKindergarten"
        case "KG": return "Kindergarten"
        case "PS": return "PostGraduate"
        case "UG": return "Ungraded"
        default:
            // `03` and `3` are one grade, as the district's grants read them.
            guard let number = Int(code), (1...13).contains(number) else { return "Other" }
            return String(number)
        }
    }

    /// `M/D/YYYY` from `YYYY-MM-DD`; nil for anything else.
    static func dateOfBirth(_ date: String) -> String? {
        let parts = date.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        return "\(month)/\(day)/\(year)"
    }

    static func gender(_ sex: String) -> String? {
        switch sex.lowercased() {
        case "male", "m": return "M"
        case "female", "f": return "F"
        case "other", "unspecified", "x": return "X"
        default: return nil
        }
    }

    static func hispanicEthnicity(_ value: String) -> String? {
        switch value.lowercased() {
        case "true": return "Y"
        case "false": return "N"
        default: return nil
        }
    }

    /// Clever's one race for OneRoster's race columns: several are "Two or More Races".
    static func race(_ columns: [String]) -> String? {
        let names: [String: String] = [
            "americanIndianOrAlaskaNative": "American Indian", "asian": "Asian", "blackOrAfricanAmerican": "Black or African American",
            "nativeHawaiianOrOtherPacificIslander": "Hawaiian or Other Pacific Islander", "white": "Caucasian",
            "demographicRaceTwoOrMoreRaces": "Two or More Races",
        ]
        let races = Set(columns.compactMap { names[$0] })
        guard let race = races.first else { return nil }
        return races.count > 1 ? "Two or More Races" : race
    }

    /// Clever's subject for a OneRoster subject, by the words in it; "other" when none fits.
    static func subject(_ name: String) -> String? {
        let words = Set(name.lowercased().split { !$0.isLetter }.map(String.init))
        func has(_ any: String...) -> Bool { any.contains { words.contains($0) } }
        if has("homeroom", "advisory") { return "homeroom/advisory" }
        if has("intervention", "interventions", "online") { return "interventions/online learning" }
        if has("english", "ela", "reading", "writing", "literature") || (words.contains("language") && words.contains("arts")) {
            return "english/language arts"
        }
        if has("math", "mathematics", "algebra", "geometry", "calculus", "statistics") { return "math" }
        if has("technology", "engineering", "computer", "computing", "robotics") { return "technology and engineering" }
        if has("science", "biology", "chemistry", "physics") { return "science" }
        if has("social", "history", "geography", "civics", "government", "economics") { return "social studies" }
        if has("pe", "health", "physical") { return "PE and health" }
        if has("art", "arts", "music", "band", "choir", "orchestra", "theater", "theatre", "drama", "dance") { return "arts and music" }
        if has("language", "languages", "spanish", "french", "german", "chinese", "latin", "japanese") { return "language" }
        return "other"
    }
}

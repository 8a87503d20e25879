import ConnectorKit

/// One OneRoster property of an entity, and the fields of the view it is built from.
///
/// A property is *served* to a partner when it has no source (`sourcedId`, `status`, a user's
/// role, which the endpoint already tells) or when the partner's view holds one of its sources.
/// Only served properties may be named in `fields=`, `filter=` or `sort=`. A required property
/// that is not served is still sent, empty (`""`, `[]`, a reference with an empty
/// `sourcedId`): never invented.
struct Property: Sendable, Equatable {
    let name: String
    /// View field names (the field catalogue's, for persons) the property reads.
    let sources: [String]
    /// The view fields a record discloses through this property: its sources, and for a user's
    /// role the `school` and `role` it is built from though the endpoint already tells the role.
    let discloses: [String]

    init(_ name: String, _ sources: [String] = [], discloses: [String]? = nil) {
        self.name = name
        self.sources = sources
        self.discloses = discloses ?? sources
    }

    /// Whether a partner whose view holds `viewFields` may see, select, filter and sort on it.
    func isServed(given viewFields: Set<String>) -> Bool {
        sources.isEmpty || sources.contains(where: viewFields.contains)
    }
}

/// Turns records of a partner's view into OneRoster objects, and says which view fields each
/// property came from (for the record of disclosures).
///
/// `dateLastModified` is the time the import that last changed the record was applied, so a
/// client that filters by the time of its last sync finds what changed since. When the view
/// does not know that time, it is the Unix epoch plus the record's roster version in seconds
/// (a record last changed by import 42 reads `1970-01-01T00:00:42Z`), which still orders
/// records as the imports that changed them.
struct Mapping: Sendable {
    let version: OneRosterVersion
    /// When a roster version was applied; nil when the view does not know it.
    var appliedAt: @Sendable (Int64) -> String? = { _ in nil }

    static let base = [Property("sourcedId"), Property("status"), Property("dateLastModified")]

    /// The race columns of OneRoster's demographics, each "true" when the view's `race` lists it.
    static let raceColumns = ["americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
                              "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces"]

    /// Every property this connector builds for `entity`, in this version.
    func properties(of entity: Entity) -> [Property] {
        switch entity {
        case .user:
            var list = Self.base + [
                Property("enabledUser"), Property("givenName", ["given_name"]), Property("familyName", ["family_name"]),
                Property("middleName", ["middle_name"]), Property("username", ["username"]), Property("email", ["email"]),
                Property("phone", ["phone"]), Property("sms", ["sms"]), Property("identifier", ["student_number"]),
                Property("userIds", ["state_id"]), Property("grades", ["grade"]), Property("metadata", ["family_initial"]),
            ]
            switch version {
            case .v1p1: list += [Property("role", discloses: ["role"]), Property("orgs", ["school"])]
            case .v1p2: list += [Property("roles", discloses: ["school", "role"]), Property("preferredFirstName", ["preferred_name"])]
            }
            return list
        case .demographics:
            return Self.base + [
                Property("birthDate", ["birth_date"]), Property("sex", ["sex"]),
                Property("hispanicOrLatinoEthnicity", ["hispanic_latino"]), Property("countryOfBirthCode", ["country_of_birth"]),
                Property("stateOfBirthAbbreviation", ["state_of_birth"]), Property("cityOfBirth", ["city_of_birth"]),
                Property("publicSchoolResidenceStatus", ["public_school_residence_status"]),
            ] + Self.raceColumns.map { Property($0, ["race"]) }
        case .class:
            return Self.base + [
                Property("title", ["title"]), Property("classCode", ["class_code"]), Property("classType", ["class_type"]),
                Property("location", ["location"]), Property("grades", ["grades"]), Property("subjects", ["subjects"]),
                Property("course", ["course"]), Property("school", ["school"]), Property("terms", ["terms"]),
                Property("periods", ["periods"]), Property("metadata", ["teacher_names"]),
            ]
        case .org:
            return Self.base + [Property("name", ["name"]), Property("type", ["type"]), Property("identifier", ["identifier"]),
                                Property("parent", ["parent"]), Property("children", ["parent"])]
        case .academicSession:
            return Self.base + [Property("title", ["title"]), Property("startDate", ["start_date"]), Property("endDate", ["end_date"]),
                                Property("type", ["type"]), Property("parent", ["parent"]), Property("children", ["parent"]),
                                Property("schoolYear", ["school_year"])]
        case .course:
            return Self.base + [Property("title", ["title"]), Property("courseCode", ["course_code"]),
                                Property("schoolYear", ["school_year"]), Property("grades", ["grades"]),
                                Property("subjects", ["subjects"]), Property("org", ["org"]), Property("subjectCodes", ["subject_codes"])]
        case .enrollment:
            return Self.base + [Property("user", ["user"]), Property("class", ["section"]), Property("school", ["school"]),
                                Property("role", ["role"]), Property("primary", ["primary"]), Property("beginDate", ["begin_date"]),
                                Property("endDate", ["end_date"])]
        }
    }

    /// The OneRoster object `record` becomes, with every property the view allows. `children`
    /// are the ids of the view's orgs or sessions whose parent `record` is.
    func object(_ record: SharedViewRecord, as entity: Entity, children: [String] = []) -> JSONObject {
        let fields = RecordFields(record.fields)
        var object = JSONObject()
        object["sourcedId"] = .string(record.id)
        object["status"] = .string("active")
        object["dateLastModified"] = .string(appliedAt(record.version) ?? Self.dateLastModified(record.version))
        func put(_ name: String, _ value: JSONValue?) { if let value { object[name] = value } }
        switch entity {
        case .user:
            object["enabledUser"] = .string("true")
            object["givenName"] = .string(fields.text("given_name") ?? "")
            object["familyName"] = .string(fields.text("family_name") ?? "")
            for (name, field) in [("middleName", "middle_name"), ("username", "username"), ("email", "email"), ("phone", "phone"),
                                  ("sms", "sms"), ("identifier", "student_number")] {
                put(name, fields.text(field).map(JSONValue.string))
            }
            if version == .v1p2 { put("preferredFirstName", fields.text("preferred_name").map(JSONValue.string)) }
            put("userIds", fields.text("state_id").map { .array([.object(["type": .string("state"), "identifier": .string($0)])]) })
            put("grades", fields.stringList("grade"))
            put("metadata", fields.text("family_initial").map { .object(["familyInitial": .string($0)]) })
            let schools = fields.list("school")
            switch version {
            case .v1p1:
                object["role"] = .string(record.kind.rawValue)
                object["orgs"] = .array(schools.map { reference(.org, $0) })
            case .v1p2:
                // An org is required in each role; with `school` withheld the org is left empty.
                let orgs = schools.isEmpty ? [""] : schools
                object["roles"] = .array(orgs.enumerated().map { index, school in
                    .object(["roleType": .string(index == 0 ? "primary" : "secondary"),
                             "role": .string(Self.role(record.kind)), "org": reference(.org, school)])
                })
            }
        case .demographics:
            for (name, field) in [("birthDate", "birth_date"), ("sex", "sex"), ("hispanicOrLatinoEthnicity", "hispanic_latino"),
                                  ("countryOfBirthCode", "country_of_birth"), ("stateOfBirthAbbreviation", "state_of_birth"),
                                  ("cityOfBirth", "city_of_birth"), ("publicSchoolResidenceStatus", "public_school_residence_status")] {
                put(name, fields.text(field).map(JSONValue.string))
            }
            if record.fields["race"] != nil {
                let races = Set(fields.list("race"))
                for column in Self.raceColumns { object[column] = .string(races.contains(column) ? "true" : "false") }
            }
        case .class:
            object["title"] = .string(fields.text("title") ?? "")
            for (name, field) in [("classCode", "class_code"), ("classType", "class_type"), ("location", "location")] {
                put(name, fields.text(field).map(JSONValue.string))
            }
            for (name, field) in [("grades", "grades"), ("subjects", "subjects"), ("periods", "periods")] {
                put(name, fields.stringList(field))
            }
            object["course"] = reference(.course, fields.text("course") ?? "")
            object["school"] = reference(.org, fields.text("school") ?? "")
            // At least one term is required; with `terms` withheld it is left empty, as a role's org.
            let terms = fields.list("terms")
            object["terms"] = .array((terms.isEmpty ? [""] : terms).map { reference(.academicSession, $0) })
            put("metadata", fields.stringList("teacher_names").map { .object(["teacherNames": $0]) })
        case .org:
            for name in ["name", "type", "identifier"] { object[name] = .string(fields.text(name) ?? "") }
            put("parent", fields.text("parent").map { reference(.org, $0) })
            if !children.isEmpty { object["children"] = .array(children.map { reference(.org, $0) }) }
        case .academicSession:
            for (name, field) in [("title", "title"), ("startDate", "start_date"), ("endDate", "end_date"), ("type", "type"),
                                  ("schoolYear", "school_year")] {
                object[name] = .string(fields.text(field) ?? "")
            }
            put("parent", fields.text("parent").map { reference(.academicSession, $0) })
            if !children.isEmpty { object["children"] = .array(children.map { reference(.academicSession, $0) }) }
        case .course:
            object["title"] = .string(fields.text("title") ?? "")
            object["courseCode"] = .string(fields.text("course_code") ?? "")
            put("schoolYear", fields.text("school_year").map { reference(.academicSession, $0) })
            put("org", fields.text("org").map { reference(.org, $0) })
            for (name, field) in [("grades", "grades"), ("subjects", "subjects"), ("subjectCodes", "subject_codes")] {
                put(name, fields.stringList(field))
            }
        case .enrollment:
            object["user"] = reference(.user, fields.text("user") ?? "")
            object["class"] = reference(.class, fields.text("section") ?? "")
            object["school"] = reference(.org, fields.text("school") ?? "")
            object["role"] = .string(fields.text("role") ?? "")
            for (name, field) in [("primary", "primary"), ("beginDate", "begin_date"), ("endDate", "end_date")] {
                put(name, fields.text(field).map(JSONValue.string))
            }
        }
        return object
    }

    /// The view fields `record` discloses through `properties`: for persons, catalogue names.
    func disclosedFields(_ record: SharedViewRecord, properties: [Property]) -> Set<String> {
        Set(properties.flatMap(\.discloses).filter { record.fields[$0] != nil })
    }

    /// The ids of `records` grouped by the view fields each discloses through `properties`.
    /// The candidate fields are worked out once; a record is then a bit per candidate it holds.
    func disclosures(of records: [SharedViewRecord], properties: [Property]) -> [(fields: Set<String>, ids: [String])] {
        let candidates = Array(Set(properties.flatMap(\.discloses))).sorted()
        guard candidates.count <= 64 else {
            return Dictionary(grouping: records) { disclosedFields($0, properties: properties) }.map { ($0.key, $0.value.map(\.id)) }
        }
        let bits = Dictionary(uniqueKeysWithValues: candidates.enumerated().map { ($0.element, UInt64(1) << UInt64($0.offset)) })
        var groups: [(mask: UInt64, ids: [String])] = []
        // A page's records mostly list the same names (one shared list): a record's mask is
        // worked out again only when its names differ from the one before it.
        var last: (names: [String], group: Int)?
        for record in records {
            let names = record.fields.names
            let group: Int
            if let last, last.names == names {
                group = last.group
            } else {
                // A record holds fewer fields than there are candidates: its own names are looked up.
                let mask = names.reduce(UInt64(0)) { $0 | (bits[$1] ?? 0) }
                group = groups.firstIndex { $0.mask == mask } ?? {
                    groups.append((mask, []))
                    return groups.count - 1
                }()
                last = (names, group)
            }
            groups[group].ids.append(record.id)
        }
        return groups.map { mask, ids in
            (Set(candidates.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)), ids)
        }
    }

    /// A reference `{href, sourcedId, type}` to an object of this version's endpoints.
    func reference(_ entity: Entity, _ id: String) -> JSONValue {
        let collection = entity == .academicSession ? "academicSessions" : entity.plural
        return .object(["href": .string(id.isEmpty ? "" : "\(version.basePath)/\(collection)/\(id)"),
                        "sourcedId": .string(id), "type": .string(entity.rawValue)])
    }

    /// OneRoster 1.2's role for a kind of person: an administrator of the roster is a school's.
    static func role(_ kind: SharedRecordKind) -> String {
        kind == .administrator ? "siteAdministrator" : kind.rawValue
    }

    /// The Unix epoch plus `version` seconds, as an ISO 8601 UTC date-time.
    static func dateLastModified(_ version: Int64) -> String {
        let seconds = max(version, 0)
        let days = seconds / 86_400, rest = seconds % 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))Z"
    }
}

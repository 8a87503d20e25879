/// A value in a shared record: one text, or a list (grades, sections, race, guardians).
public enum SharedValue: Sendable, Equatable, Codable {
    case text(String)
    case list([String])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) { self = .text(text) } else { self = .list(try container.decode([String].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .list(let list): try container.encode(list)
        }
    }
}

/// One record exactly as a partner receives it: its id (pseudonymous unless the grant names
/// `sis_id`), its kind, and only the fields the partner may receive.
public struct SharedRecord: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case student, teacher, administrator, aide, section
        case org, academicSession, course, enrollment

        /// Persons, as opposed to the records about the school's organization.
        public var isPerson: Bool {
            switch self {
            case .student, .teacher, .administrator, .aide: return true
            case .section, .org, .academicSession, .course, .enrollment: return false
            }
        }

        /// The district's own records (orgs, academic sessions, courses), which keep their ids.
        public var isOrganization: Bool {
            switch self {
            case .org, .academicSession, .course: return true
            case .student, .teacher, .administrator, .aide, .section, .enrollment: return false
            }
        }
    }

    public var id: String
    public var kind: Kind
    /// The fields as a list: `fieldNames[i]` holds `fieldValues[i]`, each name once. A view
    /// builds a page's records with the same names in the same order, and a connector receives
    /// them so, without a table per record.
    public private(set) var fieldNames: [String]
    public private(set) var fieldValues: [SharedValue]
    /// The roster version (import id) that last changed the record.
    public var version: Int64

    /// Field name → value. For persons the names are the field catalogue's; for the other kinds
    /// see `SharedView.record(for:)`.
    public var fields: [String: SharedValue] {
        Dictionary(zip(fieldNames, fieldValues), uniquingKeysWith: { _, last in last })
    }

    public init(id: String, kind: Kind, fields: [String: SharedValue], version: Int64 = 0) {
        let names = Array(fields.keys)
        self.init(id: id, kind: kind, fieldNames: names, fieldValues: names.map { fields[$0]! }, version: version)
    }

    public init(id: String, kind: Kind, fieldNames: [String], fieldValues: [SharedValue], version: Int64 = 0) {
        precondition(fieldNames.count == fieldValues.count, "a record needs one value per field name")
        self.id = id
        self.kind = kind
        self.fieldNames = fieldNames
        self.fieldValues = fieldValues
        self.version = version
    }

    /// The value of field `name`, if the record holds it.
    public func field(_ name: String) -> SharedValue? {
        fieldNames.firstIndex(of: name).map { fieldValues[$0] }
    }

    /// Sets field `name` to `value`, or removes it when `value` is nil.
    public mutating func setField(_ name: String, _ value: SharedValue?) {
        switch (fieldNames.firstIndex(of: name), value) {
        case (let index?, let value?): fieldValues[index] = value
        case (let index?, nil):
            fieldNames.remove(at: index)
            fieldValues.remove(at: index)
        case (nil, let value?):
            fieldNames.append(name)
            fieldValues.append(value)
        case (nil, nil): break
        }
    }

    /// Whether `other` holds the same fields with the same values, whatever their order.
    public func sameFields(as other: SharedRecord) -> Bool {
        guard fieldNames.count == other.fieldNames.count else { return false }
        if fieldNames == other.fieldNames { return fieldValues == other.fieldValues }
        return zip(fieldNames, fieldValues).allSatisfy { other.field($0) == $1 }
    }

    /// The same id, kind, version and fields, whatever their order.
    public static func == (lhs: SharedRecord, rhs: SharedRecord) -> Bool {
        lhs.id == rhs.id && lhs.kind == rhs.kind && lhs.version == rhs.version && lhs.sameFields(as: rhs)
    }

    private enum CodingKeys: String, CodingKey { case id, kind, fields, version }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try container.decode(String.self, forKey: .id), kind: try container.decode(Kind.self, forKey: .kind),
                  fields: try container.decode([String: SharedValue].self, forKey: .fields),
                  version: try container.decode(Int64.self, forKey: .version))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(fields, forKey: .fields)
        try container.encode(version, forKey: .version)
    }
}

/// Where a view reads the roster from: the store in the daemon, arrays in tests. Both read in
/// sourcedId order, after a cursor.
public protocol RosterReading {
    /// Persons with one of `roles`, in sourcedId order after `after`; with `sections`, only
    /// members of those sections; with `modifiedSince`, only those changed by a later import.
    func people(roles: [String], sections: Set<String>?, after: String?, limit: Int,
                modifiedSince: Int64?) throws(StewardError) -> [RosterPerson]
    /// Sections in sourcedId order after `after`; with `ids`, only those.
    func sections(ids: Set<String>?, after: String?, limit: Int, modifiedSince: Int64?) throws(StewardError) -> [RosterSection]
    /// Rows of `entity` (orgs, academicSessions, courses or enrollments) in sourcedId order
    /// after `after`; for enrollments with `sections`, only those of these sections.
    func rows(_ entity: RosterEntity, sections: Set<String>?, after: String?, limit: Int,
              modifiedSince: Int64?) throws(StewardError) -> [RosterRow]
    /// The rows of `entity` with these sourcedIds.
    func rows(_ entity: RosterEntity, ids: [String]) throws(StewardError) -> [RosterRow]
    /// The persons with these sourcedIds, with their sections; with `scopeOnly`, without the
    /// demographics and guardians that decide no scope.
    func people(ids: [String], scopeOnly: Bool) throws(StewardError) -> [RosterPerson]
    /// The enrollments in one of `sections` or of one of `persons` (sourcedIds), in sourcedId order.
    func enrollmentRows(sections: Set<String>, persons: Set<String>) throws(StewardError) -> [RosterRow]
    /// How many persons have `role`, when the reader can tell without reading them; nil when not.
    func peopleCount(role: String) throws(StewardError) -> Int?
}

extension RosterReading {
    public func peopleCount(role: String) throws(StewardError) -> Int? { nil }
}

/// A partner's projection of the roster: only persons in scope, only granted fields, ids
/// pseudonymous per partner. Built from the partner's `SharingPolicy`; a connector is handed
/// this and nothing else, so it can never see more than the partner may receive.
public struct SharedView: Sendable {
    public let policy: SharingPolicy
    private let pseudonym: @Sendable (String) -> String
    /// The pseudonym of a person's own id: computed once per record, so not worth a memo.
    private let personPseudonym: @Sendable (String) -> String
    /// The person fields the policy grants, worked out once per view rather than once per field
    /// of every record (fewer in a view `narrowed` to what a connector uses).
    private var personFields: [PersonField] {
        didSet { personFieldNames = personFields.map(\.rawValue) }
    }
    /// `personFields`' names, one array every record of the view shares.
    private var personFieldNames: [String]
    /// Whether ids are the district's own: a district application granted `sis_id`.
    private let realIds: Bool

    /// `pseudonym` maps a sourcedId to the partner's pairwise id (a keyed hash in the daemon);
    /// `personPseudonym`, when given, is the same map for persons' own ids, which each page
    /// names once (the daemon remembers `pseudonym`'s answers for the sections a page names
    /// again and again, and computes these directly).
    public init(policy: SharingPolicy, pseudonym: @escaping @Sendable (String) -> String,
                personPseudonym: (@Sendable (String) -> String)? = nil) {
        self.policy = policy
        self.pseudonym = pseudonym
        self.personPseudonym = personPseudonym ?? pseudonym
        let granted = Set(policy.fields.map(\.name))
        personFields = PersonField.allCases.filter { granted.contains($0.rawValue) }
        personFieldNames = personFields.map(\.rawValue)
        realIds = policy.kind == .district && granted.contains("sis_id")
    }

    /// This view with its persons' records carrying only those of its fields named in `names`:
    /// what a connector will use. Its scope, the records it holds and their ids are this view's.
    public func narrowed(toFields names: Set<String>) -> SharedView {
        var narrowed = self
        narrowed.personFields = personFields.filter { names.contains($0.rawValue) }
        return narrowed
    }

    /// The granted fields named in `names`, for a reader of a view narrowed to them.
    public func grantedFields(among names: Set<String>) -> Set<Field> {
        policy.fields.filter { names.contains($0.name) }
    }

    /// Real ids only when the grant names `sis_id`; Library applications never get them.
    private func id(_ sourcedId: String) -> String {
        realIds ? sourcedId : pseudonym(sourcedId)
    }

    /// The fields a person's record can carry, by their catalogue names (see
    /// ``FieldCatalogue``), in the order `record(for:)` builds them.
    enum PersonField: String, CaseIterable {
        case givenName = "given_name", familyName = "family_name", familyInitial = "family_initial", middleName = "middle_name"
        case preferredName = "preferred_name", grade, school, sections, role, email, phone, sms, username
        case sisId = "sis_id", stateId = "state_id", studentNumber = "student_number"
        case birthDate = "birth_date", sex, race, hispanicLatino = "hispanic_latino", countryOfBirth = "country_of_birth"
        case stateOfBirth = "state_of_birth", cityOfBirth = "city_of_birth"
        case publicSchoolResidenceStatus = "public_school_residence_status"
        case guardianNames = "guardian_names", guardianContacts = "guardian_contacts"

        /// The demographics column a demographic field is read from as is.
        var demographicsColumn: String? {
            switch self {
            case .birthDate: return "birthDate"
            case .sex: return "sex"
            case .hispanicLatino: return "hispanicOrLatinoEthnicity"
            case .countryOfBirth: return "countryOfBirthCode"
            case .stateOfBirth: return "stateOfBirthAbbreviation"
            case .cityOfBirth: return "cityOfBirth"
            case .publicSchoolResidenceStatus: return "publicSchoolResidenceStatus"
            default: return nil
            }
        }
    }

    /// The record `person` becomes in this view, or nil when they are outside its scope. It
    /// carries only granted fields, and of those only the ones with a value.
    public func record(for person: RosterPerson) -> SharedRecord? {
        guard policy.includes(person), let kind = SharedRecord.Kind(rawValue: person.role) else { return nil }
        // The names are the view's own list (one shared array) until a field has no value.
        var names: [String]?, values: [SharedValue] = []
        values.reserveCapacity(personFields.count)
        for field in personFields {
            let value: SharedValue
            switch field {
            case .givenName: value = .text(person.givenName)
            case .familyName: value = .text(person.familyName)
            case .familyInitial: value = .text(person.familyName.first.map { String($0).uppercased() } ?? "")
            case .middleName: value = .text(person.middleName)
            case .preferredName: value = .text(person.preferredGivenName)
            case .grade: value = .list(person.grades)
            case .school: value = .list(policy.schools.map { scope in person.schools.filter(scope.contains) } ?? person.schools)
            case .sections:
                value = .list(person.sections.filter { policy.includesGrantedSection($0.sourcedId, school: $0.school, grades: $0.grades) }
                    .map { id($0.sourcedId) })
            case .role: value = .text(person.role)
            case .email: value = .text(person.email)
            case .phone: value = .text(person.phone)
            case .sms: value = .text(person.sms)
            case .username: value = .text(person.username)
            case .sisId: value = .text(person.sourcedId)
            case .stateId: value = .text(person.stateId)
            case .studentNumber: value = .text(person.identifier)
            case .race: value = .list(Self.raceColumns.filter { person.demographics?[$0]?.lowercased() == "true" })
            case .birthDate, .sex, .hispanicLatino, .countryOfBirth, .stateOfBirth, .cityOfBirth, .publicSchoolResidenceStatus:
                value = .text(field.demographicsColumn.flatMap { person.demographics?[$0] } ?? "")
            case .guardianNames: value = .list(person.guardians.map { "\($0.givenName) \($0.familyName)" })
            case .guardianContacts:
                value = .list(person.guardians.flatMap { [$0.email, $0.phone, $0.sms].filter { !$0.isEmpty } }
                    .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } })
            }
            switch value {
            case .text(let text) where text.isEmpty: break
            case .list(let list) where list.isEmpty: break
            default:
                names?.append(field.rawValue)
                values.append(value)
                continue
            }
            if names == nil { names = Array(personFieldNames.prefix(values.count)) }
        }
        return SharedRecord(id: realIds ? person.sourcedId : personPseudonym(person.sourcedId), kind: kind,
                            fieldNames: names ?? personFieldNames, fieldValues: values, version: person.modifiedImport)
    }

    /// The record `section` becomes in this view, or nil when the view does not hold it.
    public func record(for section: RosterSection) -> SharedRecord? {
        guard policy.includes(section) else { return nil }
        var fields: [String: SharedValue] = ["title": .text(section.title)]
        if policy.kind == .library {
            let names = section.teachers.map { "\($0.givenName) \($0.familyName)" }
            if !names.isEmpty { fields["teacher_names"] = .list(names) }
        } else {
            fields["school"] = .text(section.school)
            if !section.grades.isEmpty { fields["grades"] = .list(section.grades) }
            // Only teachers the view holds: of a granted school, and (under a grade-limited
            // grant) of a section with a granted grade, which this one is when it has grades.
            let teachers = section.teachers.filter { teacher in
                policy.roles.contains("teacher")
                    && policy.schools.map { !$0.isDisjoint(with: teacher.schools) } ?? true
                    && (policy.grades == nil || !section.grades.isEmpty)
            }
            if !teachers.isEmpty { fields["teachers"] = .list(teachers.map { id($0.sourcedId) }) }
            let row = RosterRow(sourcedId: section.sourcedId, values: section.values)
            Self.put(&fields, from: row, [("classCode", "class_code"), ("classType", "class_type"), ("location", "location"),
                                          ("courseSourcedId", "course")])
            Self.putLists(&fields, from: row, [("termSourcedIds", "terms"), ("subjects", "subjects"), ("periods", "periods")])
        }
        return SharedRecord(id: id(section.sourcedId), kind: .section, fields: fields, version: section.modifiedImport)
    }

    /// The record an org, academic session or course becomes in this view, or nil when the
    /// view does not hold it. These describe the district, not a person: their ids are the
    /// district's own, and a Library application receives none of them.
    public func record(for row: RosterRow, of entity: RosterEntity) -> SharedRecord? {
        guard policy.isSharing, policy.kind == .district else { return nil }
        var fields: [String: SharedValue] = [:]
        let kind: SharedRecord.Kind
        switch entity {
        case .orgs:
            guard row["type"] != "school" || policy.schools?.contains(row.sourcedId) != false else { return nil }
            kind = .org
            Self.put(&fields, from: row, [("name", "name"), ("type", "type"), ("identifier", "identifier"), ("parentSourcedId", "parent")])
        case .academicSessions:
            kind = .academicSession
            Self.put(&fields, from: row, [("title", "title"), ("type", "type"), ("startDate", "start_date"), ("endDate", "end_date"),
                                          ("parentSourcedId", "parent"), ("schoolYear", "school_year")])
        case .courses:
            // A course of a school outside the grant is not in the view; a district's course is.
            if let schools = policy.schools, row["orgType"] == "school", !schools.contains(row["orgSourcedId"]) { return nil }
            if let grades = policy.grades, !row.list("grades").isEmpty,
               grades.isDisjoint(with: row.list("grades").map(SharingPolicy.normalizedGrade)) { return nil }
            kind = .course
            Self.put(&fields, from: row, [("title", "title"), ("courseCode", "course_code"), ("orgSourcedId", "org"),
                                          ("schoolYearSourcedId", "school_year")])
            Self.putLists(&fields, from: row, [("grades", "grades"), ("subjects", "subjects"), ("subjectCodes", "subject_codes")])
        default:
            return nil
        }
        return SharedRecord(id: row.sourcedId, kind: kind, fields: fields, version: row.modifiedImport)
    }

    /// The record an enrollment becomes in this view: only when both its person and its section
    /// are in the view. `person` is the enrolled person as the roster holds them.
    public func record(forEnrollment row: RosterRow, person: RosterPerson?, section: RosterPerson.SectionRef?) -> SharedRecord? {
        guard let person, let section, policy.includes(person),
              policy.includesSection(section.sourcedId, school: section.school, grades: section.grades) else { return nil }
        var fields: [String: SharedValue] = ["user": .text(id(person.sourcedId)), "section": .text(id(section.sourcedId)),
                                             "role": .text(row["role"])]
        if policy.kind == .district {
            Self.put(&fields, from: row, [("schoolSourcedId", "school"), ("primary", "primary"), ("beginDate", "begin_date"),
                                          ("endDate", "end_date")])
        }
        return SharedRecord(id: id(row.sourcedId), kind: .enrollment, fields: fields, version: row.modifiedImport)
    }

    private static func put(_ fields: inout [String: SharedValue], from row: RosterRow, _ columns: [(String, String)]) {
        for (column, name) in columns where !row[column].isEmpty { fields[name] = .text(row[column]) }
    }

    private static func putLists(_ fields: inout [String: SharedValue], from row: RosterRow, _ columns: [(String, String)]) {
        for (column, name) in columns where !row.list(column).isEmpty { fields[name] = .list(row.list(column)) }
    }

    /// The OneRoster demographics columns that make up `race`.
    static let raceColumns = ["americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
                              "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces"]

    /// A page of a view, and where the next one starts (nil at the end). The cursor is a
    /// sourcedId: it never leaves the daemon unsealed.
    public struct Page: Sendable, Equatable {
        public var records: [SharedRecord]
        /// The sourcedId behind each record, in the same order: for the daemon's record of
        /// disclosures; never handed to a connector.
        public var sources: [String] = []
        public var next: String?

        public init(records: [SharedRecord], sources: [String] = [], next: String?) {
            self.records = records
            self.sources = sources
            self.next = next
        }
    }

    /// Up to `limit` records of `kind`, in the roster's order, after `cursor`; with
    /// `changedSince`, only records changed by a later import.
    public func page(_ kind: SharedRecord.Kind, from roster: some RosterReading, after cursor: String?, limit: Int,
                     changedSince: Int64? = nil) throws(StewardError) -> Page {
        guard policy.isSharing, limit > 0 else { return Page(records: [], next: nil) }
        // A kind the view holds nothing of is not read at all (sections and enrollments without
        // `sections` granted; the district's records for a Library application).
        guard kind.isPerson || !fieldNames(of: kind).isEmpty else { return Page(records: [], next: nil) }
        // Enough rows per read that a narrow scope does not cost a query per record, few enough
        // that a small page does not load hundreds of persons it will not return.
        let batch = min(max(limit, 64), 5000)
        switch kind {
        case .section:
            return try collect(after: cursor, limit: limit, id: \.sourcedId, project: { $0.map(record(for:)) }) { position throws(StewardError) in
                try roster.sections(ids: policy.adoptedSections, after: position, limit: batch, modifiedSince: changedSince)
            }
        case .org, .academicSession, .course:
            let entity: RosterEntity = kind == .org ? .orgs : kind == .course ? .courses : .academicSessions
            return try collect(after: cursor, limit: limit, id: \.sourcedId, project: { $0.map { record(for: $0, of: entity) } }) {
                position throws(StewardError) in
                try roster.rows(entity, sections: nil, after: position, limit: batch, modifiedSince: changedSince)
            }
        case .enrollment:
            return try collect(after: cursor, limit: limit, id: \.sourcedId, project: { rows throws(StewardError) in
                // The batch's persons, read once, decide which enrollments the view holds.
                let persons = try roster.people(ids: Array(Set(rows.map { $0["userSourcedId"] })), scopeOnly: true)
                let byId = Dictionary(persons.map { ($0.sourcedId, $0) }, uniquingKeysWith: { first, _ in first })
                return rows.map { row in
                    let person = byId[row["userSourcedId"]]
                    let section = person?.sections.first { $0.sourcedId == row["classSourcedId"] }
                    return record(forEnrollment: row, person: person, section: section)
                }
            }) { position throws(StewardError) in
                try roster.rows(.enrollments, sections: policy.adoptedSections, after: position, limit: batch, modifiedSince: changedSince)
            }
        case .student, .teacher, .administrator, .aide:
            guard policy.roles.contains(kind.rawValue) else { return Page(records: [], next: nil) }
            return try collect(after: cursor, limit: limit, id: \.sourcedId, project: { $0.map(record(for:)) }) { position throws(StewardError) in
                try roster.people(roles: [kind.rawValue], sections: policy.adoptedSections, after: position, limit: batch,
                                  modifiedSince: changedSince)
            }
        }
    }

    /// The field names a record of `kind` may carry in this view.
    public func fieldNames(of kind: SharedRecord.Kind) -> Set<String> {
        guard policy.isSharing else { return [] }
        let library = policy.kind == .library
        let sections = policy.grants("sections")
        switch kind {
        case .student, .teacher, .administrator, .aide:
            return policy.roles.contains(kind.rawValue) ? Set(policy.fields.map(\.name)) : []
        case .section:
            guard sections else { return [] }
            if library { return ["title", "teacher_names"] }
            return ["title", "school", "grades", "class_code", "class_type", "location", "course", "terms", "subjects", "periods"]
                .reduce(into: Set<String>()) { $0.insert($1) }.union(policy.roles.contains("teacher") ? ["teachers"] : [])
        case .enrollment:
            guard sections else { return [] }
            return library ? ["user", "section", "role"] : ["user", "section", "role", "school", "primary", "begin_date", "end_date"]
        case .org: return library ? [] : ["name", "type", "identifier", "parent"]
        case .academicSession: return library ? [] : ["title", "type", "start_date", "end_date", "parent", "school_year"]
        case .course: return library ? [] : ["title", "course_code", "org", "school_year", "grades", "subjects", "subject_codes"]
        }
    }

    /// The record of `kind` behind `sourcedId`, or nil when the view does not hold it.
    public func record(_ kind: SharedRecord.Kind, sourcedId: String, from roster: some RosterReading) throws(StewardError) -> SharedRecord? {
        guard policy.isSharing else { return nil }
        switch kind {
        case .section:
            return try roster.sections(ids: [sourcedId], after: nil, limit: 1, modifiedSince: nil).first.flatMap(record(for:))
        case .org, .academicSession, .course:
            let entity: RosterEntity = kind == .org ? .orgs : kind == .course ? .courses : .academicSessions
            return try roster.rows(entity, ids: [sourcedId]).first.flatMap { record(for: $0, of: entity) }
        case .enrollment:
            return try enrollmentRecords(try roster.rows(.enrollments, ids: [sourcedId]), from: roster).first?.record
        case .student, .teacher, .administrator, .aide:
            return try roster.people(ids: [sourcedId], scopeOnly: false).first.flatMap(record(for:)).flatMap { $0.kind == kind ? $0 : nil }
        }
    }

    /// Reads rows batch by batch after `cursor` and projects each, until `limit` records or the end.
    private func collect<Row>(after cursor: String?, limit: Int, id: (Row) -> String,
                              project: ([Row]) throws(StewardError) -> [SharedRecord?],
                              fetch: (String?) throws(StewardError) -> [Row]) throws(StewardError) -> Page {
        var page = Page(records: [], next: nil)
        var position = cursor
        while true {
            let rows = try fetch(position)
            let projections = try project(rows)
            // By index: a row (a person holds a dozen strings and lists) is not copied out.
            for index in rows.indices {
                let rowId = id(rows[index])
                position = rowId
                if let record = projections[index] {
                    page.records.append(record)
                    page.sources.append(rowId)
                }
                if page.records.count == limit {
                    page.next = position
                    return page
                }
            }
            if rows.isEmpty { return page }
        }
    }

    /// How many records of `kind` the view holds. Persons and sections are only tested against
    /// the scope (no record is built, no id computed); the other kinds are read page by page.
    public func count(_ kind: SharedRecord.Kind, from roster: some RosterReading) throws(StewardError) -> Int {
        guard policy.isSharing else { return 0 }
        switch kind {
        case .student, .teacher, .administrator, .aide:
            guard policy.roles.contains(kind.rawValue) else { return 0 }
            // A grant of every school and grade, without adopted sections, holds every person of
            // the role: counted by the store's index, not person by person.
            if policy.schools == nil, policy.grades == nil, policy.adoptedSections == nil,
               let count = try roster.peopleCount(role: kind.rawValue) {
                return count
            }
            var count = 0
            var after: String?
            while true {
                let persons = try roster.people(roles: [kind.rawValue], sections: policy.adoptedSections, after: after, limit: 5000,
                                                modifiedSince: nil)
                guard let last = persons.last else { return count }
                count += persons.reduce(0) { $0 + ($1.role == kind.rawValue && policy.includes($1) ? 1 : 0) }
                after = last.sourcedId
            }
        case .section:
            guard !fieldNames(of: .section).isEmpty else { return 0 }
            var count = 0
            var after: String?
            while true {
                let sections = try roster.sections(ids: policy.adoptedSections, after: after, limit: 5000, modifiedSince: nil)
                guard let last = sections.last else { return count }
                count += sections.reduce(0) { $0 + (policy.includes($1) ? 1 : 0) }
                after = last.sourcedId
            }
        default:
            break
        }
        var count = 0
        var cursor: String?
        repeat {
            let page = try page(kind, from: roster, after: cursor, limit: 5000)
            count += page.records.count
            cursor = page.next
        } while cursor != nil
        return count
    }
}

/// Lookups a view needs beyond paging in the roster's order: records by sourcedId in batches
/// (for protocols that page by the partner's own ids), a page of sections' enrollments, and
/// the record a person, section or row was before an import changed it (for change feeds).
extension SharedView {
    /// The records of `kind` behind `sourcedIds` that the view holds, each with its sourcedId,
    /// in the order of `sourcedIds`; a sourcedId the view does not hold is skipped.
    public func records(_ kind: SharedRecord.Kind, sourcedIds: [String],
                        from roster: some RosterReading) throws(StewardError) -> [(record: SharedRecord, source: String)] {
        guard policy.isSharing, !sourcedIds.isEmpty else { return [] }
        var found: [String: SharedRecord] = [:]
        switch kind {
        case .section:
            for section in try roster.sections(ids: Set(sourcedIds), after: nil, limit: sourcedIds.count, modifiedSince: nil) {
                found[section.sourcedId] = record(for: section)
            }
        case .org, .academicSession, .course:
            let entity: RosterEntity = kind == .org ? .orgs : kind == .course ? .courses : .academicSessions
            for row in try roster.rows(entity, ids: sourcedIds) { found[row.sourcedId] = record(for: row, of: entity) }
        case .enrollment:
            for (record, source) in try enrollmentRecords(try roster.rows(.enrollments, ids: sourcedIds), from: roster) {
                found[source] = record
            }
        case .student, .teacher, .administrator, .aide:
            for person in try roster.people(ids: sourcedIds, scopeOnly: false) {
                if let shared = record(for: person), shared.kind == kind { found[person.sourcedId] = shared }
            }
        }
        return sourcedIds.compactMap { source in found[source].map { ($0, source) } }
    }

    /// The enrollments the view holds in one of `sections` or of one of `persons` (sourcedIds):
    /// a section's members or a person's classes, without reading every enrollment of the view.
    public func enrollments(ofSections sections: Set<String>, ofPersons persons: Set<String>,
                            from roster: some RosterReading) throws(StewardError) -> [(record: SharedRecord, source: String)] {
        guard policy.isSharing, !fieldNames(of: .enrollment).isEmpty, !sections.isEmpty || !persons.isEmpty else { return [] }
        return try enrollmentRecords(try roster.enrollmentRows(sections: sections, persons: persons), from: roster)
    }

    /// The records `rows` (enrollments) become in this view, each with its sourcedId: only those
    /// whose person and section the view holds. Their persons are read once, for scope only.
    func enrollmentRecords(_ rows: [RosterRow], from roster: some RosterReading) throws(StewardError) -> [(record: SharedRecord, source: String)] {
        let persons = try roster.people(ids: Array(Set(rows.map { $0["userSourcedId"] })), scopeOnly: true)
        let byId = Dictionary(persons.map { ($0.sourcedId, $0) }, uniquingKeysWith: { first, _ in first })
        return rows.compactMap { row in
            let person = byId[row["userSourcedId"]]
            return record(forEnrollment: row, person: person, section: person?.sections.first { $0.sourcedId == row["classSourcedId"] })
                .map { ($0, row.sourcedId) }
        }
    }

    /// Every record of `kind` the view holds, as (view id, sourcedId, its `school` field's
    /// values: a person's schools, a section's school; none when the view withholds it), in the
    /// roster's order. Read with `roster`, which may be a reader that skips what decides no scope.
    public func members(_ kind: SharedRecord.Kind, from roster: some RosterReading) throws(StewardError)
        -> [(id: String, source: String, schools: [String])] {
        var members: [(id: String, source: String, schools: [String])] = []
        var cursor: String?
        repeat {
            let page = try page(kind, from: roster, after: cursor, limit: 5000)
            for (record, source) in zip(page.records, page.sources) {
                let schools: [String]
                switch record.field("school") {
                case .text(let school)?: schools = [school]
                case .list(let list)?: schools = list
                case nil: schools = []
                }
                members.append((record.id, source, schools))
            }
            cursor = page.next
        } while cursor != nil
        return members
    }
}

/// The roster as it was before an import changed a record: the record's previous columns laid
/// over what the roster holds now. Enrollments and guardians are taken as they are now.
extension RosterPerson {
    /// `self` with its `users.csv` columns from `previous` (column name → value; columns absent
    /// from `previous` keep their current values).
    public func overlaying(users previous: [String: String]) -> RosterPerson {
        var person = self
        func take(_ column: String, _ apply: (String) -> Void) { if let value = previous[column] { apply(value) } }
        take("role") { person.role = $0 }
        take("orgSourcedIds") { person.schools = ValueRules.items($0) }
        take("grades") { person.grades = ValueRules.items($0) }
        take("givenName") { person.givenName = $0 }
        take("familyName") { person.familyName = $0 }
        take("middleName") { person.middleName = $0 }
        take("preferredGivenName") { person.preferredGivenName = $0 }
        take("email") { person.email = $0 }
        take("phone") { person.phone = $0 }
        take("sms") { person.sms = $0 }
        take("username") { person.username = $0 }
        take("identifier") { person.identifier = $0 }
        take("userIds") { person.userIds = $0 }
        return person
    }

    /// `self` with its demographics row from `previous`; an empty `previous` means the person
    /// had no demographics row.
    public func overlaying(demographics previous: [String: String]) -> RosterPerson {
        var person = self
        person.demographics = previous.isEmpty ? nil : (person.demographics ?? [:]).merging(previous) { _, old in old }
        return person
    }

    /// A person known only from a removed `users.csv` row.
    public static func removed(sourcedId: String, users previous: [String: String]) -> RosterPerson {
        RosterPerson(sourcedId: sourcedId, role: previous["role"] ?? "").overlaying(users: previous)
    }
}

extension RosterSection {
    /// `self` with its `classes.csv` columns from `previous`.
    public func overlaying(classes previous: [String: String]) -> RosterSection {
        var section = self
        if let title = previous["title"] { section.title = title }
        if let school = previous["schoolSourcedId"] { section.school = school }
        if let grades = previous["grades"] { section.grades = ValueRules.items(grades) }
        for (column, value) in previous where section.values[column] != nil { section.values[column] = value }
        return section
    }

    /// A section known only from a removed `classes.csv` row.
    public static func removed(sourcedId: String, classes previous: [String: String]) -> RosterSection {
        var section = RosterSection(sourcedId: sourcedId, title: "", school: "")
        for column in previous.keys { section.values[column] = "" }
        return section.overlaying(classes: previous)
    }
}

extension RosterRow {
    /// `self` with the columns in `previous`.
    public func overlaying(_ previous: [String: String]) -> RosterRow {
        var row = self
        row.values.merge(previous) { _, old in old }
        return row
    }
}

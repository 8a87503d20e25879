import Foundation
import StewardCore

/// Reads the roster tables as `RosterPerson` and `RosterSection` values, for views: page by page
/// in sourcedId order, with each person's enrollments and, when asked, demographics and
/// guardians. Confined to the connection it was made on (a store read).
public final class RosterViewReader: RosterReading {
    private let db: Database
    private let withDemographics: Bool
    private let withGuardians: Bool
    private let withSections: Bool
    /// Whether persons carry their version (see `personVersion`): records do; counts and
    /// members, which are ids only, need not.
    private let withVersions: Bool
    /// The person columns this reader decodes (see `neededColumns`).
    private let neededColumns: [Bool]
    private var statements: [String: Statement] = [:]

    /// Reads demographics and guardians only when a view can use them, so a directory-only view
    /// does not read protected data at all; of the users row, it decodes the columns that decide
    /// scope and those the view's fields come from.
    public init(db: Database, fields: Set<Field>) {
        self.db = db
        withDemographics = fields.contains { $0.tier == .demographic }
        withGuardians = fields.contains { $0.tier == .guardian }
        withSections = true
        withVersions = true
        neededColumns = Self.neededColumns(for: fields)
    }

    /// For reading a page of `policy`'s view whose records carry only `fields` (a view narrowed
    /// to what a connector uses): a person's classes are read only when `sections` is among
    /// them or the scope depends on them; their enrollments still date them.
    public init(db: Database, fields: Set<Field>, scopeOf policy: SharingPolicy) {
        self.db = db
        withDemographics = fields.contains { $0.tier == .demographic }
        withGuardians = fields.contains { $0.tier == .guardian }
        withSections = fields.contains { $0.name == "sections" } || Self.scopeReadsSections(policy)
        withVersions = true
        neededColumns = Self.neededColumns(for: fields)
    }

    /// Whether `policy`'s scope depends on persons' classes: adopted sections, or a grade-limited
    /// grant's teachers.
    static func scopeReadsSections(_ policy: SharingPolicy) -> Bool {
        policy.adoptedSections != nil || policy.grades != nil
    }

    /// For counting a view: reads no demographics or guardians, and a person's enrollments only
    /// when the scope depends on them (adopted sections, or a grade-limited grant's teachers).
    /// Of the users row, only what decides scope is decoded; persons' versions are not worked out.
    public init(db: Database, scopeOf policy: SharingPolicy) {
        self.db = db
        withDemographics = false
        withGuardians = false
        withSections = Self.scopeReadsSections(policy)
        withVersions = false
        neededColumns = Self.neededColumns(for: [])
    }

    private func statement(_ sql: String) throws(StewardError) -> Statement {
        if let cached = statements[sql] { return cached }
        let prepared = try db.prepare(sql)
        statements[sql] = prepared
        return prepared
    }

    /// The person columns, the last of them the users row's own `modified_import`: `complete`
    /// raises it to the person's version from the enrollments and demographics it reads anyway,
    /// rather than two correlated subqueries per row here.
    static let personSelect = "SELECT " + personColumns.dropLast().map(RosterTables.quoted).joined(separator: ", ")
        + ", u.modified_import FROM roster_users u"

    /// A person's version: the latest import that changed them, their enrollments or their
    /// demographics, the same changes `changedSince` finds.
    static let personVersion = """
        max(u.modified_import,
            coalesce((SELECT max(e.modified_import) FROM roster_enrollments e WHERE e."userSourcedId" = u."sourcedId"), 0),
            coalesce((SELECT d.modified_import FROM roster_demographics d WHERE d."sourcedId" = u."sourcedId"), 0))
        """

    /// A section's version: the latest import that changed it or its enrollments.
    static let sectionVersion = """
        max(c.modified_import,
            coalesce((SELECT max(e.modified_import) FROM roster_enrollments e WHERE e."classSourcedId" = c."sourcedId"), 0))
        """

    /// The class columns a section record may carry beyond its title, school and grades.
    static let sectionColumns = ["classCode", "classType", "location", "courseSourcedId", "termSourcedIds", "subjects", "periods"]

    static let personColumns = ["sourcedId", "role", "orgSourcedIds", "grades", "givenName", "familyName", "middleName",
                                "preferredGivenName", "email", "phone", "sms", "username", "identifier", "userIds",
                                "agentSourcedIds", "version"]

    public func people(roles: [String], sections: Set<String>?, after: String?, limit: Int,
                       modifiedSince: Int64?) throws(StewardError) -> [RosterPerson] {
        guard !roles.isEmpty, sections?.isEmpty != true else { return [] }
        // Lists travel as one JSON array each (`json_each`), so a long list of adopted sections
        // never collides with the fixed parameters ?2, ?4 and ?5.
        // One role (every page of a kind) is an equality, which the (role, sourcedId) index
        // answers in order; a list needs SQLite to merge the roles' runs.
        var sql = Self.personSelect + (roles.count == 1 ? " WHERE \"role\" = json_extract(?1, '$[0]')" : " WHERE \"role\" IN (SELECT value FROM json_each(?1))")
            + " AND \"sourcedId\" > ?2"
        if sections != nil {
            sql += " AND \"sourcedId\" IN (SELECT \"userSourcedId\" FROM roster_enrollments WHERE \"classSourcedId\" IN (SELECT value FROM json_each(?3)))"
        }
        if modifiedSince != nil { sql += " AND " + Self.personVersion + " > ?4" }
        sql += " ORDER BY \"sourcedId\" LIMIT ?5"
        let query = try statement(sql)
        try query.bind([.text(JSONText.array(roles)), .text(after ?? ""), .optional(sections.map { JSONText.array($0.sorted()) }),
                        .optional(modifiedSince), .int(Int64(limit))])
        var rows: [RosterPerson] = []
        var agents: [[String]] = []
        while try query.step() {
            let (person, agentIds) = Self.person(query, needed: neededColumns)
            rows.append(person)
            agents.append(agentIds)
        }
        // Read in order without a list of sections or a version to pass, the page is every
        // person of its role from the first to the last: their enrollments and demographics
        // are read as that stretch of ids, not one lookup per person.
        let stretch = sections == nil && modifiedSince == nil ? rows.first.map { ($0.sourcedId, rows[rows.count - 1].sourcedId) } : nil
        try complete(&rows, agents: agents, sections: withSections, stretch: stretch)
        return rows
    }

    /// A `personColumns` row: the person, and the ids in their `agentSourcedIds`. Columns that
    /// no field of this reader's view is read from are left empty (`needed`, by column).
    private static func person(_ query: Statement, needed: [Bool]) -> (RosterPerson, [String]) {
        func text(_ column: Int32) -> String { needed[Int(column)] ? query.text(column) ?? "" : "" }
        func list(_ column: Int32) -> [String] { ValueRules.items(text(column)) }
        return (RosterPerson(
            sourcedId: text(0), role: text(1), schools: list(2), grades: list(3), givenName: text(4), familyName: text(5),
            middleName: text(6), preferredGivenName: text(7), email: text(8), phone: text(9), sms: text(10),
            username: text(11), identifier: text(12), userIds: text(13), modifiedImport: query.int(15)), list(14))
    }

    /// Which `personColumns` a view of `fields` needs: the ones that decide scope (id, role,
    /// schools, grades) always, the others only for the fields read from them.
    static func neededColumns(for fields: Set<Field>) -> [Bool] {
        let sources: [String: [String]] = [
            "givenName": ["given_name"], "familyName": ["family_name", "family_initial"], "middleName": ["middle_name"],
            "preferredGivenName": ["preferred_name"], "email": ["email"], "phone": ["phone"], "sms": ["sms"],
            "username": ["username"], "identifier": ["student_number"], "userIds": ["state_id"],
            "agentSourcedIds": ["guardian_names", "guardian_contacts"],
        ]
        let names = Set(fields.map(\.name))
        return personColumns.map { column in sources[column].map { !names.isDisjoint(with: $0) } ?? true }
    }

    public func peopleCount(role: String) throws(StewardError) -> Int? {
        let query = try statement("SELECT count(*) FROM roster_users WHERE \"role\" = ?1")
        try query.bind([.text(role)])
        return try query.step() ? Int(query.int(0)) : 0
    }

    public func people(ids: [String], scopeOnly: Bool) throws(StewardError) -> [RosterPerson] {
        var rows: [RosterPerson] = []
        var agents: [[String]] = []
        try forEachRow(Self.personSelect + " WHERE u.\"sourcedId\" IN (?…)", ids: ids) { query in
            let (person, agentIds) = Self.person(query, needed: neededColumns)
            rows.append(person)
            agents.append(agentIds)
        }
        try complete(&rows, agents: agents, sections: true, details: !scopeOnly)
        return rows
    }

    /// Adds each person's sections (when asked), demographics and guardians (when this reader
    /// reads them and `details` asks), in a few queries over the persons' ids (both tables are indexed by the
    /// person), not one query per person.
    ///
    /// When this reader works out versions, each person's `modifiedImport` becomes their version
    /// (see `personVersion`): the newest of their users row, their enrollments and their
    /// demographics row.
    ///
    /// `stretch` is the first and last sourcedId when `rows` are every person of their role
    /// between the two, in sourcedId order.
    private func complete(_ rows: inout [RosterPerson], agents: [[String]], sections withSections: Bool,
                          details: Bool = true, stretch: (String, String)? = nil) throws(StewardError) {
        let batch = PersonBatch(ids: rows.map(\.sourcedId), stretch: stretch)
        let ids = batch.ids
        let enrolled = withSections || withVersions ? try enrollmentsOf(batch, classes: withSections) : nil
        let demographics = details && withDemographics ? try demographics(of: ids) : [:]
        let demographicVersions = withVersions ? try demographicVersions(of: batch) : nil
        let guardians = details && withGuardians ? try guardians(Array(Set(agents.joined()))) : [:]
        for index in rows.indices {
            if let enrolled {
                rows[index].sections = enrolled.sections[index]
                rows[index].modifiedImport = max(rows[index].modifiedImport, enrolled.versions[index])
            }
            if let demographicVersions { rows[index].modifiedImport = max(rows[index].modifiedImport, demographicVersions[index]) }
            if !demographics.isEmpty { rows[index].demographics = demographics[rows[index].sourcedId] }
            if !guardians.isEmpty { rows[index].guardians = agents[index].compactMap { guardians[$0] } }
        }
    }

    public func rows(_ entity: RosterEntity, ids: [String]) throws(StewardError) -> [RosterRow] {
        var rows: [RosterRow] = []
        try forEachRow(Self.rowsSelect(entity) + " WHERE t.\"sourcedId\" IN (?…)", ids: ids) { query in
            rows.append(Self.row(query, entity))
        }
        return rows
    }

    /// `SELECT` of every stored column of `entity` as `t`, its `modified_import`, and for a course
    /// the type of its org (a school or the district: the view needs to know which).
    private static func rowsSelect(_ entity: RosterEntity) -> String {
        let columns = RosterTables.columns(entity)
        let select = "SELECT " + columns.map { "t." + RosterTables.quoted($0) }.joined(separator: ", ") + ", t.modified_import"
        return select + (entity == .courses ? ", o.\"type\" FROM roster_courses t LEFT JOIN roster_orgs o ON o.\"sourcedId\" = t.\"orgSourcedId\""
                                            : " FROM \(RosterTables.table(entity)) t")
    }

    private static func row(_ query: Statement, _ entity: RosterEntity) -> RosterRow {
        let columns = RosterTables.columns(entity)
        var row = RosterRow(sourcedId: query.text(0) ?? "", values: [:], modifiedImport: query.int(Int32(columns.count)))
        for (index, column) in columns.enumerated() { row.values[column] = query.text(Int32(index)) ?? "" }
        if entity == .courses { row.values["orgType"] = query.text(Int32(columns.count + 1)) ?? "" }
        return row
    }

    public func rows(_ entity: RosterEntity, sections: Set<String>?, after: String?, limit: Int,
                     modifiedSince: Int64?) throws(StewardError) -> [RosterRow] {
        guard sections?.isEmpty != true else { return [] }
        var sql = Self.rowsSelect(entity) + " WHERE t.\"sourcedId\" > ?1"
        if sections != nil, entity == .enrollments { sql += " AND t.\"classSourcedId\" IN (SELECT value FROM json_each(?2))" }
        if modifiedSince != nil { sql += " AND t.modified_import > ?3" }
        sql += " ORDER BY t.\"sourcedId\" LIMIT ?4"
        let query = try statement(sql)
        try query.bind([.text(after ?? ""), .optional(sections.map { JSONText.array($0.sorted()) }), .optional(modifiedSince), .int(Int64(limit))])
        var rows: [RosterRow] = []
        while try query.step() { rows.append(Self.row(query, entity)) }
        return rows
    }

    public func enrollmentRows(sections: Set<String>, persons: Set<String>) throws(StewardError) -> [RosterRow] {
        // Two lookups, each on its index, not one OR that SQLite might answer with a scan.
        let query = try statement(Self.rowsSelect(.enrollments) + " WHERE t.\"classSourcedId\" IN (SELECT value FROM json_each(?1)) UNION "
            + Self.rowsSelect(.enrollments) + " WHERE t.\"userSourcedId\" IN (SELECT value FROM json_each(?2)) ORDER BY 1")
        try query.bind([.text(JSONText.array(sections.sorted())), .text(JSONText.array(persons.sorted()))])
        var rows: [RosterRow] = []
        while try query.step() { rows.append(Self.row(query, .enrollments)) }
        return rows
    }

    /// Runs `sql`, whose `(?…)` stands for an id list, over `ids` in chunks of 500, and hands
    /// each result row to `row`.
    private func forEachRow(_ sql: String, ids: [String], _ row: (Statement) -> Void) throws(StewardError) {
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            let query = try statement(sql.replacingOccurrences(of: "(?…)", with: "(" + chunk.map { _ in "?" }.joined(separator: ", ") + ")"))
            try query.bind(chunk.map(SQLValue.text))
            while try query.step() { row(query) }
            start += chunk.count
        }
    }

    /// The newest `modified_import` of each of `persons`' enrollments (0 without any), and with
    /// `classes` the classes they are enrolled in, in the batch's order.
    private func enrollmentsOf(_ persons: PersonBatch, classes: Bool) throws(StewardError)
        -> (sections: [[RosterPerson.SectionRef]], versions: [Int64]) {
        var versions = [Int64](repeating: 0, count: persons.ids.count)
        guard classes else {
            try forEachRow("""
                SELECT "userSourcedId", max(modified_import) FROM roster_enrollments WHERE "userSourcedId" IN (?…) GROUP BY 1 ORDER BY 1
                """, persons) { query, index in versions[index] = query.int(1) }
            return ([[RosterPerson.SectionRef]](repeating: [], count: persons.ids.count), versions)
        }
        // Every enrollment dates its person, whether or not its class is there, as in
        // `personVersion`. The enrollments come from the index by person alone; each class a
        // page names is then read once, not once per member.
        var classIds = [[String]](repeating: [], count: persons.ids.count)
        try forEachRow("""
            SELECT "userSourcedId", "classSourcedId", modified_import FROM roster_enrollments
            WHERE "userSourcedId" IN (?…) ORDER BY "userSourcedId", "classSourcedId"
            """, persons) { query, index in
            versions[index] = max(versions[index], query.int(2))
            classIds[index].append(query.text(1) ?? "")
        }
        var classes: [String: RosterPerson.SectionRef] = [:]
        try forEachRow("SELECT \"sourcedId\", \"schoolSourcedId\", \"grades\" FROM roster_classes WHERE \"sourcedId\" IN (?…)",
                       ids: Array(Set(classIds.joined()))) { query in
            let id = query.text(0) ?? ""
            classes[id] = RosterPerson.SectionRef(sourcedId: id, school: query.text(1) ?? "", grades: ValueRules.items(query.text(2) ?? ""))
        }
        return (classIds.map { ids in ids.compactMap { classes[$0] } }, versions)
    }

    /// The `modified_import` of each of `persons`' demographics rows (0 without one), in the
    /// batch's order.
    private func demographicVersions(of persons: PersonBatch) throws(StewardError) -> [Int64] {
        var versions = [Int64](repeating: 0, count: persons.ids.count)
        try forEachRow("""
            SELECT "sourcedId", modified_import FROM roster_demographics WHERE "sourcedId" IN (?…) ORDER BY "sourcedId"
            """, persons) { query, index in
            versions[index] = query.int(1)
        }
        return versions
    }

    /// The persons a completion reads about: their ids in sourcedId order and, when they are
    /// every person of their role from the first to the last, that stretch.
    private struct PersonBatch {
        var ids: [String]
        var stretch: (String, String)?
    }

    /// Runs `sql`, whose `(?…)` stands for the batch's ids and whose first column is a person's
    /// sourcedId, and hands `row` each row about a person of the batch with that person's index
    /// in it. A stretch is read as one range (`BETWEEN`), in order, and the rows of persons of
    /// other roles within it are passed over by walking the batch alongside; other batches go
    /// by lists of ids.
    private func forEachRow(_ sql: String, _ persons: PersonBatch, _ row: (Statement, Int) -> Void) throws(StewardError) {
        let ids = persons.ids
        guard let (first, last) = persons.stretch else {
            // An id may stand twice in a list asked for: each place gets the row.
            let places = Dictionary(grouping: ids.indices, by: { ids[$0] })
            return try forEachRow(sql, ids: Array(places.keys)) { query in
                for position in query.text(0).flatMap({ places[$0] }) ?? [] { row(query, position) }
            }
        }
        let query = try statement(sql.replacingOccurrences(of: "IN (?…)", with: "BETWEEN ?1 AND ?2"))
        try query.bind([.text(first), .text(last)])
        var position = 0
        while try query.step() {
            guard let person = query.text(0) else { continue }
            // Both in SQLite's order (bytes); each row's person is at or after the last one's.
            var order = -1
            while position < ids.count {
                order = Self.compareBytes(ids[position], person)
                guard order < 0 else { break }
                position += 1
            }
            if order == 0 { row(query, position) }
        }
    }

    /// `a` and `b` compared as SQLite's BINARY collation does (their UTF-8 bytes): negative,
    /// zero or positive.
    private static func compareBytes(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : Int(memcmp(x.baseAddress!, y.baseAddress!, common))
                return order != 0 ? order : x.count - y.count
            }
        }
    }

    /// The demographics row of each of `persons` that has one, by person.
    private func demographics(of persons: [String]) throws(StewardError) -> [String: [String: String]] {
        let columns = RosterTables.columns(.demographics)
        var rows: [String: [String: String]] = [:]
        try forEachRow("SELECT " + columns.map(RosterTables.quoted).joined(separator: ", ")
                       + " FROM roster_demographics WHERE \"sourcedId\" IN (?…)", ids: persons) { query in
            var row: [String: String] = [:]
            for (index, column) in columns.enumerated() { row[column] = query.text(Int32(index)) ?? "" }
            rows[row["sourcedId"] ?? ""] = row
        }
        return rows
    }

    /// The guardians, parents and relatives among `ids`, by sourcedId.
    private func guardians(_ ids: [String]) throws(StewardError) -> [String: RosterPerson.Guardian] {
        var guardians: [String: RosterPerson.Guardian] = [:]
        try forEachRow("""
            SELECT "sourcedId", "givenName", "familyName", "email", "phone", "sms" FROM roster_users
            WHERE "sourcedId" IN (?…) AND "role" IN ('guardian', 'parent', 'relative')
            """, ids: ids) { query in
            guardians[query.text(0) ?? ""] = .init(givenName: query.text(1) ?? "", familyName: query.text(2) ?? "",
                                                   email: query.text(3) ?? "", phone: query.text(4) ?? "", sms: query.text(5) ?? "")
        }
        return guardians
    }

    public func sections(ids: Set<String>?, after: String?, limit: Int, modifiedSince: Int64?) throws(StewardError) -> [RosterSection] {
        guard ids?.isEmpty != true else { return [] }
        var sql = "SELECT \"sourcedId\", \"title\", \"schoolSourcedId\", \"grades\", " + Self.sectionVersion + ", "
            + Self.sectionColumns.map(RosterTables.quoted).joined(separator: ", ") + " FROM roster_classes c WHERE \"sourcedId\" > ?1"
        if ids != nil { sql += " AND \"sourcedId\" IN (SELECT value FROM json_each(?2))" }
        if modifiedSince != nil { sql += " AND " + Self.sectionVersion + " > ?3" }
        sql += " ORDER BY \"sourcedId\" LIMIT ?4"
        let query = try statement(sql)
        try query.bind([.text(after ?? ""), .optional(ids.map { JSONText.array($0.sorted()) }), .optional(modifiedSince), .int(Int64(limit))])
        var rows: [RosterSection] = []
        while try query.step() {
            var section = RosterSection(sourcedId: query.text(0) ?? "", title: query.text(1) ?? "", school: query.text(2) ?? "",
                                        grades: ValueRules.items(query.text(3) ?? ""), modifiedImport: query.int(4))
            for (index, column) in Self.sectionColumns.enumerated() { section.values[column] = query.text(Int32(5 + index)) ?? "" }
            rows.append(section)
        }
        var bySection: [String: [RosterSection.Teacher]] = [:]
        try forEachRow("""
            SELECT e."classSourcedId", u."sourcedId", u."givenName", u."familyName", u."orgSourcedIds" FROM roster_enrollments e
            JOIN roster_users u ON u."sourcedId" = e."userSourcedId"
            WHERE e."classSourcedId" IN (?…) AND e."role" = 'teacher' ORDER BY e."classSourcedId", u."sourcedId"
            """, ids: rows.map(\.sourcedId)) { teachers in
            bySection[teachers.text(0) ?? "", default: []].append(.init(
                sourcedId: teachers.text(1) ?? "", givenName: teachers.text(2) ?? "", familyName: teachers.text(3) ?? "",
                schools: ValueRules.items(teachers.text(4) ?? "")))
        }
        for index in rows.indices { rows[index].teachers = bySection[rows[index].sourcedId] ?? [] }
        return rows
    }
}

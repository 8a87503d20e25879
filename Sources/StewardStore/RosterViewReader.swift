import StewardCore

/// Reads the roster tables as `RosterPerson` and `RosterSection` values, for views: page by page
/// in sourcedId order, with each person's enrollments and, when asked, demographics and
/// guardians. Confined to the connection it was made on (a store read).
public final class RosterViewReader: RosterReading {
    private let db: Database
    private let withDemographics: Bool
    private let withGuardians: Bool
    private let withSections: Bool
    private var statements: [String: Statement] = [:]

    /// Reads demographics and guardians only when a view can use them, so a directory-only view
    /// does not read protected data at all.
    public init(db: Database, fields: Set<Field>) {
        self.db = db
        withDemographics = fields.contains { $0.tier == .demographic }
        withGuardians = fields.contains { $0.tier == .guardian }
        withSections = true
    }

    /// Reads only what decides whether `policy` holds a person or a section: for counting a
    /// view without reading its records. Enrollments are read only when the scope depends on
    /// them (adopted sections, or a grade-limited grant's teachers).
    public init(db: Database, scopeOf policy: SharingPolicy) {
        self.db = db
        withDemographics = false
        withGuardians = false
        withSections = policy.adoptedSections != nil || policy.grades != nil
    }

    private func statement(_ sql: String) throws(StewardError) -> Statement {
        if let cached = statements[sql] { return cached }
        let prepared = try db.prepare(sql)
        statements[sql] = prepared
        return prepared
    }

    static let personColumns = ["sourcedId", "role", "orgSourcedIds", "grades", "givenName", "familyName", "middleName",
                                "preferredGivenName", "email", "phone", "sms", "username", "identifier", "userIds",
                                "agentSourcedIds", "modified_import"]

    public func people(roles: [String], sections: Set<String>?, after: String?, limit: Int,
                       modifiedSince: Int64?) throws(StewardError) -> [RosterPerson] {
        guard !roles.isEmpty, sections?.isEmpty != true else { return [] }
        var sql = "SELECT " + Self.personColumns.map(RosterTables.quoted).joined(separator: ", ")
            + " FROM roster_users u WHERE \"role\" IN (" + roles.map { _ in "?" }.joined(separator: ", ") + ") AND \"sourcedId\" > ?"
        var values = roles.map(SQLValue.text) + [.text(after ?? "")]
        if let sections {
            sql += " AND \"sourcedId\" IN (SELECT \"userSourcedId\" FROM roster_enrollments WHERE \"classSourcedId\" IN ("
                + sections.map { _ in "?" }.joined(separator: ", ") + "))"
            values += sections.sorted().map(SQLValue.text)
        }
        if modifiedSince != nil {
            sql += """
                 AND (modified_import > ?1000
                   OR EXISTS (SELECT 1 FROM roster_enrollments e WHERE e."userSourcedId" = u."sourcedId" AND e.modified_import > ?1000)
                   OR EXISTS (SELECT 1 FROM roster_demographics d WHERE d."sourcedId" = u."sourcedId" AND d.modified_import > ?1000))
                """
        }
        sql += " ORDER BY \"sourcedId\" LIMIT ?1001"
        let query = try statement(sql)
        try query.bind(values)
        if let modifiedSince { try query.bindInt(1000, modifiedSince) }
        try query.bindInt(1001, Int64(limit))
        var rows: [RosterPerson] = []
        var agents: [[String]] = []
        while try query.step() {
            func text(_ column: Int32) -> String { query.text(column) ?? "" }
            func list(_ column: Int32) -> [String] { text(column).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            rows.append(RosterPerson(
                sourcedId: text(0), role: text(1), schools: list(2), grades: list(3), givenName: text(4), familyName: text(5),
                middleName: text(6), preferredGivenName: text(7), email: text(8), phone: text(9), sms: text(10),
                username: text(11), identifier: text(12), userIds: text(13), modifiedImport: query.int(15)))
            agents.append(list(14))
        }
        for index in rows.indices {
            if withSections { rows[index].sections = try sectionsOf(rows[index].sourcedId) }
            if withDemographics { rows[index].demographics = try demographics(of: rows[index].sourcedId) }
            if withGuardians { rows[index].guardians = try guardians(agents[index]) }
        }
        return rows
    }

    private func sectionsOf(_ person: String) throws(StewardError) -> [RosterPerson.SectionRef] {
        let query = try statement("""
            SELECT c."sourcedId", c."schoolSourcedId", c."grades" FROM roster_enrollments e
            JOIN roster_classes c ON c."sourcedId" = e."classSourcedId" WHERE e."userSourcedId" = ? ORDER BY c."sourcedId"
            """)
        try query.bind([.text(person)])
        var sections: [RosterPerson.SectionRef] = []
        while try query.step() {
            sections.append(.init(sourcedId: query.text(0) ?? "", school: query.text(1) ?? "",
                                  grades: (query.text(2) ?? "").split(separator: ",").map(String.init)))
        }
        return sections
    }

    private func demographics(of person: String) throws(StewardError) -> [String: String]? {
        let columns = RosterTables.columns(.demographics)
        let query = try statement("SELECT " + columns.map(RosterTables.quoted).joined(separator: ", ")
            + " FROM roster_demographics WHERE \"sourcedId\" = ?")
        try query.bind([.text(person)])
        guard try query.step() else { return nil }
        var row: [String: String] = [:]
        for (index, column) in columns.enumerated() { row[column] = query.text(Int32(index)) ?? "" }
        return row
    }

    private func guardians(_ ids: [String]) throws(StewardError) -> [RosterPerson.Guardian] {
        let query = try statement("""
            SELECT "givenName", "familyName", "email", "phone", "sms" FROM roster_users
            WHERE "sourcedId" = ? AND "role" IN ('guardian', 'parent', 'relative')
            """)
        var guardians: [RosterPerson.Guardian] = []
        for id in ids {
            try query.bind([.text(id)])
            if try query.step() {
                guardians.append(.init(givenName: query.text(0) ?? "", familyName: query.text(1) ?? "", email: query.text(2) ?? "",
                                       phone: query.text(3) ?? "", sms: query.text(4) ?? ""))
            }
        }
        return guardians
    }

    public func sections(ids: Set<String>?, after: String?, limit: Int, modifiedSince: Int64?) throws(StewardError) -> [RosterSection] {
        guard ids?.isEmpty != true else { return [] }
        var sql = "SELECT \"sourcedId\", \"title\", \"schoolSourcedId\", \"grades\", modified_import FROM roster_classes c WHERE \"sourcedId\" > ?"
        var values: [SQLValue] = [.text(after ?? "")]
        if let ids {
            sql += " AND \"sourcedId\" IN (" + ids.map { _ in "?" }.joined(separator: ", ") + ")"
            values += ids.sorted().map(SQLValue.text)
        }
        if modifiedSince != nil {
            sql += """
                 AND (modified_import > ?1000
                   OR EXISTS (SELECT 1 FROM roster_enrollments e WHERE e."classSourcedId" = c."sourcedId" AND e.modified_import > ?1000))
                """
        }
        sql += " ORDER BY \"sourcedId\" LIMIT ?1001"
        let query = try statement(sql)
        try query.bind(values)
        if let modifiedSince { try query.bindInt(1000, modifiedSince) }
        try query.bindInt(1001, Int64(limit))
        var rows: [RosterSection] = []
        while try query.step() {
            rows.append(RosterSection(sourcedId: query.text(0) ?? "", title: query.text(1) ?? "", school: query.text(2) ?? "",
                                      grades: (query.text(3) ?? "").split(separator: ",").map(String.init),
                                      modifiedImport: query.int(4)))
        }
        let teachers = try statement("""
            SELECT u."sourcedId", u."givenName", u."familyName" FROM roster_enrollments e
            JOIN roster_users u ON u."sourcedId" = e."userSourcedId"
            WHERE e."classSourcedId" = ? AND e."role" = 'teacher' ORDER BY u."sourcedId"
            """)
        for index in rows.indices {
            try teachers.bind([.text(rows[index].sourcedId)])
            while try teachers.step() {
                rows[index].teachers.append(.init(sourcedId: teachers.text(0) ?? "", givenName: teachers.text(1) ?? "",
                                                  familyName: teachers.text(2) ?? ""))
            }
        }
        return rows
    }
}

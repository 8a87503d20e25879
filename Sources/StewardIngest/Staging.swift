import StewardCore
import StewardStore

/// The SQL side of an import: TEMP staging tables on the import connection (no lock on the
/// roster while a drop is read and checked), and the queries that resolve references, work out
/// the change set, and apply it.
enum Staging {
    static func table(_ entity: RosterEntity) -> String { "temp.stage_" + entity.rawValue }

    /// One staging table per file, holding the stored columns plus each record's line and status;
    /// `diff` holds the change set's changed and removed ids.
    static func create(_ db: Database, entities: [RosterEntity]) throws(StewardError) {
        dropAll(db)
        var sql = ""
        for entity in entities {
            let columns = RosterTables.columns(entity).dropFirst().map { "\(RosterTables.quoted($0)) TEXT NOT NULL DEFAULT ''" }
            // A plain rowid table: records append in file order; the sourcedId index is built once
            // the file is read (a sort), not row by row.
            sql += """
                CREATE TEMP TABLE stage_\(entity.rawValue) (
                    "sourcedId" TEXT NOT NULL, line INTEGER NOT NULL, status TEXT NOT NULL,
                    \(columns.joined(separator: ", ")));

                """
        }
        sql += """
            CREATE TEMP TABLE diff (entity TEXT NOT NULL, "sourcedId" TEXT NOT NULL, kind TEXT NOT NULL,
                                    fields TEXT NOT NULL DEFAULT '', previous TEXT NOT NULL DEFAULT '',
                                    PRIMARY KEY (entity, "sourcedId")) WITHOUT ROWID;
            """
        try db.execute(sql)
    }

    /// Removes every staging table; the import connection is reused by the next import.
    static func dropAll(_ db: Database) {
        for entity in RosterEntity.allCases { try? db.execute("DROP TABLE IF EXISTS \(table(entity))") }
        try? db.execute("DROP TABLE IF EXISTS temp.diff")
    }

    /// Writes one file's records to its staging table or, in a first import, straight to its
    /// roster table (see ``ImportRun``).
    final class Writer {
        /// Where the records go.
        enum Target {
            case staging
            /// The roster table, each record added by import `importId`.
            case roster(importId: Int64)
        }

        private let insert: Statement
        private let entity: RosterEntity
        private let db: Database
        private let target: Target
        /// For each stored column, the binding column it comes from (nil: not in this version).
        private let sources: [Int?]

        init(_ db: Database, entity: RosterEntity, bindingColumns: [ColumnSpec], target: Target = .staging) throws(StewardError) {
            self.db = db
            self.entity = entity
            self.target = target
            let stored = RosterTables.columns(entity)
            sources = stored.map { name in bindingColumns.firstIndex { $0.name == name } }
            let marks = Array(repeating: "?", count: stored.count + 2).joined(separator: ", ")
            switch target {
            case .staging:
                let names = ["line", "status"] + stored.map(RosterTables.quoted)
                insert = try db.prepare("INSERT INTO \(Staging.table(entity)) (\(names.joined(separator: ", "))) VALUES (\(marks))")
            case .roster(let importId):
                let names = ["created_import", "modified_import"] + stored.map(RosterTables.quoted)
                insert = try db.prepare("""
                    INSERT INTO main.\(RosterTables.table(entity)) (\(names.joined(separator: ", "))) VALUES (\(marks))
                    ON CONFLICT ("sourcedId") DO NOTHING
                    """)
                try insert.bindInt(1, importId)
                try insert.bindInt(2, importId)
            }
            // Bound once: a reset keeps bindings, and every other parameter is bound again per record.
            for (offset, source) in sources.enumerated() where source == nil { try insert.bindText(Int32(offset + 3), "") }
        }

        /// Writes a batch of records; false when one went to the roster table and that already
        /// holds its sourcedId (a duplicate, whose first line only staging can tell): the records
        /// after it are not written.
        func insert(_ batch: RowBatch) throws(StewardError) -> Bool {
            try batch.withValues { values throws(StewardError) -> Bool in
                for row in 0..<batch.count {
                    if case .staging = target {
                        try insert.bindInt(1, Int64(batch.lines[row]))
                        try insert.bindText(2, batch.deletions[row] ? "tobedeleted" : "active")
                    }
                    // Sound: the values stay put until the row has run, and every one of these
                    // parameters is bound again before the statement runs next.
                    for (offset, source) in sources.enumerated() {
                        if let source { try insert.bindText(Int32(offset + 3), inPlace: values[row, source]) }
                    }
                    try insert.runBound()
                    guard db.changes == 1 else { return false }
                }
                return true
            }
        }

        /// Indexes the staged file by sourcedId and returns every record whose sourcedId an
        /// earlier line already has: (line, sourcedId, first line).
        func finish() throws(StewardError) -> [(Int, String, Int)] {
            let table = Staging.table(entity)
            try db.execute("CREATE INDEX temp.stage_\(entity.rawValue)_id ON stage_\(entity.rawValue)(\"sourcedId\", line)")
            let statement = try db.prepare("""
                SELECT a.line, a."sourcedId", (SELECT min(b.line) FROM \(table) b WHERE b."sourcedId" = a."sourcedId")
                FROM \(table) a WHERE EXISTS (SELECT 1 FROM \(table) b WHERE b."sourcedId" = a."sourcedId" AND b.line < a.line)
                ORDER BY a.line
                """)
            var duplicates: [(Int, String, Int)] = []
            while try statement.step() {
                duplicates.append((Int(statement.int(0)), statement.text(1) ?? "", Int(statement.int(2))))
            }
            return duplicates
        }

    }

    /// For 1.2 drops: each user's `role` (its primary role) and `orgSourcedIds` (the orgs of its
    /// roles), from roles.csv, or from the stored roles when the drop has none.
    static func fillRolesFromRoleRecords(_ db: Database, rolesStaged: Bool) throws(StewardError) {
        if rolesStaged { try db.execute("CREATE INDEX temp.stage_roles_user ON stage_roles(\"userSourcedId\")") }
        let roles = rolesStaged ? "(SELECT * FROM temp.stage_roles WHERE status <> 'tobedeleted')" : "main.roster_roles"
        try fillRoles(of: "temp.stage_users", from: roles, db)
    }

    /// The same for a first import, whose users and roles went straight into the roster tables.
    static func fillRolesOfRoster(_ db: Database) throws(StewardError) {
        try db.execute("CREATE INDEX main.roster_roles_user_fill ON roster_roles(\"userSourcedId\")")
        try fillRoles(of: "main.roster_users", from: "main.roster_roles", db)
        try db.execute("DROP INDEX main.roster_roles_user_fill")
    }

    /// Fills the `role` and `orgSourcedIds` of every user in the table `users` from the role
    /// records in `roles` (a table, or a subquery). A user staged for deletion is filled too;
    /// nothing reads it.
    private static func fillRoles(of users: String, from roles: String, _ db: Database) throws(StewardError) {
        try db.execute("""
            UPDATE \(users) AS u SET
              "role" = coalesce((SELECT r."role" FROM \(roles) r WHERE r."userSourcedId" = u."sourcedId"
                                 AND r."roleType" = 'primary' ORDER BY r."sourcedId" LIMIT 1), ''),
              "orgSourcedIds" = coalesce((SELECT group_concat(org, ',') FROM (SELECT DISTINCT r."orgSourcedId" AS org
                                 FROM \(roles) r WHERE r."userSourcedId" = u."sourcedId" ORDER BY 1)), '')
            """)
    }

    /// SQL that is true when `value` names a record of `target` after this drop: staged (bulk),
    /// staged or stored and not deleted (delta), or stored (the drop does not carry the file).
    static func resolves(_ value: String, _ target: RosterEntity, mode: Manifest.Mode?) -> String {
        let staged = "SELECT 1 FROM \(table(target)) t WHERE t.\"sourcedId\" = \(value)"
        let stored = "SELECT 1 FROM main.\(RosterTables.table(target)) m WHERE m.\"sourcedId\" = \(value)"
        switch mode {
        case .bulk: return "EXISTS (\(staged))"
        case .delta: return "(EXISTS (\(staged) AND t.status <> 'tobedeleted') OR (EXISTS (\(stored)) AND NOT EXISTS (\(staged))))"
        default: return "EXISTS (\(stored))"
        }
    }

    /// Staged records whose `column` names no record of `target`: (line, sourcedId, value).
    static func unresolvedReferences(_ db: Database, entity: RosterEntity, column: String, target: RosterEntity,
                                     targetMode: Manifest.Mode?) throws(StewardError) -> [(Int, String, String)] {
        let quoted = RosterTables.quoted(column)
        let statement = try db.prepare("""
            SELECT s.line, s."sourcedId", s.\(quoted) FROM \(table(entity)) s
            WHERE s.status <> 'tobedeleted' AND s.\(quoted) <> '' AND NOT \(resolves("s.\(quoted)", target, mode: targetMode))
            ORDER BY s.line
            """)
        var found: [(Int, String, String)] = []
        while try statement.step() { found.append((Int(statement.int(0)), statement.text(1) ?? "", statement.text(2) ?? "")) }
        return found
    }

    /// Items of a list-valued reference column (`orgSourcedIds`, `termSourcedIds`, …) that name
    /// nothing: (line, item). The list is split in SQL with `json_each`, after escaping it into
    /// a JSON array, so no item is staged row by row.
    static func unresolvedListReferences(_ db: Database, entity: RosterEntity, column: String, target: RosterEntity,
                                         targetMode: Manifest.Mode?) throws(StewardError) -> [(Int, String)] {
        let quoted = "s." + RosterTables.quoted(column)
        let array = "'[\"' || replace(replace(replace(\(quoted), '\\', '\\\\'), '\"', '\\\"'), ',', '\",\"') || '\"]'"
        let statement = try db.prepare("""
            SELECT s.line, j.value FROM \(table(entity)) s, json_each(\(array)) j
            WHERE s.status <> 'tobedeleted' AND \(quoted) <> '' AND NOT \(resolves("j.value", target, mode: targetMode))
            ORDER BY s.line
            """)
        var found: [(Int, String)] = []
        while try statement.step() { found.append((Int(statement.int(0)), statement.text(1) ?? "")) }
        return found
    }

    /// Works out what the drop adds, changes (and which fields) and removes, per file, into
    /// `temp.diff`, and returns the counts keyed by file name.
    static func computeChanges(_ db: Database, modes: [RosterEntity: Manifest.Mode]) throws(StewardError) -> [String: ImportReport.Changes] {
        for (entity, mode) in modes {
            let stage = table(entity)
            let live = "main." + RosterTables.table(entity)
            let compared = RosterTables.columns(entity).dropFirst().map(RosterTables.quoted)
            let differs = compared.map { "s.\($0) IS NOT l.\($0)" }.joined(separator: " OR ")
            let fields = "rtrim(" + compared.map { "CASE WHEN s.\($0) IS NOT l.\($0) THEN '\($0.dropFirst().dropLast()),' ELSE '' END" }
                .joined(separator: " || ") + ", ',')"
            let name = "'\(entity.rawValue)'"
            // The live row's columns before the import, for change feeds.
            let previous = "json_object(" + compared.map { "'\($0.dropFirst().dropLast())', l.\($0)" }.joined(separator: ", ") + ")"
            try db.execute("""
                INSERT INTO temp.diff(entity, "sourcedId", kind, fields, previous)
                  SELECT \(name), s."sourcedId", 'changed', \(fields), \(previous) FROM \(stage) s JOIN \(live) l ON l."sourcedId" = s."sourcedId"
                  WHERE s.status <> 'tobedeleted' AND (\(differs));
                """)
            if mode == .bulk {
                try db.execute("""
                    INSERT INTO temp.diff(entity, "sourcedId", kind, previous)
                      SELECT \(name), l."sourcedId", 'removed', \(previous) FROM \(live) l
                      WHERE NOT EXISTS (SELECT 1 FROM \(stage) s WHERE s."sourcedId" = l."sourcedId");
                    """)
            } else {
                try db.execute("""
                    INSERT INTO temp.diff(entity, "sourcedId", kind, previous)
                      SELECT \(name), s."sourcedId", 'removed', \(previous) FROM \(stage) s JOIN \(live) l ON l."sourcedId" = s."sourcedId"
                      WHERE s.status = 'tobedeleted';
                    """)
            }
        }
        var counts: [String: ImportReport.Changes] = [:]
        for entity in modes.keys {
            // Added records are not listed in the diff: apply finds them as the staged records the
            // roster lacks, and the store knows them afterwards by `created_import`.
            let added = try db.scalarInt("""
                SELECT count(*) FROM \(table(entity)) s WHERE s.status <> 'tobedeleted'
                AND NOT EXISTS (SELECT 1 FROM main.\(RosterTables.table(entity)) l WHERE l."sourcedId" = s."sourcedId")
                """) ?? 0
            counts[entity.fileName] = ImportReport.Changes(added: Int(added))
        }
        let statement = try db.prepare("SELECT entity, kind, count(*) FROM temp.diff GROUP BY entity, kind")
        while try statement.step() {
            guard let entity = RosterEntity(rawValue: statement.text(0) ?? "") else { continue }
            let count = Int(statement.int(2))
            switch statement.text(1) {
            case "changed": counts[entity.fileName, default: .init()].changed = count
            default: counts[entity.fileName, default: .init()].removed = count
            }
        }
        return counts
    }

    /// Delta rows that delete a record the roster does not hold.
    static func deletionsOfUnknown(_ db: Database, entity: RosterEntity) throws(StewardError) -> [(Int, String)] {
        let statement = try db.prepare("""
            SELECT s.line, s."sourcedId" FROM \(table(entity)) s WHERE s.status = 'tobedeleted'
            AND NOT EXISTS (SELECT 1 FROM main.\(RosterTables.table(entity)) l WHERE l."sourcedId" = s."sourcedId") ORDER BY s.line
            """)
        var found: [(Int, String)] = []
        while try statement.step() { found.append((Int(statement.int(0)), statement.text(1) ?? "")) }
        return found
    }

    /// Stored records of `entity` that the drop leaves in place but whose `column` names a
    /// record of `target` the drop removes: their count and one example id.
    static func storedRecordsNamingRemoved(_ db: Database, entity: RosterEntity, column: String, target: RosterEntity,
                                           entityStaged: Bool) throws(StewardError) -> (Int, String)? {
        let quoted = RosterTables.quoted(column)
        let notReplaced = entityStaged ? "AND NOT EXISTS (SELECT 1 FROM \(table(entity)) s WHERE s.\"sourcedId\" = m.\"sourcedId\")" : ""
        let statement = try db.prepare("""
            SELECT count(*), min(m."sourcedId") FROM main.\(RosterTables.table(entity)) m
            WHERE m.\(quoted) IN (SELECT "sourcedId" FROM temp.diff WHERE entity = ? AND kind = 'removed') \(notReplaced)
            """)
        try statement.bind([.text(target.rawValue)])
        guard try statement.step(), statement.int(0) > 0 else { return nil }
        return (Int(statement.int(0)), statement.text(1) ?? "")
    }

    struct GuardCounts {
        var currentStudents = 0, removedStudents = 0, currentSections = 0, removedSections = 0
    }

    static func guardCounts(_ db: Database) throws(StewardError) -> GuardCounts {
        func count(_ sql: String) throws(StewardError) -> Int { Int(try db.scalarInt(sql) ?? 0) }
        return GuardCounts(
            currentStudents: try count("SELECT count(*) FROM main.roster_users WHERE \"role\" = 'student'"),
            removedStudents: try count("""
                SELECT count(*) FROM temp.diff d JOIN main.roster_users u ON u."sourcedId" = d."sourcedId"
                WHERE d.entity = 'users' AND d.kind = 'removed' AND u."role" = 'student'
                """),
            currentSections: try count("SELECT count(*) FROM main.roster_classes"),
            removedSections: try count("SELECT count(*) FROM temp.diff WHERE entity = 'classes' AND kind = 'removed'"))
    }

    /// Applies the change set to the roster: removals first (dependents before what they name),
    /// then changes, then additions (every staged record the roster still lacks), then the change
    /// set's changed and removed ids; added records carry `created_import = importId`.
    static func apply(_ db: Database, modes: [RosterEntity: Manifest.Mode], importId: Int64) throws(StewardError) {
        let entities = RosterEntity.dependencyOrder.filter { modes[$0] != nil }
        for entity in entities.reversed() {
            try db.prepare("""
                DELETE FROM main.\(RosterTables.table(entity))
                WHERE "sourcedId" IN (SELECT "sourcedId" FROM temp.diff WHERE entity = ? AND kind = 'removed')
                """).run([.text(entity.rawValue)])
        }
        for entity in entities {
            let isEmpty = try db.scalarInt("SELECT NOT EXISTS (SELECT 1 FROM main.\(RosterTables.table(entity)))") == 1
            if isEmpty { try dropIndexes(of: entity, db) }
            let columns = RosterTables.columns(entity).map(RosterTables.quoted)
            let updates = columns.dropFirst().map { "\($0) = excluded.\($0)" } + ["modified_import = excluded.modified_import"]
            let insert = "INSERT INTO main.\(RosterTables.table(entity)) (\(columns.joined(separator: ", ")), created_import, modified_import) "
                + "SELECT \(columns.map { "s.\($0)" }.joined(separator: ", ")), ?1, ?1 FROM \(table(entity)) s "
            try db.prepare(insert + """
                WHERE s."sourcedId" IN (SELECT "sourcedId" FROM temp.diff WHERE entity = ?2 AND kind = 'changed')
                ON CONFLICT ("sourcedId") DO UPDATE SET \(updates.joined(separator: ", "))
                """).run([.int(importId), .text(entity.rawValue)])
            try db.prepare(insert + "WHERE s.status <> 'tobedeleted' ORDER BY s.\"sourcedId\" ON CONFLICT (\"sourcedId\") DO NOTHING")
                .run([.int(importId)])
            if isEmpty { try buildIndexes(of: entity, db) }
        }
        try db.prepare("""
            INSERT INTO main.import_changes(import_id, entity, sourced_id, kind, fields, previous)
            SELECT ?, entity, "sourcedId", kind, fields, previous FROM temp.diff
            """).run([.int(importId)])
    }

    /// Whether every roster table is empty: the store has never applied an import (or every
    /// record was removed since).
    static func rosterIsEmpty(_ db: Database) throws(StewardError) -> Bool {
        let empty = RosterEntity.dependencyOrder.map { "NOT EXISTS (SELECT 1 FROM main.\(RosterTables.table($0)))" }
        return try db.scalarInt("SELECT " + empty.joined(separator: " AND ")) == 1
    }

    /// A table filled from empty gets its rows first and its secondary indexes once afterwards (a
    /// sort instead of a random insert per row), in the same transaction, so no reader ever sees
    /// it without them.
    static func dropIndexes(of entity: RosterEntity, _ db: Database) throws(StewardError) {
        for index in RosterTables.indexes where index.entity == entity { try db.execute("DROP INDEX main.\(index.name)") }
    }

    /// Builds the secondary indexes ``dropIndexes(of:_:)`` dropped.
    static func buildIndexes(of entity: RosterEntity, _ db: Database) throws(StewardError) {
        for index in RosterTables.indexes where index.entity == entity {
            try db.execute(index.sql.replacingOccurrences(of: "CREATE INDEX ", with: "CREATE INDEX main."))
        }
    }
}

import StewardCore

/// How the roster is kept in the store: one table per OneRoster file (`roster_users`, …), one
/// column per CSV column (their CSV names, quoted), keyed by sourcedId.
///
/// `status` and `dateLastModified` describe a transfer, not a record, and `password` is never
/// stored, so none of the three has a column. The user columns are the union of 1.1 and 1.2; for a
/// 1.2 drop the importer fills `role` and `orgSourcedIds` from roles.csv, so every user row reads
/// the same way whatever version brought it.
public enum RosterTables {
    /// The table holding `entity`'s records.
    public static func table(_ entity: RosterEntity) -> String { "roster_" + entity.rawValue }

    /// The stored columns of `entity`, in a fixed order (sourcedId first).
    public static func columns(_ entity: RosterEntity) -> [String] {
        var names: [String] = []
        for version in OneRosterVersion.allCases where entity.exists(in: version) {
            for column in OneRosterSchema.columns(entity, version)
            where !excluded.contains(column.name) && !names.contains(column.name) {
                names.append(column.name)
            }
        }
        return names
    }

    /// Columns that are never stored.
    public static let excluded: Set<String> = ["status", "dateLastModified", "password"]

    /// `"givenName"`: a column name quoted for SQL.
    public static func quoted(_ column: String) -> String { "\"" + column + "\"" }

    /// The secondary indexes of the roster tables: (table's entity, index name, its DDL).
    public static let indexes: [(entity: RosterEntity, name: String, sql: String)] = [
        (.users, "roster_users_role", "CREATE INDEX roster_users_role ON roster_users(\"role\")"),
        // Covering a person's classes and the import that last changed each enrollment, so a page
        // of persons reads them from the index alone, without a table lookup per enrollment.
        (.enrollments, "roster_enrollments_user",
         "CREATE INDEX roster_enrollments_user ON roster_enrollments(\"userSourcedId\", \"classSourcedId\", modified_import)"),
        (.enrollments, "roster_enrollments_class", "CREATE INDEX roster_enrollments_class ON roster_enrollments(\"classSourcedId\")"),
    ]

    /// The DDL of migration 2, derived from the schema so the two cannot drift.
    static func createStatements() -> String {
        RosterEntity.dependencyOrder.map { entity in
            let columns = columns(entity).dropFirst().map { "    \(quoted($0)) TEXT NOT NULL DEFAULT ''" }
            return """
                CREATE TABLE \(table(entity)) (
                    "sourcedId" TEXT PRIMARY KEY,
                \(columns.joined(separator: ",\n")),
                    created_import  INTEGER NOT NULL,
                    modified_import INTEGER NOT NULL
                ) WITHOUT ROWID;
                """
        }.joined(separator: "\n")
    }
}

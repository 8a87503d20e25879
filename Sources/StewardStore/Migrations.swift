/// The store's schema, as numbered migrations. Each runs once, in order, in its own transaction,
/// and leaves `PRAGMA user_version` at its number. A migration is never edited after release:
/// changes come as a new one at the end.
enum Migrations {
    static let all: [String] = [
        // 1: the tamper-evident audit chain and the daemon's own settings.
        """
        CREATE TABLE audit_log (
            seq        INTEGER PRIMARY KEY,
            at         TEXT    NOT NULL,
            uid        INTEGER,
            pid        INTEGER,
            role       TEXT,
            method     TEXT    NOT NULL,
            target     TEXT,
            outcome    TEXT    NOT NULL,
            detail     TEXT,
            prev_hash  BLOB    NOT NULL,
            hash       BLOB    NOT NULL
        );
        CREATE INDEX audit_log_at ON audit_log(at);
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TABLE settings (
            key    TEXT PRIMARY KEY,
            value  TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ]

    /// The schema version this build of Steward writes.
    static var latest: Int { all.count }
}

/// The store's schema, as numbered migrations. Each runs once, in order, in its own transaction,
/// and leaves `PRAGMA user_version` at its number. A migration is never edited after release:
/// changes come as a new one at the end.
enum Migrations {
    static let all: [String] = [migration1, migration2, migration3, migration4, migration5, migration6, migration7, migration8, migration9]

    static let migration1 =
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
        """

    // 2: the roster, and the record of every import with its findings and change set.
    static let migration2 = RosterTables.createStatements() + "\n"
        + RosterTables.indexes.map { $0.sql + ";" }.joined(separator: "\n") + """

        CREATE TABLE imports (
            id              INTEGER PRIMARY KEY,
            started_at      TEXT    NOT NULL,
            finished_at     TEXT    NOT NULL,
            source          TEXT    NOT NULL,
            oneroster       TEXT    NOT NULL DEFAULT '',
            verdict         TEXT    NOT NULL,
            roster_version  INTEGER NOT NULL,
            errors          INTEGER NOT NULL,
            warnings        INTEGER NOT NULL,
            report          TEXT    NOT NULL,
            held_copy       TEXT
        );
        CREATE TABLE import_findings (
            import_id  INTEGER NOT NULL REFERENCES imports(id),
            seq        INTEGER NOT NULL,
            severity   TEXT    NOT NULL,
            code       TEXT    NOT NULL,
            file       TEXT    NOT NULL,
            line       INTEGER NOT NULL,
            col        INTEGER NOT NULL,
            message    TEXT    NOT NULL,
            PRIMARY KEY (import_id, seq)
        ) WITHOUT ROWID;
        CREATE TABLE import_changes (
            import_id  INTEGER NOT NULL REFERENCES imports(id),
            entity     TEXT    NOT NULL,
            sourced_id TEXT    NOT NULL,
            kind       TEXT    NOT NULL CHECK (kind IN ('added', 'changed', 'removed')),
            fields     TEXT    NOT NULL DEFAULT '',
            PRIMARY KEY (import_id, entity, sourced_id)
        ) WITHOUT ROWID;
        """

    // 3: partners' last known states (so an expiry is audited once, across restarts) and the
    // Library adoptions teachers make.
    static let migration3 = """
        CREATE TABLE partner_states (
            partner  TEXT PRIMARY KEY,
            state    TEXT NOT NULL,
            since    TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE library_adoptions (
            partner     TEXT    NOT NULL,
            section     TEXT    NOT NULL,
            teacher     TEXT    NOT NULL,
            adopted_at  TEXT    NOT NULL,
            adopted_by  INTEGER,
            PRIMARY KEY (partner, section, teacher)
        ) WITHOUT ROWID;
        """

    // 4: partners' OAuth client credentials (the secret only as a salted PBKDF2 hash), the
    // access tokens issued to them (only as SHA-256 hashes), the record of disclosures (one row
    // per person, partner and day, with the fields sent), and the pseudonymous ids each partner
    // was handed, so it can ask for a record by the id it holds.
    static let migration4 = """
        CREATE TABLE partner_credentials (
            partner     TEXT    PRIMARY KEY,
            client_id   TEXT    NOT NULL UNIQUE,
            salt        BLOB    NOT NULL,
            hash        BLOB    NOT NULL,
            iterations  INTEGER NOT NULL,
            created_at  TEXT    NOT NULL,
            created_by  INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE access_tokens (
            token_hash  BLOB    PRIMARY KEY,
            partner     TEXT    NOT NULL,
            scopes      TEXT    NOT NULL,
            issued_at   TEXT    NOT NULL,
            expires_at  TEXT    NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX access_tokens_partner ON access_tokens(partner);
        CREATE TABLE disclosures (
            person      TEXT    NOT NULL,
            partner     TEXT    NOT NULL,
            day         TEXT    NOT NULL,
            kind        TEXT    NOT NULL,
            fields      TEXT    NOT NULL,
            first_at    TEXT    NOT NULL,
            last_at     TEXT    NOT NULL,
            responses   INTEGER NOT NULL,
            PRIMARY KEY (person, partner, day)
        ) WITHOUT ROWID;
        CREATE TABLE pseudonyms (
            partner     TEXT NOT NULL,
            pseudonym   TEXT NOT NULL,
            kind        TEXT NOT NULL,
            sourced_id  TEXT NOT NULL,
            PRIMARY KEY (partner, pseudonym)
        ) WITHOUT ROWID;
        """

    // 5: a changed or removed record's columns as they were before the import (a JSON object), so
    // a partner's change feed can say what a granted field was before. Blanked 30 days after
    // the import (ChangeRecords.forgetPrevious, run by the daemon every ten minutes).
    static let migration5 = """
        ALTER TABLE import_changes ADD COLUMN previous TEXT NOT NULL DEFAULT '';
        """

    // 6: no index of the pseudonymous ids handed out: an id a partner asks for is found among
    // its view's members in id order, and indexing every id sent cost a random insert per
    // record on every sync.
    static let migration6 = """
        DROP TABLE pseudonyms;
        """

    // 7: each disclosure row also names the roster version its answer was read from, so a
    // change feed knows exactly which state of a person a partner was sent (a day's row no
    // longer mixes sends from before and after an import); and a partner's rows by version,
    // for the start of its feed (its first sync).
    static let migration7 = """
        CREATE TABLE disclosures_by_version (
            person          TEXT    NOT NULL,
            partner         TEXT    NOT NULL,
            day             TEXT    NOT NULL,
            roster_version  INTEGER NOT NULL,
            kind            TEXT    NOT NULL,
            fields          TEXT    NOT NULL,
            first_at        TEXT    NOT NULL,
            last_at         TEXT    NOT NULL,
            responses       INTEGER NOT NULL,
            PRIMARY KEY (person, partner, day, roster_version)
        ) WITHOUT ROWID;
        INSERT INTO disclosures_by_version
            SELECT person, partner, day, 0, kind, fields, first_at, last_at, responses FROM disclosures;
        DROP TABLE disclosures;
        ALTER TABLE disclosures_by_version RENAME TO disclosures;
        CREATE INDEX disclosures_partner_version ON disclosures(partner, roster_version);
        """

    // 8: the enrollments-by-person index also holds each enrollment's class and the import that
    // last changed it, so a page of persons finds their classes and versions in the index alone.
    static let migration8 = "DROP INDEX IF EXISTS roster_enrollments_user;\n"
        + RosterTables.indexes.first { $0.name == "roster_enrollments_user" }!.sql + ";"

    // 9: where a partner's feed starts (the roster version it was first sent anything from) is
    // kept in a row per partner, written with its disclosures, instead of an index over every
    // disclosure row by partner that each page of a sync had to extend.
    static let migration9 = """
        CREATE TABLE disclosure_starts (
            partner         TEXT PRIMARY KEY,
            roster_version  INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO disclosure_starts SELECT partner, min(roster_version) FROM disclosures GROUP BY partner;
        DROP INDEX disclosures_partner_version;
        """

    /// The schema version this build of Steward writes.
    static var latest: Int { all.count }
}

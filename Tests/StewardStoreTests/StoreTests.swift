import Foundation
import StewardCore
import StewardHarness
import StewardStore
import Testing

/// A fresh state directory per test.
func temporaryDirectory() -> String {
    let path = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-store-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct StoreTests {
    @Test func opensWithWALForeignKeysSecureDeleteAndFullSync() throws {
        let store = try Store(stateDirectory: temporaryDirectory())
        defer { store.close() }
        let pragmas = try store.write { db throws(StewardError) in
            [try db.scalarText("PRAGMA journal_mode"), try db.scalarInt("PRAGMA foreign_keys").map(String.init),
             try db.scalarInt("PRAGMA secure_delete").map(String.init), try db.scalarInt("PRAGMA synchronous").map(String.init)]
        }
        #expect(pragmas == ["wal", "1", "1", "2"])
        #expect(try store.currentSchemaVersion() == Store.schemaVersion)
    }

    /// Without a checkpoint the WAL would hold every one of these commits (150 MiB); the
    /// writer has it checkpointed once it passes `checkpointFrames`, and then reuses it.
    @Test func theWriterHasTheWALCheckpointedAsItGrows() throws {
        let directory = temporaryDirectory()
        let store = try Store(stateDirectory: directory)
        defer { store.close() }
        try store.write { db throws(StewardError) in try db.execute("CREATE TABLE filler (data BLOB)") }
        var largest: UInt64 = 0
        for _ in 0..<150 {
            try store.write { db throws(StewardError) in try db.execute("INSERT INTO filler VALUES (randomblob(1048576))") }
            let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/steward.db-wal")[.size] as? UInt64) ?? 0
            largest = max(largest, size)
        }
        #expect(largest > 16 << 20, "the writes went through the WAL")
        #expect(largest < 100 << 20, "the WAL reached \(largest >> 20) MiB")
        let rows = try store.read { db throws(StewardError) in try db.scalarInt("SELECT count(*) FROM filler") }
        #expect(rows == 150)
    }

    @Test func reopeningRunsNoMigrationTwiceAndKeepsData() throws {
        let directory = temporaryDirectory()
        let first = try Store(stateDirectory: directory)
        try first.audit(AuditEvent(method: "test.one", outcome: "ok"))
        first.close()
        let second = try Store(stateDirectory: directory)
        defer { second.close() }
        #expect(try second.auditEntryCount() == 1)
        #expect(try second.verifyAudit().isIntact)
    }

    @Test func aSecondStoreOnTheSameDirectoryIsRefused() throws {
        let directory = temporaryDirectory()
        let first = try Store(stateDirectory: directory)
        defer { first.close() }
        #expect { try Store(stateDirectory: directory) } throws: { ($0 as? StewardError)?.code == .stateDirectoryInUse }
    }

    @Test func aDatabaseFromANewerSchemaIsRefusedNotRecreated() throws {
        let directory = temporaryDirectory()
        let store = try Store(stateDirectory: directory)
        try store.write { db throws(StewardError) in try db.execute("PRAGMA user_version=999") }
        store.close()
        #expect { try Store(stateDirectory: directory) } throws: { ($0 as? StewardError)?.code == .storeTooNew }
    }

    @Test func aDamagedDatabaseIsRefusedAndLeftAsItWas() throws {
        let directory = temporaryDirectory()
        let garbage = Data(repeating: 0x5a, count: 8192)
        try garbage.write(to: URL(fileURLWithPath: directory + "/steward.db"))
        #expect { try Store(stateDirectory: directory) } throws: { ($0 as? StewardError)?.code == .storeCorrupt }
        #expect(FileManager.default.contents(atPath: directory + "/steward.db") == garbage)
    }

    @Test func settingsPersistWithTheirAuditEntry() throws {
        let store = try Store(stateDirectory: temporaryDirectory())
        defer { store.close() }
        try store.setSetting("sharing.paused", to: "0 now", audit: AuditEvent(method: "test.pause", outcome: "ok"))
        #expect(try store.setting("sharing.paused") == "0 now")
        #expect(try store.auditEntries(since: nil, limit: 10).map(\.event.method) == ["test.pause"])
        try store.setSetting("sharing.paused", to: nil, audit: AuditEvent(method: "test.resume", outcome: "ok"))
        #expect(try store.setting("sharing.paused") == nil)
    }
}

@Suite struct JSONTextTests {
    @Test func arraysOfTextsAreJSONThatSQLiteAndFoundationReadBack() throws {
        let values = ["plain", "quote \" and \\ backslash", "tab\tnewline\n\u{1}", "Zoë 学生 🎒", ""]
        let text = JSONText.array(values)
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] == values)
        let rows = JSONText.array([values, ["a"]])
        #expect(try JSONSerialization.jsonObject(with: Data(rows.utf8)) as? [[String]] == [values, ["a"]])
        #expect(JSONText.array([String]()) == "[]")
        // The store reads them with json_each as they were written.
        let store = try Store(stateDirectory: temporaryDirectory())
        defer { store.close() }
        let read = try store.read { db throws(StewardError) in
            let query = try db.prepare("SELECT value FROM json_each(?) ORDER BY key")
            try query.bind([.text(text)])
            var read: [String] = []
            while try query.step() { read.append(query.text(0) ?? "") }
            return read
        }
        #expect(read == values)
    }
}

@Suite struct DisclosureRecordTests {
    /// Runs `sql` on the store's database with the sqlite3 shell, as an auditor or an operator would.
    static func shell(_ directory: String, _ sql: String) throws -> String {
        let result = try runCommand("/usr/bin/sqlite3", [directory + "/steward.db", sql])
        #expect(result.status == 0, "sqlite3 \(sql): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The rows of `disclosures`, one line each.
    static func rows(_ directory: String) throws -> [String] {
        try shell(directory, "SELECT person, partner, day, roster_version, kind, fields, first_at, last_at, responses FROM disclosures ORDER BY person, roster_version")
            .split(separator: "\n").map(String.init)
    }

    @Test func aDaysRowPerPersonGathersEveryFieldSentAndCountsTheResponses() throws {
        let directory = temporaryDirectory()
        let store = try Store(stateDirectory: directory)
        let morning = Date(timeIntervalSince1970: 1_795_913_600)  // 2026-11-29T00:53:20Z
        let noon = morning.addingTimeInterval(11 * 3600)
        try store.write { db throws(StewardError) in
            try DisclosureRecords.record(partner: "gradebook", persons: [("stu-1", "student"), ("stu-2", "student")],
                                         fields: ["given_name", "grade"], at: morning, rosterVersion: 3, db: db)
            try DisclosureRecords.record(partner: "gradebook", persons: [("stu-2", "student"), ("tea-1", "teacher")],
                                         fields: ["email", "grade", "sections"], at: noon, rosterVersion: 3, db: db)
            // The same fields again change only the time and the count.
            try DisclosureRecords.record(partner: "gradebook", persons: [("stu-1", "student")],
                                         fields: ["grade", "given_name"], at: noon, rosterVersion: 3, db: db)
            // Another roster version is a row of its own.
            try DisclosureRecords.record(partner: "gradebook", persons: [("stu-1", "student")], fields: ["email"], at: noon,
                                         rosterVersion: 4, db: db)
        }
        store.close()
        #expect(try Self.rows(directory) == [
            "stu-1|gradebook|2026-11-29|3|student|given_name grade|2026-11-29T00:53:20.000Z|2026-11-29T11:53:20.000Z|2",
            "stu-1|gradebook|2026-11-29|4|student|email|2026-11-29T11:53:20.000Z|2026-11-29T11:53:20.000Z|1",
            "stu-2|gradebook|2026-11-29|3|student|email given_name grade sections|2026-11-29T00:53:20.000Z|2026-11-29T11:53:20.000Z|2",
            "tea-1|gradebook|2026-11-29|3|teacher|email grade sections|2026-11-29T11:53:20.000Z|2026-11-29T11:53:20.000Z|1",
        ])
    }
}

extension DisclosureRecordTests {
    @Test func whereAPartnersFeedStartsIsKeptWithItsDisclosuresAndCarriedOverByMigration9() throws {
        let directory = temporaryDirectory()
        var store = try Store(stateDirectory: directory)
        try store.write { db throws(StewardError) in
            for (partner, version) in [("gradebook", Int64(5)), ("gradebook", 3), ("gradebook", 4), ("homework", 7)] {
                try DisclosureRecords.record(partner: partner, persons: [("stu-1", "student")], fields: ["given_name"],
                                             rosterVersion: version, db: db)
            }
        }
        func firsts() throws -> [Int64?] {
            try store.read { db throws(StewardError) in
                [try DisclosureRecords.firstVersion(sentTo: "gradebook", db: db), try DisclosureRecords.firstVersion(sentTo: "homework", db: db),
                 try DisclosureRecords.firstVersion(sentTo: "never", db: db)]
            }
        }
        #expect(try firsts() == [3, 7, nil])
        store.close()
        // A store of schema 8: no starts table, the index by partner and version.
        _ = try Self.shell(directory, """
            DROP TABLE disclosure_starts; CREATE INDEX disclosures_partner_version ON disclosures(partner, roster_version);
            PRAGMA user_version=8;
            """)
        store = try Store(stateDirectory: directory)
        defer { store.close() }
        #expect(try store.currentSchemaVersion() == Store.schemaVersion)
        #expect(try firsts() == [3, 7, nil])
        #expect(try Self.shell(directory, "SELECT count(*) FROM sqlite_master WHERE name = 'disclosures_partner_version'") == "0")
    }
}

@Suite struct RosterViewReaderTests {
    /// Students and teachers whose ids interleave (as a SIS's GUIDs do): a page of one role read
    /// in order is completed from the stretch of ids it spans, and must take only its own
    /// persons' enrollments and demographics, exactly as reading them by id does.
    @Test func aPageReadAsAStretchOfIdsTakesOnlyItsOwnPersonsRows() throws {
        let store = try Store(stateDirectory: temporaryDirectory())
        defer { store.close() }
        let roles = ["a1": "student", "a2": "teacher", "a3": "student", "a4": "guardian", "a5": "teacher", "a6": "student"]
        try store.write { db throws(StewardError) in
            for (id, role) in roles {
                try db.prepare("INSERT INTO roster_users (\"sourcedId\", \"role\", \"givenName\", created_import, modified_import) VALUES (?, ?, ?, 1, 1)")
                    .run([.text(id), .text(role), .text("Name \(id)")])
            }
            for (index, section) in ["c1", "c2", "c3"].enumerated() {
                try db.prepare("INSERT INTO roster_classes (\"sourcedId\", \"schoolSourcedId\", \"grades\", created_import, modified_import) VALUES (?, 's1', ?, 1, 1)")
                    .run([.text(section), .text(index == 0 ? "03" : "04,05")])
            }
            // Every person in every class but a4; each enrollment of its own version.
            var version: Int64 = 2
            for id in roles.keys.sorted() where id != "a4" {
                for section in ["c1", "c2", "c3"] where !(id == "a3" && section == "c2") {
                    try db.prepare("INSERT INTO roster_enrollments (\"sourcedId\", \"classSourcedId\", \"userSourcedId\", created_import, modified_import) VALUES (?, ?, ?, 1, ?)")
                        .run([.text("e-\(id)-\(section)"), .text(section), .text(id), .int(version)])
                    version += 1
                }
                try db.prepare("INSERT INTO roster_demographics (\"sourcedId\", \"sex\", created_import, modified_import) VALUES (?, 'F', 1, ?)")
                    .run([.text(id), .int(id == "a2" ? 99 : 5)])
            }
        }
        try store.read { db throws(StewardError) in
            let reader = RosterViewReader(db: db, fields: Set(FieldCatalogue.all))
            for role in ["student", "teacher"] {
                let paged = try reader.people(roles: [role], sections: nil, after: nil, limit: 10, modifiedSince: nil)
                let byId = try reader.people(ids: paged.map(\.sourcedId), scopeOnly: false)
                #expect(paged.map(\.sourcedId) == roles.filter { $0.value == role }.keys.sorted())
                #expect(paged == byId.sorted { $0.sourcedId < $1.sourcedId }, "\(role)")
                #expect(paged.allSatisfy { $0.sections.count == ($0.sourcedId == "a3" ? 2 : 3) })
            }
            let students = try reader.people(roles: ["student"], sections: nil, after: nil, limit: 10, modifiedSince: nil)
            // a2 (a teacher between them) has the newest demographics: no student takes its version.
            #expect(students.map(\.modifiedImport) == [5, 9, 15])
        }
    }
}

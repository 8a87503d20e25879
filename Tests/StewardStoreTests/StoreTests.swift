import Foundation
import StewardCore
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

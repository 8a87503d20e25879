import Foundation
import StewardCore
import StewardStore
import Testing

@Suite struct AuditChainTests {
    /// A store with `count` entries.
    func storeWithEntries(_ count: Int) throws -> Store {
        let store = try Store(stateDirectory: temporaryDirectory())
        for index in 1...count {
            try store.audit(AuditEvent(uid: 1000, pid: 42, role: "operator", method: "test.method",
                                       target: "target-\(index)", outcome: "ok", detail: "n=\(index)"))
        }
        return store
    }

    @Test func eachEntryLinksToThePreviousOne() throws {
        let store = try storeWithEntries(5)
        defer { store.close() }
        let entries = try store.auditEntries(since: nil, limit: 100)
        #expect(entries.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(entries[0].previousHash == AuditEntry.genesisHash)
        for (previous, next) in zip(entries, entries.dropFirst()) {
            #expect(next.previousHash == previous.hash)
        }
        let verification = try store.verifyAudit()
        #expect(verification.isIntact)
        #expect(verification.headSeq == 5)
        #expect(verification.headHash == entries[4].hash)
    }

    @Test func theTableRefusesUpdatesAndDeletes() throws {
        let store = try storeWithEntries(2)
        defer { store.close() }
        #expect(throws: StewardError.self) {
            try store.write { db throws(StewardError) in try db.execute("UPDATE audit_log SET outcome='x' WHERE seq=1") }
        }
        #expect(throws: StewardError.self) {
            try store.write { db throws(StewardError) in try db.execute("DELETE FROM audit_log WHERE seq=1") }
        }
        #expect(try store.verifyAudit().isIntact)
    }

    @Test func anEditedEntryIsNamedAsTheFirstBreak() throws {
        let store = try storeWithEntries(5)
        defer { store.close() }
        try store.write { db throws(StewardError) in
            try db.execute("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail='n=99' WHERE seq=3")
        }
        let verification = try store.verifyAudit()
        #expect(verification.firstBreak?.seq == 3)
        #expect(verification.firstBreak?.reason.contains("edited") == true)
        #expect(verification.entriesChecked == 2)
    }

    @Test func aDeletedEntryIsNamed() throws {
        let store = try storeWithEntries(5)
        defer { store.close() }
        try store.write { db throws(StewardError) in
            try db.execute("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq=2")
        }
        let verification = try store.verifyAudit()
        #expect(verification.firstBreak?.seq == 3)
        #expect(verification.firstBreak?.reason.contains("missing") == true)
    }

    @Test func aRehashedEntryBreaksTheNextLink() throws {
        let store = try storeWithEntries(4)
        defer { store.close() }
        // A forger who recomputes entry 2's own hash still breaks entry 3's link to it.
        let entry = try #require(store.auditEntries(since: nil, limit: 10).first { $0.seq == 2 })
        var forged = entry.event
        forged.outcome = "refused"
        let hash = AuditEntry.hash(seq: 2, at: entry.at, event: forged, previousHash: entry.previousHash)
        try store.write { db throws(StewardError) in
            try db.execute("DROP TRIGGER audit_log_no_update")
            try db.prepare("UPDATE audit_log SET outcome='refused', hash=? WHERE seq=2").run([.blob(hash)])
        }
        #expect(try store.verifyAudit().firstBreak?.seq == 3)
    }

    @Test func sinceSelectsEntriesAtOrAfterATime() throws {
        let store = try storeWithEntries(3)
        defer { store.close() }
        let all = try store.auditEntries(since: nil, limit: 10)
        #expect(try store.auditEntries(since: "2000-01-01", limit: 10).count == 3)
        #expect(try store.auditEntries(since: "2999-01-01", limit: 10).isEmpty)
        #expect(try store.auditEntries(since: String(all[1].at.dropLast()), limit: 10).first?.seq ?? 0 <= 2)
        #expect(try store.auditEntries(since: nil, afterSeq: 1, limit: 1).map(\.seq) == [2])
    }

    @Test func theHashCoversEveryField() {
        let base = AuditEvent(uid: 1, pid: 2, role: "auditor", method: "m", target: "t", outcome: "ok", detail: "d")
        let hash = AuditEntry.hash(seq: 1, at: "2026-01-01T00:00:00.000Z", event: base, previousHash: AuditEntry.genesisHash)
        var variants: [AuditEvent] = []
        for change in 0..<7 {
            var event = base
            switch change {
            case 0: event.uid = 3
            case 1: event.pid = nil
            case 2: event.role = "admin"
            case 3: event.method = "n"
            case 4: event.target = nil
            case 5: event.outcome = "refused"
            default: event.detail = "d "
            }
            variants.append(event)
        }
        for event in variants {
            #expect(AuditEntry.hash(seq: 1, at: "2026-01-01T00:00:00.000Z", event: event, previousHash: AuditEntry.genesisHash) != hash)
        }
        #expect(AuditEntry.hash(seq: 2, at: "2026-01-01T00:00:00.000Z", event: base, previousHash: AuditEntry.genesisHash) != hash)
    }
}

import Foundation
import StewardCore
import StewardStore
import Testing

/// The index of pseudonymous ids handed to partners keeps only what the roster still holds,
/// and nothing of a removed partner.
@Suite struct PseudonymIndexTests {
    @Test func removedRecordsAndRemovedPartnersAreForgotten() throws {
        let store = try Store(stateDirectory: temporaryDirectory())
        defer { store.close() }
        try store.write { db throws(StewardError) in
            try db.execute("""
                INSERT INTO roster_users ("sourcedId", created_import, modified_import) VALUES ('stu-1', 1, 1), ('stu-2', 1, 1);
                """)
            try PseudonymIndex.record(partner: "alpha", entries: [("p1", "stu-1", "student"), ("p2", "stu-2", "student")], db: db)
            try PseudonymIndex.record(partner: "beta", entries: [("q1", "stu-1", "student")], db: db)
            // stu-2 leaves the roster.
            try db.execute("DELETE FROM roster_users WHERE \"sourcedId\" = 'stu-2'")
            try PseudonymIndex.purge(db: db)
        }
        try store.read { db throws(StewardError) in
            #expect(try PseudonymIndex.resolve(partner: "alpha", pseudonym: "p1", db: db)?.sourcedId == "stu-1")
            #expect(try PseudonymIndex.resolve(partner: "alpha", pseudonym: "p2", db: db) == nil, "a removed student's id is forgotten")
        }
        try store.write { db throws(StewardError) in try PseudonymIndex.purge(partner: "beta", db: db) }
        try store.read { db throws(StewardError) in
            #expect(try PseudonymIndex.resolve(partner: "beta", pseudonym: "q1", db: db) == nil, "a removed partner's ids are forgotten")
            #expect(try PseudonymIndex.resolve(partner: "alpha", pseudonym: "p1", db: db) != nil)
        }
    }
}

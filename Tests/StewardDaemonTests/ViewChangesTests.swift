import ConnectorKit
import Foundation
@testable import StewardDaemon
import StewardCore
import StewardHarness
import StewardCrypto
import StewardIngest
import StewardStore
import Testing

// Paging by id and the change feed of `ConnectorSharedView`, over a real store: a synthetic
// district imported, then its delta (students arrive and leave, family names change, sections
// move room), judged through a partner's grant.

extension ConnectorViewDistrict {
    /// Imports the delta of the district made with `students` and `seed`.
    func importDelta(students: Int, seed: UInt64) throws {
        let drop = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-connector-delta-\(UUID().uuidString)"
        try writeSyntheticDrop(SyntheticDistrict.Options(students: students, seed: seed, mode: .delta), to: drop)
        let report = RosterImporter(store: store).run(
            path: drop, options: ImportOptions(source: drop, auditCaller: AuditEvent(method: "test.import", outcome: "")))
        try #require(report.verdict == .applied)
    }

    /// Records that `partner` was sent `fields` of every person of `roles`, now: a full sync.
    func recordSync(_ partner: String, roles: [String] = ["student", "teacher"],
                    fields: Set<String> = ["given_name", "family_initial", "grade", "school", "sections"]) throws {
        let persons = try rows("SELECT \"sourcedId\", role FROM roster_users WHERE role IN ('\(roles.joined(separator: "', '"))')")
            .map { (sourcedId: $0[0], kind: $0[1]) }
        try store.write { db throws(StewardError) in
            let version = try db.scalarInt("SELECT coalesce(max(roster_version), 0) FROM imports WHERE verdict = 'applied'") ?? 0
            try DisclosureRecords.record(partner: partner, persons: persons, fields: fields, at: Date(), rosterVersion: version, db: db)
        }
    }

    /// Rows of `sql`, each as its text columns.
    func rows(_ sql: String) throws -> [[String]] {
        try store.read { db throws(StewardError) in
            let query = try db.prepare(sql)
            var rows: [[String]] = []
            while try query.step() { rows.append((0..<query.columnCount).map { query.text($0) ?? "" }) }
            return rows
        }
    }
}

@Suite(.serialized) struct ViewChangesTests {
    static func bytesLess(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

    @Test func idPagesAreAscendingCompleteAndWalkBothWays() throws {
        let district = try ConnectorViewDistrict(students: 300, seed: 11)
        let view = try district.view("clever", grant: "Fields=given_name grade school sections\nRoles=student teacher")
        var random = SplitMix64(seed: 3)
        for kind in [SharedRecordKind.student, .teacher, .section] {
            var cursors: [SharedViewCursor] = []
            let expected = try ConnectorSharedViewTests.readAll(view, kind, random: &random, cursors: &cursors).map(\.id).sorted(by: Self.bytesLess)
            #expect(expected.count > 5)
            var forward: [String] = []
            var after: String?
            while true {
                let page = try view.idPage(SharedViewIdRequest(kind: kind, after: after, limit: Int.random(in: 1...37, using: &random)))
                #expect(page.total == expected.count)
                #expect(page.hasMoreBefore == !forward.isEmpty)
                forward += page.records.map(\.id)
                after = page.records.last?.id
                if !page.hasMoreAfter { break }
            }
            #expect(forward == expected, "\(kind): forward paging gives every id once, ascending")
            var backward: [String] = []
            var before = "g"  // above every hexadecimal pseudonym
            while true {
                let page = try view.idPage(SharedViewIdRequest(kind: kind, before: before, limit: Int.random(in: 1...37, using: &random)))
                backward.insert(contentsOf: page.records.map(\.id), at: 0)
                guard page.hasMoreBefore, let first = page.records.first?.id else { break }
                before = first
            }
            #expect(backward == expected, "\(kind): backward paging gives the same ids")
            // An id between two members starts the next page after it.
            let middle = expected[expected.count / 2]
            let page = try view.idPage(SharedViewIdRequest(kind: kind, after: middle, limit: 2))
            #expect(page.records.map(\.id) == Array(expected[(expected.count / 2 + 1)...].prefix(2)))
        }
    }

    @Test func theFeedShowsWhatTheDeltaChangedInTheView() throws {
        let district = try ConnectorViewDistrict(students: 400, seed: 21)
        // Nothing has changed since the first load, which the feed leaves to the data API.
        let grant = "Fields=given_name family_initial grade school sections\nRoles=student teacher"
        #expect(try district.view("clever", grant: grant).changes(SharedViewChangeRequest(limit: 100)).changes.isEmpty)
        // Both partners synced before the delta.
        try district.recordSync("clever")
        try district.recordSync("readers")
        try district.importDelta(students: 400, seed: 21)
        // As if "clever" had never been sent one of the students the delta renamed.
        let unsent = try #require(try district.rows("""
            SELECT c.sourced_id FROM import_changes c JOIN roster_users u ON u."sourcedId" = c.sourced_id
            WHERE c.import_id = 2 AND c.entity = 'users' AND c.kind = 'changed' AND u.role = 'student'
            AND substr(json_extract(c.previous, '$.familyName'), 1, 1) <> substr(u."familyName", 1, 1)
            ORDER BY c.sourced_id LIMIT 1
            """).first?.first)
        try district.store.write { db throws(StewardError) in
            try db.prepare("DELETE FROM disclosures WHERE person = ? AND partner = 'clever'").run([.text(unsent)])
        }
        let view = try district.view("clever", grant: grant)
        let secret = district.secret
        func id(_ sourcedId: String) -> String { secret.pseudonym(partner: "clever", sourcedId: sourcedId) }

        let all = try view.changes(SharedViewChangeRequest(limit: 10_000))
        #expect(!all.hasMoreAfter)
        let ids = all.changes.map(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count, "change ids ascend and are unique")
        let byRecord = Dictionary(all.changes.map { ($0.record.id, $0) }, uniquingKeysWith: { first, _ in first })

        // Students who arrived: created, with their record as the view holds it now.
        let arrived = try district.rows("SELECT \"sourcedId\" FROM roster_users WHERE created_import = 2 AND role IN ('student', 'teacher')").map { $0[0] }
        #expect(!arrived.isEmpty)
        for sourcedId in arrived {
            let change = try #require(byRecord[id(sourcedId)])
            #expect(change.action == .created && change.record.fields["given_name"] != nil)
        }
        // Students who left: deleted, with their id only.
        let left = try district.rows("SELECT sourced_id FROM import_changes WHERE import_id = 2 AND entity = 'users' AND kind = 'removed' AND json_extract(previous, '$.role') = 'student'").map { $0[0] }
        #expect(!left.isEmpty)
        for sourcedId in left {
            let change = try #require(byRecord[id(sourcedId)])
            #expect(change.action == .deleted && change.record.fields.isEmpty && change.record.kind == .student)
        }
        // Family names that changed: an update only when the initial, the granted part, did.
        let renamed = try district.rows("""
            SELECT c.sourced_id, json_extract(c.previous, '$.familyName'), u."familyName" FROM import_changes c
            JOIN roster_users u ON u."sourcedId" = c.sourced_id WHERE c.import_id = 2 AND c.entity = 'users' AND c.kind = 'changed'
            """)
        #expect(!renamed.isEmpty)
        for row in renamed {
            let change = byRecord[id(row[0])]
            if row[0] == unsent {
                // Never sent: created, with nothing of what the record was before.
                #expect(change?.action == .created && change?.previous == nil, "\(String(describing: change))")
            } else if row[1].prefix(1).uppercased() == row[2].prefix(1).uppercased() {
                #expect(change == nil, "a change to a withheld field is no change to the view")
            } else {
                let change = try #require(change)
                #expect(change.action == .updated)
                #expect(change.previous?.fields["family_initial"] == .text(row[1].prefix(1).uppercased()))
                #expect(change.record.fields["family_initial"] == .text(row[2].prefix(1).uppercased()))
            }
        }
        // Sections that moved room: updated, with the room before.
        let moved = try district.rows("""
            SELECT c.sourced_id, json_extract(c.previous, '$.location'), s.location FROM import_changes c
            JOIN roster_classes s ON s."sourcedId" = c.sourced_id WHERE c.import_id = 2 AND c.entity = 'classes' AND c.kind = 'changed'
            """)
        #expect(!moved.isEmpty)
        for row in moved {
            let change = try #require(byRecord[id(row[0])])
            #expect(change.action == .updated && change.record.kind == .section)
            #expect(change.previous?.fields["location"] == (row[1].isEmpty ? nil : .text(row[1])))
            #expect(change.record.fields["location"] == .text(row[2]))
        }
        // Every change carries the import's time.
        #expect(Set(all.changes.map(\.at)).count == 1)

        // Small pages, forward then backward, give the same feed; a kind filter narrows it.
        var forward: [String] = []
        var after: String?
        repeat {
            let page = try view.changes(SharedViewChangeRequest(after: after, limit: 7))
            forward += page.changes.map(\.id)
            after = page.changes.last?.id
            if !page.hasMoreAfter { break }
        } while true
        #expect(forward == ids)
        var backward: [String] = []
        var before = "ffffffffffffffffffffffff"
        repeat {
            let page = try view.changes(SharedViewChangeRequest(before: before, limit: 5))
            backward.insert(contentsOf: page.changes.map(\.id), at: 0)
            guard page.hasMoreBefore, let first = page.changes.first?.id else { break }
            before = first
        } while true
        #expect(backward == ids)
        let sections = try view.changes(SharedViewChangeRequest(limit: 10_000, kinds: [.section])).changes
        #expect(!sections.isEmpty && sections.allSatisfy { $0.record.kind == .section })
        #expect(sections.count == all.changes.filter { $0.record.kind == .section }.count)
        // One change by its id; a made-up id is none.
        let sample = try #require(all.changes.first)
        #expect(try view.change(id: sample.id) == sample)
        #expect(try view.change(id: "00000002ffffffffffffffff") == nil)
        #expect(throws: SharedViewError.self) { _ = try view.changes(SharedViewChangeRequest(after: "not-a-change-id")) }

        // Another partner's change ids for the same records differ: nothing to join on.
        let other = try district.view("readers", grant: grant).changes(SharedViewChangeRequest(limit: 10_000))
        #expect(Set(other.changes.map(\.id)).isDisjoint(with: Set(ids)))
    }

    @Test func aGrantWithoutAFieldNeverShowsItsChange() throws {
        let district = try ConnectorViewDistrict(students: 300, seed: 31)
        try district.recordSync("narrow", roles: ["student"])
        try district.importDelta(students: 300, seed: 31)
        // Only given names and grades: family names and rooms changed, neither is in this view.
        let view = try district.view("narrow", grant: "Fields=given_name grade\nRoles=student")
        let changes = try view.changes(SharedViewChangeRequest(limit: 10_000)).changes
        #expect(changes.allSatisfy { $0.action != .updated }, "no granted field changed")
        #expect(changes.contains { $0.action == .created } && changes.contains { $0.action == .deleted })
        #expect(changes.allSatisfy { $0.record.kind == .student })
    }
}

extension ViewChangesTests {
    @Test func aPartnerFirstSentDataAfterAnImportGetsNoChangesOfIt() throws {
        let district = try ConnectorViewDistrict(students: 300, seed: 41)
        try district.importDelta(students: 300, seed: 41)
        let view = try district.view("late", grant: "Fields=given_name family_initial grade\nRoles=student")
        #expect(try view.changes(SharedViewChangeRequest(limit: 10_000)).changes.isEmpty, "never sent anything: no feed")
        try district.recordSync("late", roles: ["student"])
        #expect(try view.changes(SharedViewChangeRequest(limit: 10_000)).changes.isEmpty,
                "its first sync came after the import: what the import changed, it received whole")
    }
}

extension ViewChangesTests {
    @Test func theColumnsBeforeAChangeAreForgottenAfterTheWindow() throws {
        let district = try ConnectorViewDistrict(students: 300, seed: 51)
        try district.importDelta(students: 300, seed: 51)
        let kept = try district.rows("SELECT count(*) FROM import_changes WHERE previous <> ''")
        #expect(Int(kept.first?.first ?? "") ?? 0 > 0)
        // A cutoff after the delta: what it changed is past the window.
        try district.store.write { db throws(StewardError) in
            try ChangeRecords.forgetPrevious(before: Timestamp.string(Date().addingTimeInterval(60)), db: db)
        }
        #expect(try district.rows("SELECT count(*) FROM import_changes WHERE previous <> ''") == [["0"]])
        #expect(try district.rows("SELECT count(*) FROM import_changes") != [["0"]], "the change set itself stays")
    }
}

extension ViewChangesTests {
    @Test func previousValuesAreOnlyThoseOfFieldsThePartnerWasSent() throws {
        let district = try ConnectorViewDistrict(students: 400, seed: 21)
        // Sent only given names, though its grant offers the initial too.
        try district.recordSync("clever", fields: ["given_name"])
        try district.importDelta(students: 400, seed: 21)
        let view = try district.view("clever", grant: "Fields=given_name family_initial grade school sections\nRoles=student teacher")
        let changes = try view.changes(SharedViewChangeRequest(limit: 10_000)).changes
        #expect(changes.contains { $0.action == .created } && changes.contains { $0.action == .deleted })
        #expect(!changes.contains { $0.action == .updated && [.student, .teacher].contains($0.record.kind) },
                "a renamed initial it was never sent is no update it can be told the old value of")
    }
}

extension ViewChangesTests {
    @Test func whatAPartnerWasSentAfterAnImportIsNoKnowledgeOfTheStateBeforeIt() throws {
        let district = try ConnectorViewDistrict(students: 400, seed: 21)
        try district.recordSync("clever", fields: ["given_name"])
        try district.importDelta(students: 400, seed: 21)
        // The same day, after the import: the initials, as they are now.
        try district.recordSync("clever", fields: ["given_name", "family_initial"])
        let view = try district.view("clever", grant: "Fields=given_name family_initial grade school sections\nRoles=student teacher")
        let changes = try view.changes(SharedViewChangeRequest(limit: 10_000)).changes
        #expect(!changes.isEmpty)
        #expect(!changes.contains { $0.previous?.fields["family_initial"] != nil },
                "it was sent the initials after the import, never the ones before it")
        let rows = try district.rows("SELECT DISTINCT roster_version FROM disclosures WHERE partner = 'clever' ORDER BY 1")
        #expect(rows == [["1"], ["2"]], "one row per person, day and roster version")
    }
}

extension ViewChangesTests {
    @Test func aSecondWalkWithTheDaemonsKeptVerdictsFindsTheSameChanges() throws {
        let district = try ConnectorViewDistrict(students: 400, seed: 61)
        try district.recordSync("narrow", roles: ["student"], fields: ["given_name", "grade"])
        try district.importDelta(students: 400, seed: 61)
        let indexes = ViewIndexes()
        let grant = "Fields=given_name grade\nRoles=student"
        func pageThrough() throws -> [String] {
            // A view per request, as the daemon makes; the indexes are the daemon's, shared.
            var ids: [String] = []
            var after: String?
            repeat {
                let page = try district.view("narrow", grant: grant, indexes: indexes).changes(SharedViewChangeRequest(after: after, limit: 5))
                ids += page.changes.map(\.id)
                after = page.changes.last?.id
                if !page.hasMoreAfter { break }
            } while true
            return ids
        }
        let whole = try district.view("narrow", grant: grant).changes(SharedViewChangeRequest(limit: 10_000)).changes.map(\.id)
        #expect(!whole.isEmpty)
        #expect(try pageThrough() == whole)
        #expect(try pageThrough() == whole, "the second walk skips what the first judged no event, and finds the same")
    }
}

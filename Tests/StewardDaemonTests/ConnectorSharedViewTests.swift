import ConnectorKit
import Foundation
@testable import StewardDaemon
import StewardCore
import StewardHarness
import StewardCrypto
import StewardIngest
import StewardStore
import Testing

// The property tests of `StewardCore.SharedView` over a real store live in
// Tests/StewardIngestTests/SharedViewPropertyTests.swift, where the importer is a direct
// dependency. These check the face a connector is handed: `ConnectorSharedView`, whose paging
// cursors are sealed and bound to a partner and a kind.

/// A synthetic district imported into a store in a scratch folder, with its district secret.
final class ConnectorViewDistrict: Sendable {
    let store: Store
    let secret: DistrictSecret
    let sourcedIds: Set<String>

    init(students: Int, seed: UInt64) throws {
        let directory = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-connector-view-\(UUID().uuidString)"
        let drop = directory + "/drop"
        try writeSyntheticDrop(SyntheticDistrict.Options(students: students, seed: seed), to: drop)
        store = try Store(stateDirectory: directory + "/state")
        let report = RosterImporter(store: store).run(
            path: drop, options: ImportOptions(source: drop, auditCaller: AuditEvent(method: "test.import", outcome: "")))
        try #require(report.verdict == .applied)
        secret = try DistrictSecret.loadOrCreate(in: directory + "/state")
        sourcedIds = try store.read { db throws(StewardError) in
            let query = try db.prepare("SELECT \"sourcedId\" FROM roster_users UNION ALL SELECT \"sourcedId\" FROM roster_classes")
            var ids = Set<String>()
            while try query.step() { ids.insert(query.text(0) ?? "") }
            return ids
        }
    }

    deinit { store.close() }

    /// `name`'s view as the daemon builds it, with `grant` lines in its file's [Grant] section.
    func view(_ name: String, type: String = "district", grant: String, adopted: Set<String> = [],
              library: LibrarySettings = LibrarySettings(), secret: DistrictSecret? = nil,
              indexes: ViewIndexes = ViewIndexes(), readAhead: ReadAhead? = nil) throws -> ConnectorSharedView {
        let fields = ["given_name", "family_initial", "grade", "school", "sections", "email", "sis_id", "birth_date", "guardian_names"]
        var lines: [String: String] = [:]
        for line in grant.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            lines[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let text = PartnerFileText(name: name, type: type, schools: lines["Schools"] ?? "all", grades: lines["Grades"],
                                   roles: lines["Roles"] ?? "student", fields: (lines["Fields"] ?? "").split(separator: " ").map(String.init),
                                   dataElements: fields).text
        let (parsed, problems) = PartnerFile.read(path: "\(name).conf", text: text)
        let partner = try #require(parsed, "\(problems)")
        let standing = PartnerStanding.of(partner, unmet: [], library: library)
        let secret = secret ?? self.secret
        let view = StewardCore.SharedView(policy: SharingPolicy(partner: partner, standing: standing, adoptedSections: adopted)) {
            secret.pseudonym(partner: name, sourcedId: $0)
        }
        return ConnectorSharedView(view: view, store: store, secret: secret, rosterVersion: 1, indexes: indexes, readAhead: readAhead)
    }
}

@Suite(.serialized) struct ConnectorSharedViewTests {
    static func failure(_ view: ConnectorSharedView, _ request: SharedViewRequest) -> SharedViewError.Code? {
        do throws(SharedViewError) {
            _ = try view.page(request)
            return nil
        } catch {
            return error.code
        }
    }

    /// Every record of `kind`, page by page through sealed cursors, with random page sizes.
    static func readAll(_ view: ConnectorSharedView, _ kind: SharedRecordKind, random: inout SplitMix64,
                        cursors: inout [SharedViewCursor]) throws -> [SharedViewRecord] {
        var records: [SharedViewRecord] = []
        var cursor: SharedViewCursor?
        repeat {
            let limit = Int.random(in: 1...9, using: &random)
            let page = try view.page(SharedViewRequest(kind: kind, cursor: cursor, limit: limit))
            #expect(page.records.count <= limit)
            records += page.records
            cursor = page.next
            if let cursor { cursors.append(cursor) }
        } while cursor != nil && records.count < 100_000
        return records
    }

    @Test func pagingThroughSealedCursorsGivesTheWholeViewOnceAndNoSourcedIdLeaks() throws {
        let district = try ConnectorViewDistrict(students: 250, seed: 21)
        var random = SplitMix64(seed: 21)
        let grants = [
            "Schools=all\nRoles=student teacher administrator\nFields=given_name school sections email",
            "Schools=sch-0001 sch-0003\nGrades=3 04 11\nRoles=student teacher\nFields=given_name grade sections birth_date guardian_names",
            "Schools=sch-0002\nRoles=student\nFields=given_name sis_id sections",
        ]
        for (index, grant) in grants.enumerated() {
            let view = try district.view("partner-\(index)", grant: grant)
            for kind in SharedRecordKind.allCases {
                let whole = try view.page(SharedViewRequest(kind: kind, limit: 10_000))
                #expect(whole.next == nil)
                #expect(try view.count(kind) == whole.records.count, "partner-\(index) \(kind)")
                #expect(whole.records.allSatisfy { Set($0.fields.keys).isSubset(of: view.fields(of: kind)) }, "partner-\(index) \(kind)")
                var cursors: [SharedViewCursor] = []
                let paged = try Self.readAll(view, kind, random: &random, cursors: &cursors)
                #expect(paged == whole.records, "partner-\(index) \(kind)")
                #expect(Set(paged.map(\.id)).count == paged.count, "partner-\(index) \(kind)")
                #expect(paged.allSatisfy { $0.kind == kind })
                for cursor in cursors {
                    #expect(!district.sourcedIds.contains { cursor.token.contains($0) }, "a cursor shows a sourcedId")
                    #expect(cursor.token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "\(cursor.token)")
                }
            }
        }
    }

    @Test func aCursorReadsOnlyThePartnerAndKindItWasMadeFor() throws {
        let district = try ConnectorViewDistrict(students: 120, seed: 22)
        let grant = "Schools=all\nRoles=student teacher\nFields=given_name sections"
        let alpha = try district.view("alpha", grant: grant)
        let beta = try district.view("beta", grant: grant)
        let first = try alpha.page(SharedViewRequest(kind: .student, limit: 5))
        let cursor = try #require(first.next)
        #expect(try alpha.page(SharedViewRequest(kind: .student, cursor: cursor, limit: 5)).records.count == 5)
        #expect(Self.failure(alpha, SharedViewRequest(kind: .teacher, cursor: cursor, limit: 5)) == .invalidCursor)
        #expect(Self.failure(beta, SharedViewRequest(kind: .student, cursor: cursor, limit: 5)) == .invalidCursor)

        var tampered = Array(cursor.token)
        tampered[tampered.count / 2] = tampered[tampered.count / 2] == "A" ? "B" : "A"
        #expect(Self.failure(alpha, SharedViewRequest(kind: .student, cursor: SharedViewCursor(token: String(tampered)), limit: 5)) == .invalidCursor)
        for token in ["", "abc", "stu-0000005", String(repeating: "A", count: 60)] {
            #expect(Self.failure(alpha, SharedViewRequest(kind: .student, cursor: SharedViewCursor(token: token), limit: 5)) == .invalidCursor,
                    "'\(token)'")
        }
        let otherDistrict = DistrictSecret(bytes: [UInt8](repeating: 9, count: 32))
        let foreign = try district.view("alpha", grant: grant, secret: otherDistrict)
        #expect(Self.failure(foreign, SharedViewRequest(kind: .student, cursor: cursor, limit: 5)) == .invalidCursor,
                "a cursor from another district's secret")
    }

    @Test func aRequestNamingFieldsGetsTheSameRecordsWithOnlyThoseFields() throws {
        let district = try ConnectorViewDistrict(students: 150, seed: 34)
        let grant = "Schools=all\nRoles=student teacher\nFields=given_name family_name school sections email"
        let view = try district.view("alpha", grant: grant)
        var random = SplitMix64(seed: 34)
        for kind in [SharedRecordKind.student, .teacher, .section] {
            func readAll(_ names: Set<String>?) throws -> [SharedViewRecord] {
                var records: [SharedViewRecord] = []
                var cursor: SharedViewCursor?
                repeat {
                    let page = try view.page(SharedViewRequest(kind: kind, cursor: cursor, limit: Int.random(in: 1...40, using: &random),
                                                               fields: names))
                    records += page.records
                    cursor = page.next
                } while cursor != nil
                return records
            }
            let whole = try readAll(nil)
            #expect(!whole.isEmpty)
            for names in [Set<String>(), ["email"], ["given_name", "school", "race"], ["sections"]] {
                let narrowed = try readAll(names)
                // Persons carry only the fields named; sections are not narrowed.
                let expected = whole.map { record in
                    kind == .section ? record : SharedViewRecord(id: record.id, kind: record.kind, fields: record.fields.filter { names.contains($0.key) },
                                                                 version: record.version)
                }
                #expect(narrowed == expected, "\(kind) narrowed to \(names.sorted())")
            }
        }
    }

    /// Paging by id among one school's members gives exactly what filtering every page would
    /// keep, forward and backward, with the school's count as the total.
    @Test func pagingByIdWithinASchoolGivesWhatFilteringEveryPageWould() throws {
        let district = try ConnectorViewDistrict(students: 200, seed: 35)
        var random = SplitMix64(seed: 35)
        let view = try district.view("alpha", grant: "Schools=all\nRoles=student teacher\nFields=given_name school sections")
        func all(_ kind: SharedRecordKind, school: String?) throws -> [SharedViewRecord] {
            var records: [SharedViewRecord] = []
            var after: String?
            while true {
                let page = try view.idPage(SharedViewIdRequest(kind: kind, after: after, limit: Int.random(in: 1...30, using: &random), school: school))
                #expect(page.hasMoreBefore == (after != nil && !records.isEmpty) || page.records.isEmpty)
                records += page.records
                guard page.hasMoreAfter, let last = page.records.last else { return records }
                after = last.id
            }
        }
        for kind in [SharedRecordKind.student, .teacher, .section] {
            let whole = try all(kind, school: nil)
            let schools = Set(whole.flatMap { RecordFields($0.fields).list("school") })
            #expect(schools.count > 1, "\(kind)")
            for school in schools.sorted() + ["sch-none"] {
                let expected = whole.filter { RecordFields($0.fields).list("school").contains(school) }
                #expect(try all(kind, school: school) == expected, "\(kind) of \(school)")
                let last = try view.idPage(SharedViewIdRequest(kind: kind, before: "~", limit: 5, school: school))
                #expect(last.records == Array(expected.suffix(5)) && last.total == expected.count, "\(kind) of \(school), backward")
                #expect(last.hasMoreBefore == (expected.count > 5) && !last.hasMoreAfter)
            }
        }
        // Without `school` in the grant, no record holds one.
        let withheld = try district.view("beta", grant: "Schools=all\nRoles=student\nFields=given_name")
        #expect(try withheld.idPage(SharedViewIdRequest(kind: .student, limit: 10, school: "sch-0001")).total == 0)
    }

    @Test func aPageHoldsOneToTenThousandRecords() throws {
        let district = try ConnectorViewDistrict(students: 30, seed: 23)
        let view = try district.view("alpha", grant: "Schools=all\nRoles=student\nFields=given_name")
        for limit in [0, -1, 10_001] {
            #expect(Self.failure(view, SharedViewRequest(kind: .student, limit: limit)) == .invalidLimit, "\(limit)")
        }
        #expect(try view.page(SharedViewRequest(kind: .student, limit: 10_000)).records.count == 30)
        #expect(try view.page(SharedViewRequest(kind: .student, limit: 1)).records.count == 1)
    }

    @Test func aPartnerThatIsNotSharingIsToldSoRatherThanHandedAnEmptyPage() throws {
        let district = try ConnectorViewDistrict(students: 30, seed: 24)
        let view = try district.view("readingroom", type: "library", grant: "Schools=all\nRoles=student\nFields=given_name sections",
                                     adopted: ["cls-0001-0001"], library: LibrarySettings(isSharingOn: false))
        for kind in SharedRecordKind.allCases {
            #expect(Self.failure(view, SharedViewRequest(kind: kind, limit: 10)) == .notSharing, "\(kind)")
        }
    }

    @Test func aLibraryConnectorNeverSeesMoreThanTheCapOrARealId() throws {
        let district = try ConnectorViewDistrict(students: 120, seed: 25)
        let view = try district.view("readingroom", type: "library",
                                     grant: "Schools=all\nRoles=student teacher\nFields=given_name family_initial grade school sections email sis_id birth_date guardian_names",
                                     adopted: ["cls-0001-0001", "cls-0001-0002"])
        var persons: [SharedViewRecord] = []
        for kind in [SharedRecordKind.student, .teacher] {
            persons += try view.page(SharedViewRequest(kind: kind, limit: 10_000)).records
        }
        #expect(!persons.isEmpty)
        for record in persons {
            #expect(Set(record.fields.keys).isSubset(of: ["given_name", "family_initial", "grade", "sections"]), "\(record.fields.keys.sorted())")
            #expect(!district.sourcedIds.contains(record.id))
        }
    }
}

@Suite(.serialized) struct ReadAheadTests {
    /// Each request of a sync is a new view of the same partner, as the gateway makes them.
    /// `everyId` is the whole view's ids: each request must stand as having handed out exactly
    /// its own page's, never those of the page read ahead meanwhile.
    static func pageThrough(_ district: ConnectorViewDistrict, _ name: String, grant: String, kind: SharedRecordKind, limit: Int,
                            readAhead: ReadAhead?, everyId: [String] = []) throws -> [SharedViewRecord] {
        var records: [SharedViewRecord] = []
        var cursor: SharedViewCursor?
        repeat {
            let view = try district.view(name, grant: grant, readAhead: readAhead)
            let request = SharedViewRequest(kind: kind, cursor: cursor, limit: limit)
            let page = try readAhead.map { readAhead in try readAhead.answering { try view.page(request) } } ?? view.page(request)
            if !everyId.isEmpty { #expect(everyId.filter { view.issued($0) != nil } == page.records.map(\.id), "\(kind)") }
            records += page.records
            cursor = page.next
        } while cursor != nil
        return records
    }

    @Test func aSyncReadAheadGetsExactlyThePagesItWouldHaveReadAndRecordsOnlyWhatWasSent() throws {
        let district = try ConnectorViewDistrict(students: 300, seed: 31)
        let grant = "Schools=all\nRoles=student teacher\nFields=given_name school sections email"
        // Two readers, as on two cores: one request and one read-ahead at a time, so a read
        // that has ended must not still count as running when its request starts the next.
        for readers in [8, 2] {
            for (kind, limit) in [(SharedRecordKind.student, 7), (.teacher, 3), (.section, 11), (.enrollment, 50)] {
                let plain = try Self.pageThrough(district, "alpha", grant: grant, kind: kind, limit: limit, readAhead: nil)
                let readAhead = ReadAhead(readers: readers)
                let ahead = try Self.pageThrough(district, "alpha", grant: grant, kind: kind, limit: limit, readAhead: readAhead,
                                                 everyId: plain.map(\.id))
                #expect(ahead == plain, "\(kind)")
                let counts = readAhead.counts
                let pages = (plain.count + limit - 1) / limit
                #expect(counts.taken == pages - 1, "\(kind), \(readers) readers: every page after the first is read ahead")
                #expect(counts.kept <= 1)
            }
        }
    }

    /// Paging by id (Clever's order), forward, with each request a new view.
    static func pageById(_ district: ConnectorViewDistrict, _ name: String, grant: String, kind: SharedRecordKind, limit: Int,
                         readAhead: ReadAhead?, everyId: [String] = []) throws -> [SharedViewRecord] {
        var records: [SharedViewRecord] = []
        var after: String?
        while true {
            let view = try district.view(name, grant: grant, readAhead: readAhead)
            let request = SharedViewIdRequest(kind: kind, after: after, limit: limit)
            let page = try readAhead.map { readAhead in try readAhead.answering { try view.idPage(request) } } ?? view.idPage(request)
            if !everyId.isEmpty { #expect(everyId.filter { view.issued($0) != nil } == page.records.map(\.id), "\(kind)") }
            records += page.records
            guard page.hasMoreAfter, let last = page.records.last else { return records }
            after = last.id
        }
    }

    @Test func pagingByIdIsReadAheadTooAndGetsExactlyThePagesItWouldHaveRead() throws {
        let district = try ConnectorViewDistrict(students: 300, seed: 33)
        let grant = "Schools=all\nRoles=student teacher\nFields=given_name school sections email"
        for (kind, limit) in [(SharedRecordKind.student, 7), (.teacher, 3), (.section, 11)] {
            let plain = try Self.pageById(district, "alpha", grant: grant, kind: kind, limit: limit, readAhead: nil)
            #expect(!plain.isEmpty)
            #expect(plain.map(\.id) == plain.map(\.id).sorted(), "\(kind): in id order")
            let readAhead = ReadAhead(readers: 8)
            let ahead = try Self.pageById(district, "alpha", grant: grant, kind: kind, limit: limit, readAhead: readAhead,
                                          everyId: plain.map(\.id))
            #expect(ahead == plain, "\(kind)")
            #expect(readAhead.counts.taken == (plain.count + limit - 1) / limit - 1, "\(kind): every page after the first is read ahead")
        }
    }

    @Test func aPageReadAheadIsTakenOnlyUnderTheSamePolicyAndOnlyOnAnIdleCore() throws {
        let district = try ConnectorViewDistrict(students: 120, seed: 32)
        let readAhead = ReadAhead(readers: 8)
        let wide = try district.view("alpha", grant: "Schools=all\nRoles=student\nFields=given_name email sections", readAhead: readAhead)
        let first = try wide.page(SharedViewRequest(kind: .student, limit: 10))
        #expect(readAhead.counts.kept == 1)
        // A reload narrowed the grant: the page read under the wider one is not used.
        let narrow = try district.view("alpha", grant: "Schools=all\nRoles=student\nFields=given_name", readAhead: readAhead)
        let second = try narrow.page(SharedViewRequest(kind: .student, cursor: first.next, limit: 10))
        #expect(readAhead.counts.taken == 0)
        #expect(second.records.allSatisfy { Set($0.fields.keys) == ["given_name"] })
        let unread = try district.view("alpha", grant: "Schools=all\nRoles=student\nFields=given_name", readAhead: nil)
        #expect(second.records == (try unread.page(SharedViewRequest(kind: .student, cursor: first.next, limit: 10)).records))

        // A page read ahead for a request naming some fields is not handed to one naming others.
        let named = try district.view("alpha", grant: "Schools=all\nRoles=student\nFields=given_name email sections", readAhead: readAhead)
        let third = try named.page(SharedViewRequest(kind: .student, cursor: second.next, limit: 10, fields: ["email"]))
        #expect(third.records.allSatisfy { Set($0.fields.keys).isSubset(of: ["email"]) })
        let fourth = try named.page(SharedViewRequest(kind: .student, cursor: third.next, limit: 10, fields: ["given_name"]))
        #expect(readAhead.counts.taken == 0)
        #expect(fourth.records.allSatisfy { Set($0.fields.keys) == ["given_name"] })

        // With every core answering a request, nothing is read ahead.
        let busy = ReadAhead(readers: 1)
        let view = try district.view("beta", grant: "Schools=all\nRoles=student\nFields=given_name", readAhead: busy)
        _ = try busy.answering { try view.page(SharedViewRequest(kind: .student, limit: 10)) }
        #expect(busy.counts.started == 0)
        _ = try view.page(SharedViewRequest(kind: .student, limit: 10))
        #expect(busy.counts.started == 1)
    }
}

/// ConnectorKit's kinds and Core's are one list under two names: every kind a view holds can be
/// handed to a connector, and back.
@Test func connectorKitAndCoreNameTheSameKinds() {
    #expect(Set(SharedRecord.Kind.allCases.map(\.rawValue)) == Set(SharedRecordKind.allCases.map(\.rawValue)))
}

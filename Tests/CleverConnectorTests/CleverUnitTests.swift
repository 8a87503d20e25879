import ConnectorKit
import Foundation
import StewardDaemon
import StewardHarness
import ConnectorTestSupport
import Testing

// The Clever connector against a view held in memory (MemoryView, in Tests/ConnectorTestSupport):
// paging by id, the mapping of view fields to Clever objects, events, disclosures. Every body
// a test receives is checked against Clever's own Swagger files by
// Tests/support/validate_clever.py (python3-yaml, python3-jsonschema).

/// A small district: one district org, two schools, sessions of three types, a course, three
/// teachers with a section each, an aide, an administrator, and `students` students enrolled
/// in the sections. Person, section and enrollment ids are 32 hex characters, in no order.
enum CleverFixture {
    static func pseudonym(_ number: Int) -> String {
        let mixed = UInt64(number + 1) &* 0x9E37_79B9_7F4A_7C15
        return String(format: "%016llx%016llx", mixed, mixed ^ 0x5bd1_e995_0000_abcd)
    }

    static let district = SharedViewRecord(id: "dist-1", kind: .org, fields: ["name": .text("Sandbox USD"), "type": .text("district")], version: 1)
    static let schools = (1...2).map {
        SharedViewRecord(id: "sch-\($0)", kind: .org, fields: ["name": .text("School \($0)"), "type": .text("school"),
                                                                 "identifier": .text("10\($0)"), "parent": .text("dist-1")], version: 1)
    }
    static let sessions = [
        SharedViewRecord(id: "sy-1", kind: .academicSession, fields: ["title": .text("2026"), "type": .text("schoolYear")], version: 1),
        SharedViewRecord(id: "term-1", kind: .academicSession, fields: ["title": .text("Fall"), "type": .text("term"),
                                                                        "start_date": .text("2026-08-20"), "end_date": .text("2026-12-20")], version: 1),
        SharedViewRecord(id: "sem-1", kind: .academicSession, fields: ["title": .text("Spring"), "type": .text("semester")], version: 1),
    ]
    static let course = SharedViewRecord(id: "crs-1", kind: .course, fields: ["title": .text("Algebra"), "course_code": .text("ALG1"),
                                                                               "org": .text("sch-1")], version: 1)

    static func teacher(_ index: Int) -> String { pseudonym(1_000 + index) }
    static func section(_ index: Int) -> String { pseudonym(3_000 + index) }
    static func student(_ index: Int) -> String { pseudonym(index) }

    static func studentRecord(_ index: Int) -> SharedViewRecord {
        SharedViewRecord(id: student(index), kind: .student, fields: [
            "given_name": .text("Ann\(index)"), "family_name": .text("Lee"), "email": .text("ann\(index)@example.org"),
            "grade": .list([index % 2 == 0 ? "03" : "KG"]), "school": .list([index % 3 == 0 ? "sch-2" : "sch-1"]),
            "birth_date": .text("2015-04-09"), "sex": .text("female"), "race": .list(["asian", "white"]),
            "hispanic_latino": .text("false"), "username": .text("ann\(index)"), "student_number": .text("N\(index)"),
            "sections": .list([section(index % 3)]),
        ], version: 2)
    }

    /// The whole view's records.
    static func records(students: Int = 40) -> [SharedViewRecord] {
        var records = [district] + schools + sessions + [course]
        for index in 0..<3 {
            records.append(SharedViewRecord(id: teacher(index), kind: .teacher, fields: [
                "given_name": .text("Tess\(index)"), "family_name": .text("Ng"), "school": .list(["sch-1"]),
                "student_number": .text("T\(index)"), "sections": .list([section(index)]),
            ], version: 1))
            records.append(SharedViewRecord(id: section(index), kind: .section, fields: [
                "title": .text("Math \(index)"), "school": .text("sch-1"), "course": .text("crs-1"), "terms": .list(["term-1"]),
                "subjects": .list(["Mathematics"]), "periods": .list(["\(index + 1)"]), "grades": .list(["03"]),
                "teachers": .list([teacher(index)]),
            ], version: 1))
        }
        records.append(SharedViewRecord(id: pseudonym(2_000), kind: .aide, fields: ["given_name": .text("Al"), "school": .list(["sch-1"])]))
        records.append(SharedViewRecord(id: pseudonym(2_001), kind: .administrator, fields: ["given_name": .text("Ada"), "sis_id": .text("A1")]))
        for index in 0..<students {
            records.append(studentRecord(index))
            records.append(SharedViewRecord(id: pseudonym(4_000 + index), kind: .enrollment, fields: [
                "user": .text(student(index)), "section": .text(section(index % 3)), "role": .text("student"),
            ]))
        }
        return records
    }

    static let personIds: [String] = records().filter { [.student, .teacher, .administrator, .aide].contains($0.kind) }.map(\.id)
}

/// The built module, loaded as the daemon loads it (dlopen, through `ModuleLoader`): every
/// module defines the same entry point, so no module is linked into the test binary. Each call
/// makes a module object of its own, so no test sees what another's requests left in its caches.
enum CleverModule {
    static var fresh: any PullConnector {
        do {
            let folder = try moduleFolder(["clever.so": Binaries.cleverModule])
            guard let module = try ModuleLoader.load(folder + "/clever.so", takenKinds: []).module as? any PullConnector else {
                fatalError("the clever module is not a pull connector")
            }
            return module
        } catch {
            fatalError("the clever module does not load: \(error)")
        }
    }
}

/// Clever's order of ids: their UTF-8 bytes compared.
func precedes(_ left: String, _ right: String) -> Bool { Array(left.utf8).lexicographicallyPrecedes(Array(right.utf8)) }

/// Sends requests to a module and keeps every body for the validator.
final class CleverExchange {
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: [String: Any]
        var text: String

        var data: [[String: Any]] { (body["data"] as? [[String: Any]] ?? []).compactMap { $0["data"] as? [String: Any] } }
        var ids: [String] { data.compactMap { $0["id"] as? String } }
        var object: [String: Any] { body["data"] as? [String: Any] ?? [:] }

        func link(_ rel: String) -> (path: String, query: [(name: String, value: String)])? {
            guard let uri = (body["links"] as? [[String: String]])?.first(where: { $0["rel"] == rel })?["uri"],
                  let components = URLComponents(string: uri) else { return nil }
            return (components.path, (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        }
    }

    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/support"
    let module = CleverModule.fresh
    let view: MemoryView
    let folder: String
    private(set) var saved: [String] = []

    init(_ view: MemoryView) throws {
        self.view = view
        folder = NSTemporaryDirectory() + "clever-bodies-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func get(_ path: String, _ query: [(name: String, value: String)] = [], method: String = "GET",
             log: DisclosureLog = DisclosureLog()) -> Answer {
        let response = module.serve(PartnerRequest(method: method, path: path, query: query, headers: [], partner: view.partner,
                                                   scopes: [], view: view, disclosures: log), kind: "clever-v3")
        return keep(response, target: response.status == 200 ? path : response.status == 400 ? "BadRequest" : "NotFound")
    }

    func keep(_ response: PartnerResponse, target: String) -> Answer {
        let file = folder + "/\(saved.count).json"
        _ = FileManager.default.createFile(atPath: file, contents: Data(response.body))
        saved.append("\(target)=\(file)")
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return Answer(status: response.status, headers: Dictionary(response.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                      body: body, text: String(decoding: response.body, as: UTF8.self))
    }

    /// Every body kept passes the validator.
    func expectValid(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let problems = try Self.validate(saved)
        #expect(problems == "", "\(problems.prefix(2_000))", sourceLocation: sourceLocation)
    }

    static func validate(_ pairs: [String]) throws -> String {
        let result = try runCommand("/usr/bin/python3", [support + "/validate_clever.py", support + "/clever-data-api-v3.0.yml",
                                                         support + "/clever-events-api-v3.0.yml"] + pairs)
        return result.status == 0 ? "" : "exit \(result.status): " + result.stdout + result.stderr
    }

    /// Follows `rel` links from the first page to the last; every id in the order received.
    func follow(_ path: String, _ query: [(name: String, value: String)], rel: String) -> (ids: [String], pages: Int) {
        var ids: [String] = []
        var next: (path: String, query: [(name: String, value: String)])? = (path, query)
        var pages = 0
        while let request = next, pages < 1_000 {
            let page = get(request.path, request.query)
            #expect(page.status == 200, "\(page.text.prefix(200))")
            ids = rel == "next" ? ids + page.ids : page.ids + ids
            next = page.link(rel)
            pages += 1
        }
        return (ids, pages)
    }
}

@Suite struct CleverPagingTests {
    @Test func usersPageForwardAndBackwardInAscendingIdOrderWithoutGapsOrDuplicates() throws {
        let exchange = try CleverExchange(MemoryView(CleverFixture.records()))
        let all = CleverFixture.personIds.sorted(by: precedes)
        let forward = exchange.follow("/v3.0/users", [("limit", "7")], rel: "next")
        #expect(forward.ids == all)
        #expect(forward.pages == (all.count + 6) / 7)
        let last = exchange.get("/v3.0/users", [("limit", "7"), ("starting_after", all[all.count - 8])])
        #expect(last.ids == Array(all.suffix(7)) && last.link("next") == nil && last.link("prev") != nil)
        let backward = exchange.follow("/v3.0/users", [("limit", "7"), ("ending_before", all[all.count - 7])], rel: "prev")
        #expect(backward.ids == Array(all.dropLast(7)))
        #expect(exchange.get("/v3.0/users", [("limit", "7")]).link("prev") == nil, "the first page has no prev link")
        try exchange.expectValid()
    }

    @Test func linksKeepLimitAndRoleAndCountIsTheTotal() throws {
        let exchange = try CleverExchange(MemoryView(CleverFixture.records()))
        let page = exchange.get("/v3.0/users", [("role", "student"), ("limit", "5"), ("count", "true")])
        #expect(page.body["count"] as? Int == 40)
        let next = try #require(page.link("next"))
        #expect(next.query.map(\.name) == ["role", "limit", "count", "starting_after"])
        #expect(next.query.last?.value == page.ids.last)
        #expect(exchange.get("/v3.0/users", [("count", "true")]).body["count"] as? Int == CleverFixture.personIds.count)
        #expect(exchange.get("/v3.0/schools", [("count", "true")]).body["count"] as? Int == 2)
        #expect(exchange.get("/v3.0/terms", [("count", "true")]).body["count"] as? Int == 2, "a school year is no Clever term")
        #expect(exchange.get("/v3.0/users").body["count"] == nil)
        try exchange.expectValid()
    }

    @Test func roleNarrowsUsersToOneKindOfRecord() throws {
        let exchange = try CleverExchange(MemoryView(CleverFixture.records()))
        let students = exchange.follow("/v3.0/users", [("role", "student"), ("limit", "9")], rel: "next").ids
        #expect(students == (0..<40).map(CleverFixture.student).sorted(by: precedes))
        let staff = exchange.get("/v3.0/users", [("role", "staff")])
        #expect(Set(staff.ids) == [CleverFixture.pseudonym(2_000), CleverFixture.pseudonym(2_001)])
        #expect(staff.data.allSatisfy { ($0["roles"] as? [String: Any])?.keys.sorted() == ["staff"] })
        #expect(exchange.get("/v3.0/users", [("role", "contact")]).ids.isEmpty)
        #expect(exchange.get("/v3.0/users", [("role", "parent")]).status == 400)
        try exchange.expectValid()
    }
}

@Suite struct CleverServeTests {
    @Test func unknownIdsEndpointsAndBadParametersAreRefusedWithAMessage() throws {
        let exchange = try CleverExchange(MemoryView(CleverFixture.records()))
        for path in ["/v3.0/users/\(CleverFixture.pseudonym(9_999))", "/v3.0/schools/term-1", "/v3.0/terms/sy-1", "/v3.0/pets",
                     "/v3.0/users/\(CleverFixture.student(1))/pets", "/v3.0/districts/sch-1", "/v3.0/events/none"] {
            let answer = exchange.get(path)
            #expect(answer.status == 404, "\(path)")
            #expect((answer.body["message"] as? String)?.isEmpty == false)
        }
        let resources = exchange.get("/v3.0/resources")
        #expect(resources.status == 404 && (resources.body["message"] as? String)?.contains("no resources") == true)
        #expect(exchange.get("/v3.0/courses/crs-1/resources").status == 404)
        for query: [(name: String, value: String)] in [[("limit", "0")], [("limit", "10001")], [("limit", "ten")], [("starting_after", "")],
                                                       [("starting_after", "a"), ("ending_before", "b")], [("colour", "blue")]] {
            #expect(exchange.get("/v3.0/users", query).status == 400, "\(query)")
        }
        let post = exchange.get("/v3.0/users", method: "POST")
        #expect(post.status == 405 && post.headers["Allow"] == "GET")
        let limited = exchange.module.refuse(.rateLimited(retryAfterSeconds: 7), kind: "clever-v3")
        #expect(limited.status == 429 && limited.headers.contains { $0.name == "Retry-After" && $0.value == "7" })
        #expect(exchange.module.refuse(.unauthenticated, kind: "clever-v3").status == 401)
        try exchange.expectValid()
    }

    @Test func aStudentBecomesACleverUserWithMappedValues() throws {
        let exchange = try CleverExchange(MemoryView(CleverFixture.records()))
        let user = exchange.get("/v3.0/users/\(CleverFixture.student(3))")
        #expect(user.status == 200)
        #expect(user.object["district"] as? String == "dist-1" && user.object["email"] as? String == "ann3@example.org")
        #expect(user.object["name"] as? [String: String] == ["first": "Ann3", "last": "Lee"])
        let student = try #require((user.object["roles"] as? [String: Any])?["student"] as? [String: Any])
        #expect(student["grade"] as? String == "Kindergarten" && student["dob"] as? String == "4/9/2015")
        #expect(student["gender"] as? String == "F" && student["race"] as? String == "Two or More Races")
        #expect(student["hispanic_ethnicity"] as? String == "N" && student["school"] as? String == "sch-2")
        #expect(student["credentials"] as? [String: String] == ["district_username": "ann3"])
        #expect(student["legacy_id"] == nil && student["sis_id"] == nil && user.object["created"] == nil)
        try exchange.expectValid()
    }

    @Test func aWithheldFieldNeverAppearsAndNothingIsInvented() throws {
        let bare = SharedViewRecord(id: CleverFixture.student(0), kind: .student, fields: ["given_name": .text("Ann")], version: 2)
        let exchange = try CleverExchange(MemoryView([bare] + CleverFixture.schools))
        let user = exchange.get("/v3.0/users/\(bare.id)")
        #expect(user.status == 200)
        #expect(user.object.keys.sorted() == ["id", "name", "roles"], "no district, email or dates the view does not hold")
        #expect(user.object["roles"] as? [String: [String: String]] == ["student": [:]])
        for word in ["email", "dob", "gender", "grade", "school", "null"] { #expect(!user.text.contains(word), "\(word)") }
        #expect(exchange.get("/v3.0/schools/sch-1/users").status == 403, "a school's users need the school field")
        try exchange.expectValid()
    }

    @Test func aLibraryRecordIsCappedToTheInitialAndTheTitle() throws {
        let student = SharedViewRecord(id: CleverFixture.student(0), kind: .student,
                                       fields: ["given_name": .text("Ann"), "family_initial": .text("L")], version: 2)
        let section = SharedViewRecord(id: CleverFixture.section(0), kind: .section,
                                       fields: ["title": .text("Math 3"), "teacher_names": .list(["Tess Ng"])], version: 1)
        let exchange = try CleverExchange(MemoryView([student, section]))
        let user = exchange.get("/v3.0/users/\(student.id)")
        #expect(user.object["name"] as? [String: String] == ["first": "Ann", "last": "L"])
        let sectionAnswer = exchange.get("/v3.0/sections/\(section.id)")
        #expect(sectionAnswer.object.keys.sorted() == ["id", "name"])
        #expect(!sectionAnswer.text.contains("Tess"), "teacher names have no Clever property")
        try exchange.expectValid()
    }

    @Test func sectionsListTheirStudentsAndTeachersAndRelationsFollowThem() throws {
        let exchange = try CleverExchange(MemoryView(CleverFixture.records()))
        let enrolled = (0..<40).filter { $0 % 3 == 1 }.map(CleverFixture.student).sorted(by: precedes)
        let section = exchange.get("/v3.0/sections/\(CleverFixture.section(1))")
        #expect(section.object["students"] as? [String] == enrolled)
        #expect(section.object["teacher"] as? String == CleverFixture.teacher(1) && section.object["term_id"] as? String == "term-1")
        #expect(section.object["subject"] as? String == "math" && section.object["grade"] as? String == "3")
        let users = exchange.follow("/v3.0/sections/\(CleverFixture.section(1))/users", [("limit", "4")], rel: "next").ids
        #expect(users == (enrolled + [CleverFixture.teacher(1)]).sorted(by: precedes))
        #expect(exchange.get("/v3.0/sections/\(CleverFixture.section(1))/users", [("role", "teacher")]).ids == [CleverFixture.teacher(1)])
        #expect(exchange.get("/v3.0/users/\(CleverFixture.teacher(1))/mystudents", [("limit", "100")]).ids == enrolled)
        #expect(exchange.get("/v3.0/users/\(CleverFixture.student(1))/myteachers").ids == [CleverFixture.teacher(1)])
        #expect(exchange.get("/v3.0/users/\(CleverFixture.student(1))/sections").ids == [CleverFixture.section(1)])
        #expect(exchange.get("/v3.0/users/\(CleverFixture.student(3))/schools").ids == ["sch-2"])
        #expect(exchange.get("/v3.0/sections/\(CleverFixture.section(1))/course").object["number"] as? String == "ALG1")
        #expect(exchange.get("/v3.0/sections/\(CleverFixture.section(1))/term").object["id"] as? String == "term-1")
        #expect(exchange.get("/v3.0/sections/\(CleverFixture.section(1))/school").object["school_number"] as? String == "101")
        #expect(exchange.get("/v3.0/courses/crs-1/district").object["name"] as? String == "Sandbox USD")
        #expect(exchange.get("/v3.0/courses/crs-1/schools").ids == ["sch-1"])
        #expect(exchange.get("/v3.0/courses/crs-1/sections").ids.count == 3)
        #expect(exchange.get("/v3.0/terms/term-1/sections").ids.count == 3)
        #expect(exchange.get("/v3.0/schools/sch-2/users", [("role", "student")]).ids.count == 14)
        #expect(exchange.get("/v3.0/schools/sch-1/sections").ids.count == 3)
        #expect(exchange.get("/v3.0/schools/sch-1/courses").ids == ["crs-1"])
        #expect(exchange.get("/v3.0/schools/sch-1/terms").ids == ["sem-1", "term-1"])
        #expect(exchange.get("/v3.0/districts").ids == ["dist-1"])
        #expect(exchange.get("/v3.0/users/\(CleverFixture.student(1))/mycontacts").ids == [])
        try exchange.expectValid()
    }

    @Test func everyRecordSentIsDisclosedWithTheFieldsSent() throws {
        let exchange = try CleverExchange(MemoryView(CleverFixture.records()))
        let log = DisclosureLog()
        _ = exchange.get("/v3.0/users/\(CleverFixture.student(3))", log: log)
        let student = log.all.first { $0.ids.contains(CleverFixture.student(3)) }
        #expect(student?.fields == ["given_name", "family_name", "email", "grade", "school", "birth_date", "sex", "race",
                                    "hispanic_latino", "username", "student_number"], "sections is not sent on a user")

        let sectionLog = DisclosureLog()
        _ = exchange.get("/v3.0/sections/\(CleverFixture.section(1))", log: sectionLog)
        let enrollments = sectionLog.all.filter { $0.fields == ["user", "section", "role"] }.flatMap(\.ids)
        #expect(enrollments.count == 13, "each student listed is disclosed through its enrollment")
        #expect(sectionLog.all.contains { $0.ids == [CleverFixture.section(1)] })

        let failed = DisclosureLog()
        _ = exchange.get("/v3.0/users", [("limit", "0")], log: failed)
        #expect(failed.all.isEmpty, "nothing is recorded for an answer that fails")
        try exchange.expectValid()
    }
}

@Suite struct CleverEventTests {
    static func view() -> MemoryView {
        let view = MemoryView(CleverFixture.records(students: 3))
        let now = CleverFixture.studentRecord(1)
        var before = now
        before.fields["email"] = .text("old@example.org")
        before.fields["grade"] = .list(["04"])
        view.changeLog = [
            SharedViewChange(id: "0001", action: .created, record: CleverFixture.studentRecord(0), at: "2026-11-29T10:00:00Z"),
            SharedViewChange(id: "0002", action: .created, record: SharedViewRecord(id: CleverFixture.pseudonym(4_000), kind: .enrollment,
                                                                                    fields: [:]), at: "2026-11-29T10:00:00Z"),
            SharedViewChange(id: "0003", action: .updated, record: now, previous: before, at: "2026-11-29T11:00:00Z"),
            SharedViewChange(id: "0004", action: .deleted, record: SharedViewRecord(id: CleverFixture.section(9), kind: .section, fields: [:]),
                             at: "2026-11-29T12:00:00Z"),
            SharedViewChange(id: "0005", action: .updated, record: CleverFixture.schools[0],
                             previous: SharedViewRecord(id: "sch-1", kind: .org, fields: ["name": .text("Old"), "type": .text("school")]),
                             at: "2026-11-29T12:00:00Z"),
        ]
        return view
    }

    @Test func eventsPageInOrderAndAnUpdateCarriesOnlyThePreviousValuesThatDiffer() throws {
        let exchange = try CleverExchange(Self.view())
        let all = exchange.follow("/v3.0/events", [("limit", "2")], rel: "next")
        #expect(all.ids == ["0001", "0003", "0004", "0005"], "the enrollment change is no event")
        let page = exchange.get("/v3.0/events")
        #expect(page.data.compactMap { $0["type"] as? String } == ["users.created", "users.updated", "sections.deleted", "schools.updated"])
        let updated = exchange.get("/v3.0/events/0003")
        #expect(updated.object["created"] as? String == "2026-11-29T11:00:00Z")
        let previous = try #require(updated.object["previous_attributes"] as? [String: Any])
        #expect(previous.keys.sorted() == ["email", "roles"])
        #expect(previous["email"] as? String == "old@example.org")
        #expect((((previous["roles"] as? [String: Any])?["student"]) as? [String: Any])?["grade"] as? String == "4")
        let deleted = exchange.get("/v3.0/events/0004")
        #expect(((deleted.object["data"] as? [String: Any])?["object"] as? [String: Any])?["id"] as? String == CleverFixture.section(9))
        #expect(exchange.get("/v3.0/events", [("record_type", "schools")]).ids == ["0005"])
        #expect(exchange.get("/v3.0/events", [("record_type", "users"), ("record_type", "sections")]).ids == ["0001", "0003", "0004"])
        #expect(exchange.get("/v3.0/events", [("ending_before", "0004"), ("limit", "1")]).ids == ["0003"])
        #expect(exchange.get("/v3.0/events", [("record_type", "pets")]).status == 400)
        #expect(exchange.get("/v3.0/events/0002").status == 404)
        try exchange.expectValid()
    }

    @Test func eventsOfASchoolAreThoseOfItsRecordsAndEveryDeletion() throws {
        let exchange = try CleverExchange(Self.view())
        // Student 1 and the school itself are sch-1's; student 0 is sch-2's; a deletion carries
        // only its id and is kept for every school.
        #expect(exchange.get("/v3.0/events", [("school", "sch-1")]).ids == ["0003", "0004", "0005"])
        #expect(exchange.get("/v3.0/events", [("school", "sch-2")]).ids == ["0001", "0004"])
        #expect(exchange.follow("/v3.0/events", [("school", "sch-1"), ("limit", "1")], rel: "next").ids == ["0003", "0004", "0005"],
                "the links keep the school")
        #expect(exchange.get("/v3.0/events", [("school", "sch-1"), ("record_type", "users")]).ids == ["0003"])
        #expect(exchange.get("/v3.0/events", [("school", "sch-404")]).status == 404)
        #expect(exchange.get("/v3.0/events", [("school", "")]).status == 400)
        try exchange.expectValid()

        // A grant without `school` cannot filter on it.
        let withheld = MemoryView(CleverFixture.records(students: 3).map { record in
            var record = record
            record.fields["school"] = nil
            return record
        })
        withheld.changeLog = Self.view().changeLog
        #expect(try CleverExchange(withheld).get("/v3.0/events", [("school", "sch-1")]).status == 403)
    }

    @Test func anEventDisclosesItsRecordAndThePreviousFields() throws {
        let exchange = try CleverExchange(Self.view())
        let log = DisclosureLog()
        _ = exchange.get("/v3.0/events/0003", log: log)
        let fields = log.all.filter { $0.ids.contains(CleverFixture.student(1)) }.reduce(into: Set<String>()) { $0.formUnion($1.fields) }
        #expect(fields.isSuperset(of: ["email", "grade", "given_name"]))
    }
}

@Suite struct CleverValidatorTests {
    @Test func theValidatorRefusesAMisspeltPropertyAWrongEnumAndAnUnknownEventType() throws {
        let folder = NSTemporaryDirectory() + "clever-validator-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bodies = [
            ("UsersResponse", #"{"data":[{"data":{"id":"a","nmae":{"first":"A"}}}],"links":[]}"#),
            ("/v3.0/sections/x", #"{"data":{"id":"x","grade":"03"},"links":[]}"#),
            ("EventResponse", #"{"data":{"id":"e","type":"users.upgraded","created":"t","data":{"object":{"id":"a"}}}}"#),
            ("EventResponse", #"{"data":{"id":"e","type":"users.updated","created":"t","data":{"object":{"id":"a","emial":"x"}}}}"#),
        ]
        var pairs: [String] = []
        for (index, (target, text)) in bodies.enumerated() {
            let file = folder + "/\(index).json"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let problems = try CleverExchange.validate(["\(target)=\(file)"])
            #expect(problems.hasPrefix("exit 1"), "\(target): \(text)")
            pairs.append("\(target)=\(file)")
        }
        let good = folder + "/good.json"
        try #"{"data":{"id":"e","type":"users.updated","created":"t","data":{"object":{"id":"a","email":null}},"previous_attributes":{"email":"x"}}}"#
            .write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try CleverExchange.validate(["EventResponse=\(good)"]) == "")
    }
}

@Suite struct CleverModuleLoadTests {
    @Test func theBuiltModuleLoadsAndServesTheCleverKindThroughTheDaemonsLoader() throws {
        let folder = try moduleFolder(["clever.so": Binaries.cleverModule])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let loaded = try ModuleLoader.load(folder + "/clever.so", takenKinds: ["oneroster-rest"])
        #expect(loaded.info.name == "clever" && loaded.info.kinds == ["clever-v3"])
        let module = try #require(loaded.module as? any PullConnector)
        #expect(module.routePrefixes(for: "clever-v3") == ["/v3.0"])
        let view = MemoryView(CleverFixture.records(students: 2))
        let answer = module.serve(PartnerRequest(method: "GET", path: "/v3.0/districts", query: [], headers: [], partner: view.partner,
                                                 scopes: [], view: view, disclosures: DisclosureLog()), kind: "clever-v3")
        #expect(answer.status == 200 && String(decoding: answer.body, as: UTF8.self).contains("dist-1"))
    }
}

import Foundation
import StewardControl
import StewardCore
import StewardHarness
import Testing

/// Partners pulling Clever's Data API v3.0 and Events API from the real daemon through the
/// `clever` module, beside a OneRoster partner: a district app with contact fields, a Library
/// app, and a OneRoster app with a school and grade scope. Every body is checked against
/// Clever's Swagger files by Tests/support/validate_clever.py.
@Suite(.serialized) struct CleverTests {
    static let support = OneRosterTests.support

    /// The three partners of issue 6's tests, the Clever ones on `clever-v3`.
    static func listener() throws -> OneRosterTests.Listener {
        let clever = PartnerFileText.district("homework", roles: "student teacher",
                                              fields: ["given_name", "family_name", "grade", "school", "sections", "email", "phone"])
        let narrow = PartnerFileText.district("gradebook", schools: "sch-0001", grades: "3", roles: "student teacher",
                                              fields: ["given_name", "grade", "sections"])
        return try OneRosterTests.Listener(partners: [clever, .library("storytime"), narrow],
                                           connectors: ["homework": "clever-v3", "storytime": "clever-v3"],
                                           modules: ["probe", "oneroster", "clever"])
    }

    /// Bodies kept for the validator: `TARGET=FILE` pairs.
    final class Bodies {
        let folder: String
        private(set) var pairs: [String] = []
        init(in root: String) throws {
            folder = root + "/clever-bodies"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }

        /// GETs `path` and keeps the body, to validate against the path's schema (or the error's).
        func get(_ listener: OneRosterTests.Listener, _ path: String, token: String?) throws -> OneRosterTests.Listener.Answer {
            let answer = try listener.get(path, token: token)
            let file = folder + "/\(pairs.count).json"
            try answer.text.write(toFile: file, atomically: true, encoding: .utf8)
            let bare = String(path.split(separator: "?", maxSplits: 1)[0])
            pairs.append("\(answer.status == 200 ? bare : answer.status == 404 ? "NotFound" : "BadRequest")=\(file)")
            return answer
        }

        func problems() throws -> String {
            let result = try runCommand("/usr/bin/python3", [CleverTests.support + "/validate_clever.py", CleverTests.support + "/clever-data-api-v3.0.yml",
                                                             CleverTests.support + "/clever-events-api-v3.0.yml"] + pairs)
            return result.status == 0 ? "" : result.stdout + result.stderr
        }
    }

    /// Follows `links` rel `next` from `path`; every `data` object of every page.
    static func pageAll(_ listener: OneRosterTests.Listener, _ bodies: Bodies, _ path: String, token: String) throws -> [[String: Any]] {
        var objects: [[String: Any]] = []
        var next: String? = path
        var pages = 0
        while let url = next, pages < 500 {
            let page = try bodies.get(listener, url, token: token)
            #expect(page.status == 200, "\(url): \(page.text.prefix(300))")
            guard page.status == 200 else { break }
            objects += (page.body["data"] as? [[String: Any]] ?? []).compactMap { $0["data"] as? [String: Any] }
            next = (page.body["links"] as? [[String: String]])?.first { $0["rel"] == "next" }?["uri"]
            pages += 1
        }
        return objects
    }

    /// Every property name in a JSON value, at any depth.
    static func keys(_ value: Any) -> Set<String> {
        if let object = value as? [String: Any] { return object.reduce(into: Set(object.keys)) { $0.formUnion(keys($1.value)) } }
        if let array = value as? [Any] { return array.reduce(into: Set()) { $0.formUnion(keys($1)) } }
        return []
    }

    /// The student behind `pseudonym` for `partner`: HMAC-SHA-256 under the district secret,
    /// recomputed with Python's hmac for every student, as DistrictSecret.pseudonym makes it.
    static func sourcedId(of pseudonym: String, partner: String, _ listener: OneRosterTests.Listener) throws -> String {
        let script = """
            import hashlib, hmac, sys
            key = open(sys.argv[1], 'rb').read()
            for line in sys.stdin:
                sourced = line.strip()
                mac = hmac.new(key, b'steward/pseudonym/v1\\0' + sys.argv[2].encode() + b'\\0' + sourced.encode(), hashlib.sha256)
                if mac.hexdigest()[:32] == sys.argv[3]: print(sourced)
            """
        let students = try sqlite(listener.sandbox.databasePath, "SELECT \"sourcedId\" FROM roster_users WHERE role = 'student'").stdout
        let result = try runCommand("/usr/bin/python3", ["-c", script, listener.sandbox.stateDirectory + "/district.secret", partner, pseudonym],
                                    input: students)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func count(_ listener: OneRosterTests.Listener, _ sql: String) throws -> Int {
        Int(try sqlite(listener.sandbox.databasePath, sql).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func aCleverPartnerSyncsItsViewInIdOrderWithNothingBeyondItsGrant() throws {
        let listener = try Self.listener()
        defer { listener.finish() }
        let bodies = try Bodies(in: listener.sandbox.root)
        let token = try listener.token("homework")

        // Every user once, in ascending id order, and exactly the view's persons.
        let users = try Self.pageAll(listener, bodies, "/v3.0/users?limit=37", token: token)
        let ids = users.compactMap { $0["id"] as? String }
        #expect(ids.count == users.count && Set(ids).count == ids.count, "none twice")
        #expect(ids == ids.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }, "ascending ids")
        let persons = try Self.count(listener, "SELECT count(*) FROM roster_users WHERE role IN ('student', 'teacher')")
        #expect(ids.count == persons)
        let counted = try bodies.get(listener, "/v3.0/users?limit=1&count=true", token: token)
        #expect(counted.body["count"] as? Int == persons)
        // Backward from the end gives the same ids.
        let last = try bodies.get(listener, "/v3.0/users?limit=5&ending_before=\(ids[ids.count - 1])", token: token)
        #expect((last.body["data"] as? [[String: Any]])?.compactMap { ($0["data"] as? [String: Any])?["id"] as? String } == Array(ids[(ids.count - 6)..<(ids.count - 1)]))
        // The same ids on a second sync: no churn.
        #expect(try Self.pageAll(listener, bodies, "/v3.0/users?limit=500", token: token).compactMap { $0["id"] as? String } == ids)

        // Students by role; sections, schools, terms, courses and the district.
        let students = try Self.pageAll(listener, bodies, "/v3.0/users?role=student&limit=100", token: token)
        #expect(students.count == (try Self.count(listener, "SELECT count(*) FROM roster_users WHERE role = 'student'")))
        let sections = try Self.pageAll(listener, bodies, "/v3.0/sections?limit=50", token: token)
        #expect(sections.count == (try Self.count(listener, "SELECT count(*) FROM roster_classes")))
        #expect(sections.allSatisfy { !($0["students"] as? [String] ?? []).isEmpty }, "a section lists its students")
        let schools = try Self.pageAll(listener, bodies, "/v3.0/schools", token: token)
        #expect(schools.count == (try Self.count(listener, "SELECT count(*) FROM roster_orgs WHERE type = 'school'")))
        #expect(!(try Self.pageAll(listener, bodies, "/v3.0/terms", token: token)).isEmpty)
        #expect(!(try Self.pageAll(listener, bodies, "/v3.0/courses", token: token)).isEmpty)
        #expect((try Self.pageAll(listener, bodies, "/v3.0/districts", token: token)).count == 1)
        let section = try #require(sections.first?["id"] as? String)
        let members = try Self.pageAll(listener, bodies, "/v3.0/sections/\(section)/users", token: token)
        #expect(Set(members.compactMap { $0["id"] as? String }).isSuperset(of: sections.first?["students"] as? [String] ?? ["none"]))

        // Nothing outside the grant: no demographics, no ids of the district's own, anywhere.
        let everything = users + sections
        let withheld: Set<String> = ["dob", "gender", "race", "hispanic_ethnicity", "ell_status", "sis_id", "state_id", "student_number",
                                     "teacher_number", "credentials", "legacy_id", "location"]
        #expect(Self.keys(everything).isDisjoint(with: withheld), "\(Self.keys(everything).intersection(withheld))")
        let student = try #require(students.first)
        #expect((student["email"] as? String)?.isEmpty == false, "contact fields are granted")
        let studentId = try #require(student["id"] as? String)
        #expect(try bodies.get(listener, "/v3.0/users/\(studentId)", token: token).status == 200)

        // An id outside the view, or another partner's id for the same student: 404.
        let sourcedId = try Self.sourcedId(of: studentId, partner: "homework", listener)
        #expect(!sourcedId.isEmpty)
        #expect(try bodies.get(listener, "/v3.0/users/\(sourcedId)", token: token).status == 404, "the district's id is not the partner's")
        #expect(try bodies.get(listener, "/v3.0/users/0123456789abcdef0123456789abcdef", token: token).status == 404)
        #expect(try bodies.get(listener, "/v3.0/users?limit=0", token: token).status == 400)
        #expect(try bodies.get(listener, "/v3.0/users?role=janitor", token: token).status == 400)

        // Bad and rotated credentials: 401 in Clever's format; another connector's partner: 403.
        let bad = try listener.get("/v3.0/users", token: "not-a-token")
        #expect(bad.status == 401 && bad.body["message"] is String, "\(bad.text)")
        #expect(try listener.get("/v3.0/users", token: nil).status == 401)
        let roster = try listener.token("gradebook")
        #expect(try listener.get("/v3.0/users", token: roster).status == 403, "gradebook uses oneroster-rest")
        #expect(try listener.get("/ims/oneroster/rostering/v1p2/users", token: token).status == 403, "homework uses clever-v3")

        // The disclosures of a student served match what was served.
        let record = try JSONDecoder().decode(PersonDisclosures.self, from: Data(try listener.ctl("disclosures", sourcedId, "--json").stdout.utf8))
        let served = try #require(record.disclosures.first { $0.partner == "homework" })
        #expect(Set(served.fields).isSuperset(of: ["given_name", "family_name", "email"]), "\(served.fields)")
        #expect(Set(served.fields).isSubset(of: ["given_name", "family_name", "grade", "school", "sections", "email", "phone"]))

        let problems = try bodies.problems()
        #expect(problems.isEmpty, "\(problems.prefix(3000))")
    }

    @Test func membersListedInsideASectionAreDisclosedAndCanBeLookedUp() throws {
        let listener = try Self.listener()
        defer { listener.finish() }
        let bodies = try Bodies(in: listener.sandbox.root)
        let token = try listener.token("homework")
        func disclosed() throws -> Int { try Self.count(listener, "SELECT count(*) FROM disclosures WHERE partner = 'homework'") }
        // The first page of sections, before any user was listed.
        let first = try bodies.get(listener, "/v3.0/sections?limit=3", token: token)
        let sections = (first.body["data"] as? [[String: Any]] ?? []).compactMap { $0["data"] as? [String: Any] }
        let members = Set(sections.flatMap { $0["students"] as? [String] ?? [] })
        #expect(!members.isEmpty)
        #expect(try disclosed() == members.count, "each listed student's membership is recorded")
        // A student met only inside a section can be asked for by that id.
        let student = try #require(members.first)
        let answer = try bodies.get(listener, "/v3.0/users/\(student)", token: token)
        #expect(answer.status == 200 && (answer.body["data"] as? [String: Any])?["id"] as? String == student, "\(answer.text.prefix(200))")
        // Every later page's members are recorded as they are listed.
        var seen = members
        var next = (first.body["links"] as? [[String: String]])?.first { $0["rel"] == "next" }?["uri"]
        var pages = 1
        while let uri = next, pages < 200 {
            let page = try bodies.get(listener, uri, token: token)
            seen.formUnion((page.body["data"] as? [[String: Any]] ?? []).compactMap { $0["data"] as? [String: Any] }
                .flatMap { $0["students"] as? [String] ?? [] })
            #expect(try disclosed() == seen.count, "page \(pages + 1)")
            next = (page.body["links"] as? [[String: String]])?.first { $0["rel"] == "next" }?["uri"]
            pages += 1
        }
        #expect(seen.count > members.count && pages > 1)
        let problems = try bodies.problems()
        #expect(problems.isEmpty, "\(problems.prefix(3000))")
    }

    @Test func aLibraryAppGetsOnlyTheCappedFieldsOfItsAdoptedClass() throws {
        let listener = try Self.listener()
        defer { listener.finish() }
        let bodies = try Bodies(in: listener.sandbox.root)
        let adoption = try sqlite(listener.sandbox.databasePath, """
            SELECT e."userSourcedId", e."classSourcedId" FROM roster_enrollments e WHERE e."role" = 'teacher' LIMIT 1
            """).stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map(String.init)
        #expect(try listener.ctl("library", "adopt", "storytime", "--teacher", adoption[0], "--section", adoption[1]).status == 0)
        let token = try listener.token("storytime")
        let users = try Self.pageAll(listener, bodies, "/v3.0/users?limit=10", token: token)
        let enrolled = try Self.count(listener, "SELECT count(*) FROM roster_enrollments WHERE role = 'student' AND \"classSourcedId\" = '\(adoption[1])'")
        #expect(users.count == enrolled, "only the adopted class's students")
        for user in users {
            let name = user["name"] as? [String: String] ?? [:]
            #expect(name.keys.sorted() == ["first", "last"] && name["last"]?.count == 1, "first name and last initial: \(name)")
            let roles = user["roles"] as? [String: Any] ?? [:]
            #expect(Self.keys(roles).isSubset(of: ["student", "grade"]), "\(Self.keys(roles))")
            #expect(user["email"] == nil)
        }
        let sections = try Self.pageAll(listener, bodies, "/v3.0/sections", token: token)
        #expect(sections.count == 1 && Set(sections[0].keys).isSubset(of: ["id", "name", "students", "district", "last_modified"]),
                "\(sections.first?.keys.sorted() ?? [])")
        #expect(try Self.pageAll(listener, bodies, "/v3.0/schools", token: token).isEmpty, "a Library app gets no district records")
        let problems = try bodies.problems()
        #expect(problems.isEmpty, "\(problems.prefix(3000))")
    }

    @Test func afterADeltaImportTheEventsShowTheChangeWithGrantedPreviousAttributesOnly() throws {
        let listener = try Self.listener()
        defer { listener.finish() }
        let bodies = try Bodies(in: listener.sandbox.root)
        let token = try listener.token("homework")
        // The first load is the data API's: no events yet.
        let none = try bodies.get(listener, "/v3.0/events", token: token)
        #expect(none.status == 200 && (none.body["data"] as? [Any])?.isEmpty == true, "\(none.text.prefix(300))")
        // The partner syncs; the events then tell it what the next import changed of what it holds.
        #expect(!(try Self.pageAll(listener, bodies, "/v3.0/users?limit=1000", token: token)).isEmpty)

        let delta = try GeneratedDrop(in: listener.sandbox.root, name: "delta", students: 200, deltaFrom: listener.sandbox.root + "/district")
        let imported = try listener.ctl("import", delta.path)
        #expect(imported.status == 0, "\(imported.stderr)")
        let events = try Self.pageAll(listener, bodies, "/v3.0/events?limit=20", token: token)
        let types = Dictionary(grouping: events, by: { $0["type"] as? String ?? "" })
        let arrived = try Self.count(listener, "SELECT count(*) FROM roster_users WHERE created_import = 2 AND role IN ('student', 'teacher')")
        let left = try Self.count(listener, """
            SELECT count(*) FROM import_changes WHERE import_id = 2 AND entity = 'users' AND kind = 'removed'
            AND json_extract(previous, '$.role') IN ('student', 'teacher')
            """)
        #expect(types["users.created"]?.count == arrived && arrived > 0)
        #expect(types["users.deleted"]?.count == left && left > 0)
        let renamed = try #require(types["users.updated"]?.first, "\(types.keys.sorted())")
        let previous = try #require(renamed["previous_attributes"] as? [String: Any])
        #expect(Set(previous.keys) == ["name"], "only the granted name changed: \(previous.keys.sorted())")
        #expect((renamed["data"] as? [String: Any])?["object"] != nil)
        let ids = events.compactMap { $0["id"] as? String }
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
        // One event by its id, and the record_type filter.
        #expect(try bodies.get(listener, "/v3.0/events/\(ids[0])", token: token).status == 200)
        let onlyUsers = try Self.pageAll(listener, bodies, "/v3.0/events?record_type=users&limit=100", token: token)
        #expect(onlyUsers.count == events.filter { ($0["type"] as? String)?.hasPrefix("users.") == true }.count)
        // A deleted user is gone from the data API.
        let deleted = try #require((types["users.deleted"]?.first?["data"] as? [String: Any])?["object"] as? [String: Any])
        #expect(try bodies.get(listener, "/v3.0/users/\(deleted["id"] as? String ?? "")", token: token).status == 404)

        // The Library app sees no change outside its (empty) adoption.
        let library = try bodies.get(listener, "/v3.0/events", token: try listener.token("storytime"))
        #expect(library.status == 200 && (library.body["data"] as? [Any])?.isEmpty == true)
        let problems = try bodies.problems()
        #expect(problems.isEmpty, "\(problems.prefix(3000))")
    }
}

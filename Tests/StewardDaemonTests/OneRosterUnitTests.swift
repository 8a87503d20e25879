import ConnectorKit
import Foundation
@testable import OneRosterConnector
import ConnectorTestSupport
import StewardCore
import Testing

// The OneRoster connector's parts, one by one: the filter grammar, the mapping of view fields
// to OneRoster properties, the paging arithmetic and links, and the cursor cache. The whole
// path, through the real daemon and its real view, is in Tests/IntegrationTests/OneRosterTests.swift.

enum OneRosterFixture {
    static let allScopes: Set<String> = [OneRosterModule.Scope.roster, OneRosterModule.Scope.demographics]

    static func student(_ number: Int, fields: [String: SharedFieldValue]? = nil) -> SharedViewRecord {
        SharedViewRecord(id: String(format: "s%03d", number), kind: .student, fields: fields ?? [
            "given_name": .text("Ann\(number)"), "grade": .list([number % 2 == 0 ? "03" : "04"]), "school": .list(["sch-0001"]),
        ], version: 3)
    }

    static func get(_ module: OneRosterModule, _ view: MemoryView, _ path: String, _ query: [(name: String, value: String)] = [],
                    scopes: Set<String> = allScopes, log: DisclosureLog = DisclosureLog()) -> (status: Int, headers: [String: String], body: [String: Any]) {
        let response = module.serve(PartnerRequest(method: "GET", path: path, query: query, headers: [], partner: view.partner,
                                                   scopes: scopes, view: view, disclosures: log), kind: "oneroster-rest")
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, Dictionary(response.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }), body)
    }

    static func codeMinor(_ body: [String: Any]) -> String? {
        (((body["imsx_CodeMinor"] as? [String: Any])?["imsx_codeMinorField"] as? [[String: Any]])?.first)?["imsx_codeMinorFieldValue"] as? String
    }
}

@Suite struct OneRosterFilterTests {
    @Test func aFilterReadsOneOrTwoPredicatesWithEveryOperator() throws {
        let one = try Filter.parse("givenName='Ann Marie'")
        #expect(one == Filter(predicates: [.init(field: "givenName", op: .equal, value: "Ann Marie")], join: nil))
        let two = try Filter.parse("grades>='03' AND familyName ~ 'ro'")
        #expect(two.predicates.map(\.op) == [.greaterOrEqual, .contains] && two.join == .and)
        #expect(try Filter.parse("role!='student' OR dateLastModified<='2020-01-01'").join == .or)
        #expect(try Filter.parse("title='X AND Y'").predicates.map(\.value) == ["X AND Y"], "AND inside quotes is a value")
        for op in Filter.Operator.allCases {
            #expect(try Filter.parse("a\(op.rawValue)'1'").predicates.first?.op == op)
        }
    }

    @Test func malformedFiltersAreRefused() {
        for text in ["", "givenName", "givenName='open", "givenName=Ann", "a='1' AND b='2' AND c='3'", "a='1' XOR b='2'", "='x'"] {
            #expect(throws: Filter.SyntaxError.self, "\(text)") { try Filter.parse(text) }
        }
    }

    @Test func predicatesMatchTextsListsAndMissingValues() throws {
        let filter = try Filter.parse("grades='03' OR givenName~'an'")
        #expect(filter.matches { $0 == "grades" ? ["02", "03"] : [] })
        #expect(filter.matches { $0 == "givenName" ? ["ANNA"] : [] })
        #expect(!filter.matches { _ in [] })
        #expect(try Filter.parse("grades!='03'").matches { _ in [] }, "a missing value is not equal")
        #expect(try !Filter.parse("grades!='03'").matches { _ in ["03", "04"] })
        #expect(try Filter.parse("dateLastModified>'1970-01-01T00:00:02Z'").matches { _ in ["1970-01-01T00:00:03Z"] })
    }
}

@Suite struct OneRosterMappingTests {
    /// A user as `UserWriter` writes it is byte for byte the object path's: every property
    /// present or absent, lists empty or long, values that need escaping, both versions.
    @Test func theUserWriterWritesExactlyWhatTheObjectPathEncodes() throws {
        var random = SplitMix64(seed: 61)
        let texts = ["Ann", "", "O'Brien \"Jr\"", "back\\slash", "tab\tnew\nline", "Élodie 北京", "\u{01}ctl", "sch-0001", "a/b"]
        let fields: [(String, Bool)] = [("given_name", false), ("family_name", false), ("family_initial", false), ("middle_name", false),
                                        ("preferred_name", false), ("grade", true), ("school", true), ("email", false), ("phone", false),
                                        ("sms", false), ("username", false), ("state_id", false), ("student_number", false),
                                        ("sections", true)]
        for version in [OneRosterVersion.v1p1, .v1p2] {
            let mapping = Mapping(version: version) { $0 == 4 ? "2026-11-29T12:00:00Z" : nil }
            var records: [SharedViewRecord] = []
            // Runs of records listing the same names, as a page of a view does: one list of
            // names shared, values of their own.
            let shared = fields.map(\.0)
            for index in 0..<100 {
                let values: [SharedFieldValue] = fields.map { _, isList in
                    isList ? .list([texts.randomElement(using: &random)!]) : .text(texts.randomElement(using: &random)!)
                }
                records.append(SharedViewRecord(id: "shared-\(index)", kind: .student, fields: SharedFields(names: shared, values: values),
                                                version: 4))
            }
            for index in 0..<400 {
                var values: [String: SharedFieldValue] = [:]
                for (name, isList) in fields where Int.random(in: 0..<100, using: &random) < 60 {
                    // Mostly as the view holds them; now and then the other way, as a view may.
                    values[name] = isList != (Int.random(in: 0..<100, using: &random) < 15)
                        ? .list((0..<Int.random(in: 0...3, using: &random)).map { _ in texts.randomElement(using: &random)! })
                        : .text(texts.randomElement(using: &random)!)
                }
                let kind = [SharedRecordKind.student, .teacher, .administrator, .aide].randomElement(using: &random)!
                records.append(SharedViewRecord(id: "id-\(index)", kind: kind, fields: values, version: Int64.random(in: 1...5, using: &random)))
            }
            records.shuffle(using: &random)
            var writer = UserWriter(mapping: mapping)
            let written = writer.page(records)
            let encoded = JSONValue.encode(["users": .array(records.map { .object(mapping.object($0, as: .user)) })])
            #expect(String(decoding: written, as: UTF8.self) == String(decoding: encoded, as: UTF8.self), "\(version)")
            #expect(written == encoded, "\(version)")
            #expect((try? JSONSerialization.jsonObject(with: Data(written))) != nil)
        }
    }

    @Test func aStudentBecomesAUserWithOnlyGrantedPropertiesAndEmptyRequiredOnes() {
        let record = SharedViewRecord(id: "p1", kind: .student, fields: [
            "given_name": .text("Ann"), "grade": .list(["03"]), "school": .list(["sch-1", "sch-2"]), "state_id": .text("S9"),
            "student_number": .text("N1"), "preferred_name": .text("Annie"),
        ], version: 42)
        let user = Mapping(version: .v1p2).object(record, as: .user)
        #expect(user["givenName"] == .string("Ann") && user["familyName"] == .string(""), "withheld family name is empty, not invented")
        #expect(user["email"] == nil && user["middleName"] == nil)
        #expect(user["preferredFirstName"] == .string("Annie"))
        #expect(user["grades"] == .array([.string("03")]))
        #expect(user["identifier"] == .string("N1"))
        #expect(user["userIds"] == .array([.object(["type": .string("state"), "identifier": .string("S9")])]))
        #expect(user["dateLastModified"] == .string("1970-01-01T00:00:42Z"))
        guard case .array(let roles)? = user["roles"] else { Issue.record("no roles"); return }
        #expect(roles.count == 2)
        #expect(roles.first == .object(["roleType": .string("primary"), "role": .string("student"), "org": .object([
            "href": .string("/ims/oneroster/rostering/v1p2/orgs/sch-1"), "sourcedId": .string("sch-1"), "type": .string("org")])]))

        let old = Mapping(version: .v1p1).object(record, as: .user)
        #expect(old["role"] == .string("student") && old["roles"] == nil && old["preferredFirstName"] == nil)
        #expect(old["orgs"]?.comparableTexts == ["sch-1", "sch-2"])
    }

    @Test func withSchoolWithheldARoleHasAnEmptyOrg() {
        let user = Mapping(version: .v1p2).object(SharedViewRecord(id: "p", kind: .administrator, fields: [:]), as: .user)
        #expect(user["roles"] == .array([.object(["roleType": .string("primary"), "role": .string("siteAdministrator"), "org": .object([
            "href": .string(""), "sourcedId": .string(""), "type": .string("org")])])]))
    }

    @Test func propertiesAreServedOnlyFromFieldsTheViewHolds() {
        let served = Mapping(version: .v1p2).properties(of: .user).filter { $0.isServed(given: ["given_name", "grade"]) }.map(\.name)
        #expect(Set(served) == ["sourcedId", "status", "dateLastModified", "enabledUser", "givenName", "grades", "roles"])
    }

    @Test func disclosuresNameTheCatalogueFieldsSent() {
        let mapping = Mapping(version: .v1p2)
        let record = OneRosterFixture.student(1)
        #expect(mapping.disclosedFields(record, properties: mapping.properties(of: .user)) == ["given_name", "grade", "school"])
        let onlyName = mapping.properties(of: .user).filter { $0.name == "givenName" }
        #expect(mapping.disclosedFields(record, properties: onlyName) == ["given_name"])
    }

    @Test func raceBecomesTheOneRosterColumnsOnlyWhenGranted() {
        let mapping = Mapping(version: .v1p2)
        let granted = mapping.object(SharedViewRecord(id: "p", kind: .student, fields: ["race": .list(["asian"])]), as: .demographics)
        #expect(granted["asian"] == .string("true") && granted["white"] == .string("false"))
        #expect(mapping.object(SharedViewRecord(id: "p", kind: .student, fields: [:]), as: .demographics)["asian"] == nil)
    }

    @Test func dateLastModifiedIsTheTimeTheRecordsImportWasApplied() {
        let record = SharedViewRecord(id: "s1", kind: .student, fields: ["given_name": .text("Ann")], version: 3)
        let mapping = Mapping(version: .v1p2) { $0 == 3 ? "2026-11-29T15:31:29Z" : nil }
        #expect(mapping.object(record, as: .user)["dateLastModified"] == .string("2026-11-29T15:31:29Z"))
    }

    @Test func dateLastModifiedIsTheEpochPlusTheRosterVersionInSeconds() {
        #expect(Mapping.dateLastModified(0) == "1970-01-01T00:00:00Z")
        #expect(Mapping.dateLastModified(86_400 * 365 + 3_661) == "1971-01-01T01:01:01Z")
        #expect(Mapping.dateLastModified(951_782_400) == "2000-02-29T00:00:00Z")
    }
}

@Suite struct OneRosterRouteTests {
    @Test func pathsNameCollectionsObjectsAndNestedCollectionsInBothVersions() throws {
        let users = try #require(Route.parse("/ims/oneroster/rostering/v1p2/users"))
        #expect(users.version == .v1p2 && users.entity == .user && users.kinds.count == 4 && users.id == nil)
        let school = try #require(Route.parse("/ims/oneroster/v1p1/schools/sch-1"))
        #expect(school.version == .v1p1 && school.entity == .org && school.types == ["school"] && school.id == "sch-1")
        let members = try #require(Route.parse("/ims/oneroster/v1p1/classes/c1/students"))
        #expect(members.kinds == [.student] && members.membership == .enrolledIn(section: "c1") && members.parents.first?.id == "c1")
        let deep = try #require(Route.parse("/ims/oneroster/rostering/v1p2/schools/s1/classes/c1/enrollments"))
        #expect(deep.entity == .enrollment && deep.parents.count == 2 && deep.membership == .field("section", holds: "c1"))
        #expect(Route.parse("/ims/oneroster/rostering/v1p2/terms/t1/gradingPeriods")?.membership == .field("parent", holds: "t1"))
        for path in ["/ims/oneroster/v1p3/users", "/ims/oneroster/v1p1/pets", "/ims/oneroster/v1p1/users/u1/pets",
                     "/ims/oneroster/v1p1/users//classes", "/ims/oneroster/v1p1/orgs/o1/classes"] {
            #expect(Route.parse(path) == nil, "\(path)")
        }
    }
}

@Suite struct OneRosterPagingTests {
    @Test func queriesDefaultCapAndRefuse() throws {
        #expect(try Query.parse([]).limit == 100)
        #expect(try Query.parse([("limit", "5000")]).limit == 1000)
        #expect(throws: StatusInfo.self) { try Query.parse([("limit", "0")]) }
        #expect(throws: StatusInfo.self) { try Query.parse([("offset", "-1")]) }
        #expect(throws: StatusInfo.self, "an offset past int32 would overflow the paging sums") { try Query.parse([("offset", "9223372036854775807")]) }
        #expect(throws: StatusInfo.self) { try Query.parse([("orderBy", "sideways")]) }
        #expect(try Query.parse([("fields", "givenName, grades")]).fields == ["givenName", "grades"])
    }

    @Test func linksNameFirstPrevNextAndLastKeepingTheQuery() throws {
        var query = try Query.parse([("limit", "10"), ("offset", "20")])
        let links = query.links(path: "/ims/oneroster/v1p1/users", pairs: [("filter", "givenName='A B'"), ("limit", "10"), ("offset", "20")],
                                total: 45)
        #expect(links.contains("offset=30>; rel=\"next\"") && links.contains("offset=10>; rel=\"prev\""))
        #expect(links.contains("offset=0>; rel=\"first\"") && links.contains("offset=40>; rel=\"last\""))
        #expect(links.contains("filter=givenName%3D%27A%20B%27&limit=10"))
        query.offset = 40
        #expect(!query.links(path: "/p", pairs: [], total: 45).contains("next"))
        #expect(query.links(path: "/p", pairs: [], total: 0).contains("offset=0>; rel=\"last\""))
    }

    @Test func sequentialPagesReadOnePageOfTheViewEach() {
        let view = MemoryView((0..<250).map { OneRosterFixture.student($0) })
        let module = OneRosterModule()
        var seen: [String] = []
        for offset in stride(from: 0, to: 250, by: 50) {
            let before = view.pagesRead.count
            let page = OneRosterFixture.get(module, view, "/ims/oneroster/rostering/v1p2/students", [("limit", "50"), ("offset", String(offset))])
            #expect(page.status == 200 && page.headers["X-Total-Count"] == "250")
            seen += (page.body["users"] as? [[String: Any]] ?? []).compactMap { $0["sourcedId"] as? String }
            // The first request also takes the census; every later one reads exactly one page.
            if offset > 0 { #expect(view.pagesRead.count - before == 1, "offset \(offset)") }
        }
        #expect(seen == (0..<250).map { String(format: "s%03d", $0) })
        #expect(module.cache.keptCursors == 4)
    }

    @Test func aJumpReadsForwardFromTheNearestKeptCursor() {
        let view = MemoryView((0..<250).map { OneRosterFixture.student($0) })
        let module = OneRosterModule()
        let page = OneRosterFixture.get(module, view, "/ims/oneroster/v1p1/students", [("limit", "10"), ("offset", "200")])
        #expect((page.body["users"] as? [[String: Any]])?.first?["sourcedId"] as? String == "s200")
        let later = view.pagesRead.count
        _ = OneRosterFixture.get(module, view, "/ims/oneroster/v1p1/students", [("limit", "10"), ("offset", "215")])
        #expect(view.pagesRead.suffix(from: later).map(\.limit) == [5, 10], "from 210, five skipped, then the page")
    }

    @Test func theCursorCacheStaysBounded() {
        let view = MemoryView((0..<300).map { OneRosterFixture.student($0) })
        let cache = ViewCache(capacity: 20)
        for offset in 0..<100 { _ = try? cache.records(.student, of: view, offset: offset * 2, count: 1) }
        #expect(cache.keptCursors <= 20)
    }
}

@Suite struct OneRosterServeTests {
    let view = MemoryView((0..<30).map { OneRosterFixture.student($0) } + [
        SharedViewRecord(id: "sec1", kind: .section, fields: ["title": .text("Math"), "school": .text("sch-0001")]),
        SharedViewRecord(id: "e1", kind: .enrollment, fields: ["user": .text("s004"), "section": .text("sec1"), "role": .text("student")]),
    ])

    @Test func filtersSortsAndSelectionsUseOnlyServedProperties() {
        let module = OneRosterModule()
        let path = "/ims/oneroster/rostering/v1p2/users"
        let filtered = OneRosterFixture.get(module, view, path, [("filter", "grades='03' AND givenName~'ann1'"), ("sort", "givenName"),
                                                                 ("orderBy", "desc"), ("fields", "givenName")])
        #expect(filtered.status == 200)
        let names = (filtered.body["users"] as? [[String: Any]] ?? []).map { $0["givenName"] as? String ?? "" }
        #expect(names == ["Ann18", "Ann16", "Ann14", "Ann12", "Ann10"])
        #expect((filtered.body["users"] as? [[String: Any]])?.first?.keys.sorted() == ["givenName"])
        #expect(filtered.headers["X-Total-Count"] == "5")

        let withheld = OneRosterFixture.get(module, view, path, [("filter", "familyName='Smith'")])
        #expect(withheld.status == 400 && OneRosterFixture.codeMinor(withheld.body) == "invalid_filter_field")
        let unknown = OneRosterFixture.get(module, view, path, [("fields", "givenName,email")])
        #expect(unknown.status == 400 && OneRosterFixture.codeMinor(unknown.body) == "invalid_selection_field")
    }

    @Test func unknownIdsAndWrongScopesAreRefusedInTheImsxFormat() {
        let module = OneRosterModule()
        let missing = OneRosterFixture.get(module, view, "/ims/oneroster/v1p1/users/nobody")
        #expect(missing.status == 404 && OneRosterFixture.codeMinor(missing.body) == "unknownobject")
        #expect(missing.body["imsx_codeMajor"] as? String == "failure" && missing.body["imsx_severity"] as? String == "error")
        #expect(OneRosterFixture.get(module, view, "/ims/oneroster/v1p1/teachers/s001").status == 404, "a student is no teacher")
        let core = OneRosterFixture.get(module, view, "/ims/oneroster/rostering/v1p2/demographics", scopes: [OneRosterModule.Scope.core])
        #expect(core.status == 403 && OneRosterFixture.codeMinor(core.body) == "forbidden")
        #expect(OneRosterFixture.get(module, view, "/ims/oneroster/rostering/v1p2/users", scopes: [OneRosterModule.Scope.demographics]).status == 403)
        let refusal = module.refuse(.rateLimited(retryAfterSeconds: 7), kind: "oneroster-rest")
        #expect(refusal.status == 429 && refusal.headers.contains { $0 == ("Retry-After", "7") })
        #expect(module.refuse(.unauthenticated, kind: "oneroster-rest").headers.contains { $0.name == "WWW-Authenticate" && $0.value.hasPrefix("Bearer") })
    }

    @Test func nestedCollectionsFollowTheViewsEnrollmentsAndReportDisclosures() {
        let module = OneRosterModule()
        let log = DisclosureLog()
        let members = OneRosterFixture.get(module, view, "/ims/oneroster/rostering/v1p2/classes/sec1/students", log: log)
        #expect((members.body["users"] as? [[String: Any]])?.compactMap { $0["sourcedId"] as? String } == ["s004"])
        #expect(log.all.map(\.ids) == [["s004"]] && log.all.first?.fields == ["given_name", "grade", "school"])
        let classes = OneRosterFixture.get(module, view, "/ims/oneroster/v1p1/students/s004/classes")
        #expect((classes.body["classes"] as? [[String: Any]])?.count == 1)
        #expect(OneRosterFixture.get(module, view, "/ims/oneroster/v1p1/classes/nope/students").status == 404)
        #expect(OneRosterFixture.get(module, view, "/ims/oneroster/v1p1/schools/sch-0001/students").status == 404,
                "the school is not in this view")
    }

    @Test func aSchoolsPersonsAreNotListedWhenTheGrantWithholdsSchool() {
        let module = OneRosterModule()
        let school = SharedViewRecord(id: "sch-1", kind: .org, fields: ["name": .text("One"), "type": .text("school"), "identifier": .text("1")])
        let withheld = MemoryView([school, OneRosterFixture.student(1, fields: ["given_name": .text("Ann")])])
        let refused = OneRosterFixture.get(module, withheld, "/ims/oneroster/rostering/v1p2/schools/sch-1/students")
        #expect(refused.status == 403 && OneRosterFixture.codeMinor(refused.body) == "forbidden")
        let granted = MemoryView([school, OneRosterFixture.student(1, fields: ["school": .list(["sch-1"])]),
                                  OneRosterFixture.student(2, fields: ["school": .list(["sch-2"])])])
        let listed = OneRosterFixture.get(OneRosterModule(), granted, "/ims/oneroster/rostering/v1p2/schools/sch-1/students")
        #expect((listed.body["users"] as? [[String: Any]])?.compactMap { $0["sourcedId"] as? String } == ["s001"])
    }

    @Test func orgsAndSessionsListTheirChildrenInTheView() {
        let view = MemoryView([
            SharedViewRecord(id: "dist", kind: .org, fields: ["name": .text("D"), "type": .text("district"), "identifier": .text("0")]),
            SharedViewRecord(id: "sch-1", kind: .org, fields: ["name": .text("S"), "type": .text("school"), "identifier": .text("1"),
                                                                "parent": .text("dist")]),
        ])
        let district = OneRosterFixture.get(OneRosterModule(), view, "/ims/oneroster/rostering/v1p2/orgs/dist")
        let children = ((district.body["org"] as? [String: Any])?["children"] as? [[String: Any]])?.compactMap { $0["sourcedId"] as? String }
        #expect(children == ["sch-1"])
        let school = OneRosterFixture.get(OneRosterModule(), view, "/ims/oneroster/rostering/v1p2/schools", [("filter", "parent='dist'")])
        #expect(school.headers["X-Total-Count"] == "1")
    }
}

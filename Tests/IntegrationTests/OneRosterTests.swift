import Foundation
import StewardControl
import StewardCore
import StewardHarness
import Testing

/// Partners pulling OneRoster 1.1 and 1.2 from the real daemon through the `oneroster` module:
/// every collection paged exactly once, nothing outside a grant in any answer, withheld fields
/// refused in filters and selections, refusals in the imsx format, the record of disclosures,
/// and every body checked against the OneRoster 1.2 OpenAPI schemas by
/// Tests/support/validate_oneroster.py (python3-jsonschema).
@Suite(.serialized) struct OneRosterTests {
    static let v1p2 = "/ims/oneroster/rostering/v1p2"
    static let v1p1 = "/ims/oneroster/v1p1"
    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/support"

    /// A daemon with the partner listener, `modules`, `partners` (made to use the connector
    /// `connectors` names for them, `oneroster-rest` otherwise), and a 200-student district
    /// imported.
    final class Listener {
        let sandbox: Sandbox
        let daemon: DaemonProcess
        let certificates: TestCertificates
        let port: Int
        /// Bodies saved for schema validation: (schema name, file).
        private(set) var bodies: [(schema: String, path: String, partial: Bool, v1p1: Bool)] = []

        init(partners: [PartnerFileText], connectors: [String: String] = [:], modules: [String] = ["probe", "oneroster"]) throws {
            sandbox = try Sandbox(roles: People.roles, modules: modules)
            certificates = try TestCertificates(in: sandbox.root)
            for partner in partners {
                var text = partner.text.replacingOccurrences(of: "Connector=probe", with: "Connector=\(connectors[partner.name] ?? "oneroster-rest")")
                // Paging every collection takes more than the default 600 requests a minute.
                if partner.access.isEmpty { text += "\n[Access]\nRequestsPerMinute=100000\n" }
                try sandbox.write(text, to: sandbox.partnerDirectory + "/\(partner.name).conf")
            }
            try sandbox.writeConfiguration(roles: People.roles, modules: modules, extra: """

                [API]
                Listen=127.0.0.1:0
                Certificate=server.pem
                PrivateKey=server.key
                """)
            daemon = try DaemonProcess(sandbox: sandbox)
            try daemon.waitUntilReady()
            let status = try daemon.client().call(ControlRequest(method: ControlMethod.status.rawValue)).decode(ServiceStatus.self)
            port = status.api?.port ?? 0
            let drop = try GeneratedDrop(in: sandbox.root, name: "district", students: 200)
            let imported = try ctl("import", drop.path)
            guard imported.status == 0 else { throw SandboxError("import failed: \(imported.stdout) \(imported.stderr)") }
            try FileManager.default.createDirectory(atPath: sandbox.root + "/bodies", withIntermediateDirectories: true)
        }

        func finish() {
            #expect(daemon.stop() == 0, "\(daemon.log)")
            sandbox.remove()
        }

        func ctl(_ arguments: String...) throws -> CommandResult {
            try runCommand(Binaries.stewardctl, ["--socket", sandbox.socketPath] + arguments)
        }

        /// A bearer token for `partner`, with `scope` when given.
        func token(_ partner: String, scope: String? = nil) throws -> String {
            let result = try ctl("partners", "credentials", partner, "--rotate", "--json")
            let credentials = try JSONDecoder().decode(PartnerCredentials.self, from: Data(result.stdout.utf8))
            var arguments = ["-s", "--cacert", certificates.caFile, "-u", "\(credentials.clientId!):\(credentials.clientSecret!)",
                             "-d", "grant_type=client_credentials", "https://127.0.0.1:\(port)/oauth/token"]
            if let scope { arguments += ["-d", "scope=\(scope)"] }
            let answer = try runCommand("/usr/bin/curl", arguments)
            let body = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
            return try #require(body?["access_token"] as? String, "\(answer.stdout)")
        }

        struct Answer {
            var status: Int
            var headers: [String: String]
            var body: [String: Any]
            var text: String

            /// The target of the `Link` header's `rel` link.
            func link(_ rel: String) -> String? {
                guard let header = headers["link"] else { return nil }
                for part in header.components(separatedBy: ", ") where part.hasSuffix("rel=\"\(rel)\"") {
                    guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">") else { continue }
                    return String(part[part.index(after: open)..<close])
                }
                return nil
            }

            var codeMinor: String? {
                (((body["imsx_CodeMinor"] as? [String: Any])?["imsx_codeMinorField"] as? [[String: Any]])?.first)?["imsx_codeMinorFieldValue"] as? String
            }
        }

        /// GETs `path` (already percent-encoded) with `token`, and saves the body to validate
        /// against `schema` (imsx_StatusInfoDType for an error) when given.
        func get(_ path: String, token: String?, schema: String? = nil, partial: Bool = false) throws -> Answer {
            var arguments = ["-s", "-D", "-", "--cacert", certificates.caFile, "https://127.0.0.1:\(port)\(path)"]
            if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
            let result = try runCommand("/usr/bin/curl", arguments)
            let parts = result.stdout.components(separatedBy: "\r\n\r\n")
            let head = parts[0].components(separatedBy: "\r\n")
            let status = Int(head[0].split(separator: " ").dropFirst().first ?? "") ?? 0
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let text = parts.dropFirst().joined(separator: "\r\n\r\n")
            if let schema {
                let file = sandbox.root + "/bodies/\(bodies.count).json"
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                bodies.append((status == 200 ? schema : "imsx_StatusInfoDType", file, partial && status == 200, path.hasPrefix(OneRosterTests.v1p1)))
            }
            let body = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return Answer(status: status, headers: headers, body: body, text: text)
        }

        /// Every saved body against its schema: the validator's complaints, empty when all pass.
        func schemaProblems() throws -> String {
            var problems = ""
            for partial in [false, true] {
                for v1p1 in [false, true] {
                    let pairs = bodies.filter { $0.partial == partial && $0.v1p1 == v1p1 }.map { "\($0.schema)=\($0.path)" }
                    guard !pairs.isEmpty else { continue }
                    let flags = (partial ? ["--partial"] : []) + (v1p1 ? ["--v1p1"] : [])
                    let result = try runCommand("/usr/bin/python3", [support + "/validate_oneroster.py",
                                                                     support + "/oneroster-v1p2-rostering-openapi.json"] + flags + pairs)
                    if result.status != 0 { problems += result.stdout + result.stderr }
                }
            }
            return problems
        }
    }

    /// The collections of both versions, with the envelope and the schemas of a page and of one object.
    static let collections: [(path: String, envelope: String, setSchema: String, singleSchema: String)] = [
        ("users", "users", "UserSetDType", "SingleUserDType"), ("students", "users", "UserSetDType", "SingleUserDType"),
        ("teachers", "users", "UserSetDType", "SingleUserDType"), ("classes", "classes", "ClassSetDType", "SingleClassDType"),
        ("orgs", "orgs", "OrgSetDType", "SingleOrgDType"), ("schools", "orgs", "OrgSetDType", "SingleOrgDType"),
        ("academicSessions", "academicSessions", "AcademicSessionSetDType", "SingleAcademicSessionDType"),
        ("terms", "academicSessions", "AcademicSessionSetDType", "SingleAcademicSessionDType"),
        ("gradingPeriods", "academicSessions", "AcademicSessionSetDType", "SingleAcademicSessionDType"),
        ("courses", "courses", "CourseSetDType", "SingleCourseDType"),
        ("enrollments", "enrollments", "EnrollmentSetDType", "SingleEnrollmentDType"),
        ("demographics", "demographics", "DemographicsSetDType", "SingleDemographicsDType"),
    ]

    /// Follows `Link: rel="next"` from `path` to the end; every object of every page.
    static func pageAll(_ listener: Listener, _ path: String, envelope: String, token: String, schema: String?) throws
        -> (objects: [[String: Any]], total: Int?) {
        var objects: [[String: Any]] = []
        var next: String? = path
        var total: Int?
        while let url = next {
            let page = try listener.get(url, token: token, schema: schema)
            #expect(page.status == 200, "\(url): \(page.text.prefix(300))")
            guard page.status == 200 else { break }
            objects += page.body[envelope] as? [[String: Any]] ?? []
            total = page.headers["x-total-count"].flatMap { Int($0) }
            next = page.link("next")
        }
        return (objects, total)
    }

    @Test func aDistrictPartnerPagesEveryCollectionOfBothVersionsExactlyOnceAndEveryBodyValidates() throws {
        let partner = PartnerFileText.district("mathfacts", fields: ["given_name", "family_name", "grade", "school", "sections", "email",
                                                                      "state_id", "birth_date", "sex"])
        let listener = try Listener(partners: [partner])
        defer { listener.finish() }
        let token = try listener.token("mathfacts")
        let list = try JSONDecoder().decode(PartnersList.self, from: Data(try listener.ctl("partners", "--json").stdout.utf8))
        let counts = try #require(list.partners.first).counts

        for base in [Self.v1p2, Self.v1p1] {
            var found: [String: [[String: Any]]] = [:]
            for collection in Self.collections {
                let (objects, total) = try Self.pageAll(listener, "\(base)/\(collection.path)?limit=37", envelope: collection.envelope,
                                                        token: token, schema: collection.setSchema)
                let ids = objects.compactMap { $0["sourcedId"] as? String }
                #expect(ids.count == objects.count && Set(ids).count == ids.count, "\(base)/\(collection.path): none twice")
                #expect(total == ids.count, "\(base)/\(collection.path): X-Total-Count")
                found[collection.path] = objects
                if let first = ids.first {
                    let one = try listener.get("\(base)/\(collection.path)/\(first)", token: token, schema: collection.singleSchema)
                    #expect(one.status == 200, "\(base)/\(collection.path)/\(first)")
                }
            }
            #expect(found["students"]?.count == counts.students && found["teachers"]?.count == counts.teachers)
            #expect(found["classes"]?.count == counts.sections)
            #expect(found["users"]?.count == counts.students + counts.teachers)
            #expect(found["demographics"]?.count == counts.students)
            let district = found["orgs"]?.first { $0["type"] as? String == "district" }
            #expect((district?["children"] as? [[String: Any]])?.count == found["schools"]?.count, "a district's schools are its children")
            #expect(found["enrollments"]?.isEmpty == false && found["schools"]?.isEmpty == false && found["terms"]?.isEmpty == false)
            for user in found["users"] ?? [] {
                let expected: Set<String> = base == Self.v1p2
                    ? ["sourcedId", "status", "dateLastModified", "enabledUser", "givenName", "familyName", "grades", "roles", "email", "userIds"]
                    : ["sourcedId", "status", "dateLastModified", "enabledUser", "givenName", "familyName", "grades", "role", "orgs", "email", "userIds"]
                #expect(Set(user.keys).isSubset(of: expected), "\(user.keys.sorted())")
            }

            // Nested collections: members of a class, a school's students, a student's classes.
            let section = try #require(found["classes"]?.first?["sourcedId"] as? String)
            let school = try #require(found["schools"]?.first?["sourcedId"] as? String)
            let term = try #require(found["terms"]?.first?["sourcedId"] as? String)
            let studentIds = Set((found["students"] ?? []).compactMap { $0["sourcedId"] as? String })
            let members = try Self.pageAll(listener, "\(base)/classes/\(section)/students", envelope: "users", token: token, schema: "UserSetDType")
            #expect(!members.objects.isEmpty && members.objects.allSatisfy { studentIds.contains($0["sourcedId"] as? String ?? "") })
            let student = try #require(members.objects.first?["sourcedId"] as? String)
            let classes = try Self.pageAll(listener, "\(base)/students/\(student)/classes", envelope: "classes", token: token, schema: "ClassSetDType")
            #expect(classes.objects.contains { $0["sourcedId"] as? String == section })
            for nested in ["schools/\(school)/students", "schools/\(school)/teachers", "classes/\(section)/teachers",
                           "users/\(student)/classes"] {
                #expect(try listener.get("\(base)/\(nested)", token: token, schema: nested.hasSuffix("classes") ? "ClassSetDType" : "UserSetDType").status == 200)
            }
            for (nested, schema) in [("schools/\(school)/classes", "ClassSetDType"), ("schools/\(school)/enrollments", "EnrollmentSetDType"),
                                     ("schools/\(school)/courses", "CourseSetDType"), ("schools/\(school)/terms", "AcademicSessionSetDType"),
                                     ("terms/\(term)/classes", "ClassSetDType"), ("terms/\(term)/gradingPeriods", "AcademicSessionSetDType")] {
                #expect(try listener.get("\(base)/\(nested)", token: token, schema: schema).status == 200, "\(nested)")
            }
        }
        let problems = try listener.schemaProblems()
        #expect(problems.isEmpty, "\(problems.prefix(3000))")

        // Demographics need their own scope, and it alone reads nothing else.
        let core = try listener.token("mathfacts", scope: "roster-core.readonly")
        let refused = try listener.get("\(Self.v1p2)/demographics", token: core)
        #expect(refused.status == 403 && refused.codeMinor == "forbidden", "\(refused.text)")
        #expect(try listener.get("\(Self.v1p1)/students?limit=1", token: core).status == 200)
        let demographicsOnly = try listener.token("mathfacts", scope: "roster-demographics.readonly")
        #expect(try listener.get("\(Self.v1p1)/demographics?limit=1", token: demographicsOnly).status == 200)
        #expect(try listener.get("\(Self.v1p2)/users?limit=1", token: demographicsOnly).status == 403)

        // Each person's disclosures name what was sent to the partner.
        let someone = try sqlite(listener.sandbox.databasePath, "SELECT \"sourcedId\" FROM roster_users WHERE \"role\" = 'student' LIMIT 1")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let record = try JSONDecoder().decode(PersonDisclosures.self, from: Data(try listener.ctl("disclosures", someone, "--json").stdout.utf8))
        #expect(record.disclosures.map(\.partner) == ["mathfacts"])
        let disclosed = Set(record.disclosures.first?.fields ?? [])
        #expect(disclosed.isSuperset(of: ["given_name", "family_name", "grade", "birth_date"]), "\(disclosed)")
    }

    @Test func nothingOutsideAGrantLeavesAndWithheldFieldsCannotBeFilteredSelectedOrLookedUp() throws {
        let narrow = PartnerFileText.district("narrow", schools: "sch-0001", grades: "3", roles: "student teacher",
                                              fields: ["given_name", "grade", "sections"])
        let library = PartnerFileText.library("readingroom")
        let listener = try Listener(partners: [narrow, library, .district("mathfacts")])
        defer { listener.finish() }
        let database = listener.sandbox.databasePath
        let adoption = try sqlite(database, """
            SELECT e."userSourcedId", e."classSourcedId" FROM roster_enrollments e WHERE e."role" = 'teacher' LIMIT 1
            """).stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map(String.init)
        let adopted = try listener.ctl("library", "adopt", "readingroom", "--teacher", adoption[0], "--section", adoption[1])
        #expect(adopted.status == 0, "\(adopted.stderr)")
        let token = try listener.token("narrow")

        // Every collection, with and without each property asked for: nothing beyond the grant.
        let allowed: Set<String> = ["sourcedId", "status", "dateLastModified", "enabledUser", "givenName", "familyName", "grades", "roles"]
        for selection in ["", "fields=givenName", "fields=sourcedId,grades,roles"] {
            let users = try Self.pageAll(listener, "\(Self.v1p2)/users?limit=50&\(selection)", envelope: "users", token: token, schema: nil)
            #expect(!users.objects.isEmpty)
            for user in users.objects {
                #expect(Set(user.keys).isSubset(of: allowed), "\(user.keys.sorted())")
                #expect(user["familyName"] == nil || user["familyName"] as? String == "", "a withheld family name is empty")
            }
        }
        // Each property a person may have, asked for alone: refused unless served, and then alone.
        let properties = ["sourcedId", "status", "dateLastModified", "metadata", "username", "userIds", "enabledUser", "givenName",
                          "familyName", "middleName", "preferredFirstName", "roles", "role", "orgs", "identifier", "email", "sms",
                          "phone", "agents", "grades", "birthDate", "sex", "white", "cityOfBirth"]
        for base in [Self.v1p2, Self.v1p1] {
            for collection in ["users", "students", "teachers"] {
                for property in properties {
                    let answer = try listener.get("\(base)/\(collection)?limit=1000&fields=\(property)", token: token)
                    let objects = answer.body["users"] as? [[String: Any]] ?? []
                    #expect(answer.status == 200 || answer.codeMinor == "invalid_selection_field", "\(collection) \(property)")
                    #expect(objects.allSatisfy { Set($0.keys).isSubset(of: [property]) }, "\(collection) \(property)")
                    #expect(answer.status == 400 || allowed.union(["role"]).contains(property), "\(property) is not granted")
                }
            }
        }

        let schoolsOf = try listener.get("\(Self.v1p2)/users?limit=1000", token: token, schema: "UserSetDType")
        let orgIds = ((schoolsOf.body["users"] as? [[String: Any]]) ?? []).flatMap { ($0["roles"] as? [[String: Any]]) ?? [] }
            .compactMap { ($0["org"] as? [String: Any])?["sourcedId"] as? String }
        #expect(Set(orgIds) == [""], "the grant withholds school")

        // Nested collections of persons hold no more; a school's persons are not listed without `school`.
        let classes = try listener.get("\(Self.v1p2)/classes?limit=1", token: token, schema: "ClassSetDType")
        let section = try #require((classes.body["classes"] as? [[String: Any]])?.first?["sourcedId"] as? String)
        for base in [Self.v1p2, Self.v1p1] {
            for nested in ["classes/\(section)/students", "classes/\(section)/teachers"] {
                let members = try listener.get("\(base)/\(nested)", token: token, schema: "UserSetDType")
                #expect(members.status == 200, "\(nested)")
                for user in members.body["users"] as? [[String: Any]] ?? [] {
                    #expect(Set(user.keys).isSubset(of: allowed.union(["role", "orgs"])), "\(nested): \(user.keys.sorted())")
                }
            }
            let bySchool = try listener.get("\(base)/schools/sch-0001/students", token: token, schema: "UserSetDType")
            #expect(bySchool.status == 403 && bySchool.codeMinor == "forbidden", "\(bySchool.text)")
        }

        for (query, minor) in [("filter=familyName%3D%27Smith%27", "invalid_filter_field"), ("filter=email~%27a%27", "invalid_filter_field"),
                               ("filter=givenName%3D%27A%27%20OR%20sms%3D%271%27", "invalid_filter_field"),
                               ("fields=email", "invalid_selection_field"), ("fields=givenName,familyName", "invalid_selection_field")] {
            let refused = try listener.get("\(Self.v1p2)/students?\(query)", token: token, schema: "UserSetDType")
            #expect(refused.status == 400 && refused.codeMinor == minor, "\(query): \(refused.text)")
        }
        let served = try listener.get("\(Self.v1p1)/students?filter=grades%3D%2703%27&fields=givenName,grades", token: token,
                                      schema: "UserSetDType", partial: true)
        #expect(served.status == 200 && served.headers["x-total-count"] != "0")

        // The partner's disclosures hold only granted fields; a student outside its scope has none.
        let inScope = try sqlite(database, """
            SELECT "sourcedId" FROM roster_users WHERE "role" = 'student' AND "orgSourcedIds" = 'sch-0001' AND "grades" = '03' LIMIT 1
            """).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let outOfScope = try sqlite(database, """
            SELECT "sourcedId" FROM roster_users WHERE "role" = 'student' AND "orgSourcedIds" <> 'sch-0001' LIMIT 1
            """).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let record = try JSONDecoder().decode(PersonDisclosures.self, from: Data(try listener.ctl("disclosures", inScope, "--json").stdout.utf8))
        let narrowFields = Set(record.disclosures.first { $0.partner == "narrow" }?.fields ?? ["missing"])
        #expect(narrowFields.isSubset(of: ["given_name", "grade"]) && !narrowFields.isEmpty, "\(narrowFields)")
        let elsewhere = try JSONDecoder().decode(PersonDisclosures.self, from: Data(try listener.ctl("disclosures", outOfScope, "--json").stdout.utf8))
        #expect(!elsewhere.disclosures.contains { $0.partner == "narrow" })

        // Another partner's id, and an id that never existed, are answered alike.
        let theirs = try listener.get("\(Self.v1p2)/students?limit=1", token: try listener.token("mathfacts"))
        let theirId = try #require((theirs.body["users"] as? [[String: Any]])?.first?["sourcedId"] as? String)
        let other = try listener.get("\(Self.v1p2)/students/\(theirId)", token: token, schema: "SingleUserDType")
        let never = try listener.get("\(Self.v1p2)/students/\(String(repeating: "ab", count: 16))", token: token)
        #expect(other.status == 404 && other.codeMinor == "unknownobject" && other.text == never.text)

        // Scopes, and the daemon's own refusals in the imsx format.
        let demographics = try listener.get("\(Self.v1p2)/demographics", token: token, schema: "DemographicsSetDType")
        #expect(demographics.status == 403 && demographics.codeMinor == "forbidden")
        let unauthenticated = try listener.get("\(Self.v1p2)/users", token: nil, schema: "UserSetDType")
        #expect(unauthenticated.status == 401 && unauthenticated.codeMinor == "unauthorisedrequest")
        #expect(unauthenticated.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(try listener.get("\(Self.v1p2)/nothing", token: token, schema: "UserSetDType").codeMinor == "unknownobject")

        // A Library application: its students with the capped fields, its adopted class, no orgs.
        let libraryToken = try listener.token("readingroom")
        let pupils = try listener.get("\(Self.v1p2)/students?limit=1000", token: libraryToken, schema: "UserSetDType")
        let users = pupils.body["users"] as? [[String: Any]] ?? []
        #expect(!users.isEmpty)
        for user in users {
            #expect(Set(user.keys).isSubset(of: allowed.union(["metadata"])), "\(user.keys.sorted())")
            #expect((user["metadata"] as? [String: Any])?["familyInitial"].map { ($0 as? String)?.count == 1 } ?? true)
        }
        let libraryClasses = try listener.get("\(Self.v1p1)/classes", token: libraryToken, schema: "ClassSetDType")
        let adoptedClass = try #require((libraryClasses.body["classes"] as? [[String: Any]])?.first)
        #expect((libraryClasses.body["classes"] as? [[String: Any]])?.count == 1)
        #expect(Set(adoptedClass.keys) == ["sourcedId", "status", "dateLastModified", "title", "course", "school", "terms", "metadata"])
        #expect((adoptedClass["school"] as? [String: Any])?["sourcedId"] as? String == "", "a Library application gets no school")
        #expect(try listener.get("\(Self.v1p2)/orgs", token: libraryToken, schema: "OrgSetDType").headers["x-total-count"] == "0")
        #expect(try listener.get("\(Self.v1p2)/students?filter=familyName%3D%27A%27", token: libraryToken).status == 400)

        let problems = try listener.schemaProblems()
        #expect(problems.isEmpty, "\(problems.prefix(3000))")
    }

    @Test func theDaemonsRefusalsAreInTheImsxFormat() throws {
        var partner = PartnerFileText.district("mathfacts")
        partner.access = ["RequestsPerMinute=3"]
        let listener = try Listener(partners: [partner])
        defer { listener.finish() }
        let token = try listener.token("mathfacts")

        #expect(try listener.ctl("sharing", "pause").status == 0)
        let paused = try listener.get("\(Self.v1p1)/users", token: token, schema: "UserSetDType")
        #expect(paused.status == 403 && paused.codeMinor == "forbidden", "\(paused.text)")
        #expect(try listener.ctl("sharing", "resume").status == 0)

        // Three a minute, the paused request included.
        let first = try listener.get("\(Self.v1p2)/users?limit=1", token: token, schema: "UserSetDType")
        #expect(first.status == 200)
        // dateLastModified is the time the import was applied: this year's, not 1970's.
        let modified = ((first.body["users"] as? [[String: Any]])?.first?["dateLastModified"] as? String) ?? ""
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let year = String(calendar.component(.year, from: Date()))
        #expect(modified.hasPrefix(year) && modified.hasSuffix("Z"), "\(modified)")
        #expect(try listener.get("\(Self.v1p2)/users?limit=1", token: token).status == 200)
        let limited = try listener.get("\(Self.v1p2)/users?limit=1", token: token, schema: "UserSetDType")
        #expect(limited.status == 429 && limited.codeMinor == "server_busy" && limited.headers["retry-after"] != nil, "\(limited.text)")
        let forged = try listener.get("\(Self.v1p1)/users", token: "forged", schema: "UserSetDType")
        #expect(forged.status == 401 && forged.codeMinor == "unauthorisedrequest")

        let problems = try listener.schemaProblems()
        #expect(problems.isEmpty, "\(problems)")
    }
}

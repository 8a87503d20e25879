import Foundation
import StewardControl
import StewardCore
import StewardHarness
import Testing

/// A partner pulling its view through a connector's routes on the real listener: bearer tokens,
/// the partner's scope and fields, paging with sealed cursors, rate limits, refusals, and the
/// record of disclosures per person. The probe connector serves the view as plain JSON.
@Suite(.serialized) struct PullTests {
    typealias Listener = OAuthTokenTests.Listener

    /// A listener with `partners`, a 200-student district imported, and a token for the first.
    static func start(_ partners: [PartnerFileText]) throws -> (listener: Listener, token: String) {
        let listener = try Listener(partners: partners)
        do {
            let drop = try GeneratedDrop(in: listener.sandbox.root, name: "district", students: 200)
            let imported = try listener.ctl("import", drop.path)
            guard imported.status == 0 else { throw SandboxError("import failed: \(imported.stdout) \(imported.stderr)") }
            let credentials = try listener.rotate(partners[0].name)
            let token = try listener.token(["-u", "\(credentials.clientId!):\(credentials.clientSecret!)"] + OAuthTokenTests.form)
            return (listener, try #require(token.body["access_token"] as? String))
        } catch {
            listener.finish()
            throw error
        }
    }

    /// GET `path` with `token`: status, headers, JSON body.
    static func get(_ listener: Listener, _ path: String, token: String?) throws -> (status: Int, headers: String, body: [String: Any]) {
        var arguments = ["-s", "-D", "-", "--cacert", listener.certificates.caFile, "https://127.0.0.1:\(listener.port)\(path)"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        let result = try runCommand("/usr/bin/curl", arguments)
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        let status = Int(parts[0].split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, parts[0], (try? JSONSerialization.jsonObject(with: Data((parts.last ?? "").utf8))) as? [String: Any] ?? [:])
    }

    @Test func aPartnerPagesThroughExactlyItsViewAndEachPersonsDisclosuresAreRecorded() throws {
        let partner = PartnerFileText.district("mathfacts", schools: "sch-0001", grades: "3", roles: "student teacher",
                                               fields: ["given_name", "grade", "sections"])
        let (listener, token) = try Self.start([partner])
        defer { listener.finish() }
        let list = try JSONDecoder().decode(PartnersList.self, from: Data(try listener.ctl("partners", "--json").stdout.utf8))
        let expected = try #require(list.partners.first).counts

        var ids: [String] = []
        var cursor: String?
        repeat {
            let page = try Self.get(listener, "/probe/students?limit=17" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
            #expect(page.status == 200, "\(page)")
            let records = page.body["records"] as? [[String: Any]] ?? []
            for record in records {
                ids.append(record["id"] as? String ?? "")
                let fields = Set((record["fields"] as? [String: Any] ?? [:]).keys)
                #expect(fields.isSubset(of: ["given_name", "grade", "sections"]), "\(fields)")
            }
            cursor = page.body["next"] as? String
        } while cursor != nil
        #expect(ids.count == expected.students && Set(ids).count == ids.count, "every student in the view, none twice")
        #expect(ids.allSatisfy { $0.count == 32 && !$0.hasPrefix("stu-") })


        // Who got what, per person: an in-scope third-grader, and a student of another school.
        let database = listener.sandbox.databasePath
        let inScope = try sqlite(database, """
            SELECT "sourcedId" FROM roster_users WHERE "role" = 'student' AND "orgSourcedIds" = 'sch-0001' AND "grades" = '03' LIMIT 1
            """).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let outOfScope = try sqlite(database, """
            SELECT "sourcedId" FROM roster_users WHERE "role" = 'student' AND "orgSourcedIds" <> 'sch-0001' LIMIT 1
            """).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let record = try JSONDecoder().decode(PersonDisclosures.self, from: Data(try listener.ctl("disclosures", inScope, "--json").stdout.utf8))
        #expect(record.disclosures.map(\.partner) == ["mathfacts"])
        #expect(record.disclosures.first?.fields == ["given_name", "grade", "sections"])
        #expect(record.disclosures.first?.responses == 1)
        #expect(try listener.ctl("disclosures", outOfScope).stdout.contains("No partner has received anything"))
        #expect(try sqlite(database, "SELECT count(*) FROM disclosures").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            == String(expected.students))

        // Every request is audited as a summary, never with its query.
        let audit = try listener.ctl("audit", "--json").stdout
        #expect(audit.contains("partner.pull") && audit.contains("GET /probe/students → 200"))
        #expect(!audit.contains("cursor="))

        // One record by the id the partner holds; an id it was never handed is as if it did not exist.
        let one = try Self.get(listener, "/probe/students/\(ids[3])", token: token)
        #expect(one.status == 200 && (one.body["record"] as? [String: Any])?["id"] as? String == ids[3], "\(one)")
        #expect(try Self.get(listener, "/probe/students/\(String(repeating: "ab", count: 16))", token: token).status == 404)
        #expect(try Self.get(listener, "/probe/teachers/\(ids[3])", token: token).status == 404, "a student's id is no teacher's")

        // Once the grant no longer covers the student, the id the partner holds finds nothing.
        var narrowed = partner
        narrowed.schools = "sch-0002"
        try listener.sandbox.write(narrowed.text, to: listener.sandbox.partnerDirectory + "/mathfacts.conf")
        #expect(try listener.ctl("reload").status == 0)
        #expect(try Self.get(listener, "/probe/students/\(ids[3])", token: token).status == 404)
    }

    @Test func requestsWithoutAValidTokenOrOverTheRateOrWhilePausedAreRefused() throws {
        var partner = PartnerFileText.district("mathfacts", fields: ["given_name"])
        partner.access = ["RequestsPerMinute=4"]
        let (listener, token) = try Self.start([partner])
        defer { listener.finish() }

        let none = try Self.get(listener, "/probe/students", token: nil)
        #expect(none.status == 401 && none.headers.contains("WWW-Authenticate: Bearer"))
        #expect(try Self.get(listener, "/probe/students", token: "forged").status == 401)
        #expect(try listener.ctl("sharing", "pause").status == 0)
        #expect(try Self.get(listener, "/probe/students", token: token).status == 403)
        #expect(try listener.ctl("sharing", "resume").status == 0)
        #expect(try Self.get(listener, "/probe/students?cursor=forged", token: token).status == 400)

        // Four a minute, whatever the answers: the paused and the refused cursor above were two,
        // two more pass, the fifth waits.
        #expect(try Self.get(listener, "/probe/students", token: token).status == 200)
        #expect(try Self.get(listener, "/probe/teachers", token: token).status == 200)
        let limited = try Self.get(listener, "/probe/students", token: token)
        #expect(limited.status == 429 && limited.headers.contains("Retry-After:"), "\(limited.status)")

        // A rotated secret revokes the tokens issued under it.
        _ = try listener.rotate("mathfacts")
        #expect(try Self.get(listener, "/probe/students", token: token).status == 401)
    }

    @Test func aPartnerThatReadsOnlyEnrollmentsHasEachStudentsSectionsRecorded() throws {
        let (listener, token) = try Self.start([.district("mathfacts", roles: "student", fields: ["given_name", "sections"])])
        defer { listener.finish() }
        let page = try Self.get(listener, "/probe/enrollments?limit=1000", token: token)
        #expect(page.status == 200 && !(page.body["records"] as? [[String: Any]] ?? []).isEmpty, "\(page.status)")
        let student = try sqlite(listener.sandbox.databasePath, """
            SELECT e."userSourcedId" FROM roster_enrollments e JOIN roster_users u ON u."sourcedId" = e."userSourcedId"
            WHERE u."role" = 'student' ORDER BY e."sourcedId" LIMIT 1
            """).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let record = try JSONDecoder().decode(PersonDisclosures.self, from: Data(try listener.ctl("disclosures", student, "--json").stdout.utf8))
        #expect(record.disclosures.map(\.partner) == ["mathfacts"])
        #expect(record.disclosures.first?.fields == ["sections"], "an enrollment discloses section membership")
    }
}

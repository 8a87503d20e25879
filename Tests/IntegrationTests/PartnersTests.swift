#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardCore
import StewardHarness
import Testing

// Partners, agreements, grants and Library adoptions, end to end: the real stewardd on a
// sandbox with a small generated district imported, driven with the real stewardctl (as other
// users through setpriv where roles matter), checked against the roster's own tables read with
// the sqlite3 CLI.

/// A running stewardd on a fresh sandbox whose partner folder and `[Sharing]` section are written
/// before it starts, with a generated district imported. Unlike `RunningDaemon` it can be
/// restarted on the same state directory.
final class SharingDistrict {
    let sandbox: Sandbox
    private(set) var daemon: DaemonProcess

    /// `sharing` is the body of steward.conf's `[Sharing]` section; `students` 0 imports nothing.
    init(partners: [PartnerFileText] = [], sharing: String = "", students: Int = 200) throws {
        sandbox = try Sandbox(roles: People.roles)
        do {
            try Self.configure(sandbox, sharing: sharing)
            for partner in partners { try sandbox.write(partner.text, to: sandbox.partnerDirectory + "/\(partner.name).conf") }
            daemon = try DaemonProcess(sandbox: sandbox)
        } catch {
            sandbox.remove()
            throw error
        }
        do {
            try daemon.waitUntilReady()
            if students > 0 {
                let drop = try GeneratedDrop(in: sandbox.root, name: "district", students: students)
                let imported = try ctl("import", drop.path)
                guard imported.status == 0 else { throw SandboxError("import failed (\(imported.status)): \(imported.stdout) \(imported.stderr)") }
            }
        } catch {
            daemon.stop()
            sandbox.remove()
            throw error
        }
    }

    private static func configure(_ sandbox: Sandbox, sharing: String) throws {
        try sandbox.writeConfiguration(roles: People.roles, extra: sharing.isEmpty ? "" : "\n[Sharing]\n\(sharing)\n")
    }

    /// Stops the daemon (expecting exit 0) and removes the sandbox.
    func finish() {
        let status = daemon.stop()
        #expect(status == 0, "stewardd exited \(status); log:\n\(daemon.log)")
        sandbox.remove()
    }

    /// Stops the daemon and starts it again on the same configuration and state directory.
    func restart() throws {
        let status = daemon.stop()
        #expect(status == 0, "stewardd exited \(status); log:\n\(daemon.log)")
        daemon = try DaemonProcess(sandbox: sandbox)
        try daemon.waitUntilReady()
    }

    // MARK: stewardctl

    typealias User = (uid: UInt32, gid: UInt32, groups: [UInt32])

    func ctl(_ arguments: String..., as user: User? = nil) throws -> CommandResult {
        try ctl(arguments, as: user)
    }

    func ctl(_ arguments: [String], as user: User? = nil) throws -> CommandResult {
        try runCommand(Binaries.stewardctl, ["--socket", sandbox.socketPath] + arguments, asUser: user)
    }

    /// `stewardctl --json ARGUMENTS`, which must succeed, decoded as `type`.
    func json<T: Decodable>(_ type: T.Type, _ arguments: String..., as user: User? = nil) throws -> T {
        let result = try ctl(["--json"] + arguments, as: user)
        guard result.status == 0 else {
            throw SandboxError("stewardctl \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return try JSONDecoder().decode(type, from: Data(result.stdout.utf8))
    }

    func partners(as user: User? = nil) throws -> PartnersList {
        try json(PartnersList.self, "partners", as: user)
    }

    func partner(_ name: String) throws -> PartnerSummary {
        try #require(partners().partners.first { $0.name == name }, "no partner \(name) on the dashboard")
    }

    /// Up to 1000 records of each kind, exactly as `name`'s view holds them.
    func preview(_ name: String, as user: User? = nil) throws -> PartnerPreview {
        try json(PartnerPreview.self, "partners", "preview", name, "--limit", "1000", as: user)
    }

    func audit() throws -> [AuditRecord] {
        try json([AuditRecord].self, "audit")
    }

    // MARK: Changing the configuration

    var partnerDirectory: String { sandbox.partnerDirectory }

    func path(of partner: String) -> String { partnerDirectory + "/\(partner).conf" }

    func write(_ partner: PartnerFileText) throws {
        try sandbox.write(partner.text, to: path(of: partner.name))
    }

    func remove(partner name: String) {
        unlink(path(of: name))
    }

    func configure(sharing: String) throws {
        try Self.configure(sandbox, sharing: sharing)
    }

    /// `stewardctl --json reload`; the reload must be applied.
    func reload() throws -> ReloadResult {
        let result = try json(ReloadResult.self, "reload")
        #expect(result.applied, "reload refused: \(result.problems)")
        return result
    }

    // MARK: The oracle: the roster's own tables

    /// The rows of `query` on the state database, each split into its columns.
    func rows(_ query: String) throws -> [[String]] {
        let result = try sqlite(sandbox.databasePath, query)
        guard result.status == 0 else { throw SandboxError("sqlite3: \(result.stderr)") }
        return result.stdout.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    func count(_ query: String) throws -> Int {
        guard let text = try rows(query).first?.first, let count = Int(text) else { throw SandboxError("not a count: \(query)") }
        return count
    }
}

/// SQL: the comma-separated list `expression` holds one of `values`.
func listHolds(_ expression: String, oneOf values: [String]) -> String {
    "(" + values.map { "(',' || \(expression) || ',') LIKE '%,\($0),%'" }.joined(separator: " OR ") + ")"
}

/// What a grant of some schools and grades covers, counted in SQL straight from the roster tables.
struct GrantScope {
    var schools: [String]
    /// As the roster writes them (`04`), whatever the grant says (`4`).
    var grades: [String]

    var students: String {
        """
        SELECT count(*) FROM roster_users WHERE "role" = 'student'
          AND \(listHolds("\"orgSourcedIds\"", oneOf: schools)) AND \(listHolds("\"grades\"", oneOf: grades))
        """
    }

    /// Teachers of a granted school who teach a section of a granted grade.
    var teachers: String {
        """
        SELECT count(*) FROM roster_users u WHERE u."role" = 'teacher' AND \(listHolds("u.\"orgSourcedIds\"", oneOf: schools))
          AND EXISTS (SELECT 1 FROM roster_enrollments e JOIN roster_classes c ON c."sourcedId" = e."classSourcedId"
                      WHERE e."userSourcedId" = u."sourcedId" AND \(listHolds("c.\"grades\"", oneOf: grades)))
        """
    }

    var sections: String {
        """
        SELECT count(*) FROM roster_classes c WHERE c."schoolSourcedId" IN (\(schools.map { "'\($0)'" }.joined(separator: ", ")))
          AND \(listHolds("c.\"grades\"", oneOf: grades))
        """
    }
}

extension SharedValue {
    var texts: [String] {
        switch self {
        case .text(let text): return [text]
        case .list(let list): return list
        }
    }
}

extension PartnerPreview {
    func records(_ kind: SharedRecord.Kind) -> [SharedRecord] { records.filter { $0.kind == kind } }
}

/// A pseudonymous id: 128 bits as 32 lowercase hexadecimal digits.
func isPseudonym(_ id: String) -> Bool {
    id.count == 32 && id.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
}

/// Every partner test, under one name: `swift test --filter PartnersTests`.
@Suite struct PartnersTests {}

// MARK: - The dashboard

extension PartnersTests {
    @Suite struct Dashboard {
        @Test func theDashboardShowsEachPartnersStateAndWhy() throws {
            var unattested = PartnerFileText.district("quizly")
            unattested.attests.removeAll { ["ppra", "sopipa"].contains($0) }
            var expired = PartnerFileText.district("oldbook")
            (expired.signed, expired.expires) = ("2025-01-01", "2026-01-31")
            var disabled = PartnerFileText.district("resting")
            disabled.enabled = "no"
            let partners = [PartnerFileText.district("mathfacts", schools: "sch-0001 sch-0002", grades: "4 5 6"), unattested,
                            expired, disabled, .library("readingroom"), .library("shelfie")]
            let district = try SharingDistrict(partners: partners, sharing: "LibraryBlocked=shelfie")
            defer { district.finish() }

            let list = try district.partners()
            #expect(Dictionary(uniqueKeysWithValues: list.partners.map { ($0.name, $0.state) }) == [
                "mathfacts": "active", "quizly": "agreement-failed", "oldbook": "expired", "resting": "inactive",
                "readingroom": "active", "shelfie": "blocked",
            ])
            #expect(list.librarySharing && list.rosterVersion == 1)
            #expect(list.unreadable.isEmpty)
            let reasons = Dictionary(uniqueKeysWithValues: list.partners.map { ($0.name, $0.reasons) })
            #expect(reasons["quizly"] == ["\(district.path(of: "quizly")):\(unattested.line(of: "Attests")): attests: the agreement does not declare ppra, sopipa"])
            #expect(reasons["oldbook"] == ["\(district.path(of: "oldbook")):\(expired.line(of: "Expires")): dates: the agreement expired on 2026-01-31"])
            #expect(reasons["resting"]?.first?.contains("Enabled=no") == true)
            #expect(reasons["shelfie"]?.first?.contains("LibraryBlocked=") == true)
            #expect(reasons["mathfacts"] == [] && reasons["readingroom"] == [])
            // Only an active partner's view holds anything.
            for partner in list.partners where partner.name != "mathfacts" {
                #expect(partner.counts == ViewCounts(), "\(partner.name) is \(partner.state) but its view holds \(partner.counts)")
            }
            // Each partner's first state is recorded in the audit log.
            let states = try district.audit().filter { $0.method == "partner.state" }
            #expect(Set(states.compactMap(\.target)) == Set(partners.map(\.name)))
            #expect(states.contains { $0.target == "quizly" && $0.detail?.hasPrefix("new → agreement-failed") == true })
        }

        @Test func aFileWhoseNameIsNotItsPartnersIsNotLoadedAndTheDashboardSaysWhy() throws {
            let district = try SharingDistrict(partners: [.district("mathfacts")], students: 0)
            defer { district.finish() }
            try district.sandbox.write(PartnerFileText.district("other").text, to: district.path(of: "misnamed"))
            let reload = try district.reload()
            #expect(!reload.changes.contains("partner other added"), "\(reload.changes)")
            let list = try district.partners()
            #expect(list.partners.map(\.name) == ["mathfacts"])
            #expect(list.unreadable.map(\.file) == [district.path(of: "misnamed")])
            #expect(list.unreadable.first?.problems.contains { $0.contains("rename misnamed.conf to other.conf") } == true, "\(list.unreadable)")
        }

        @Test func aDistrictPartnersViewHoldsTheStudentsTeachersAndSectionsOfItsGrant() throws {
            // The grant writes grades as 4 5 6; the roster as 04 05 06.
            let district = try SharingDistrict(partners: [.district("mathfacts", schools: "sch-0001 sch-0002", grades: "4 5 6"),
                                                          .district("everyone", roles: "student teacher administrator")])
            defer { district.finish() }
            let scope = GrantScope(schools: ["sch-0001", "sch-0002"], grades: ["04", "05", "06"])
            let expected = ViewCounts(students: try district.count(scope.students), teachers: try district.count(scope.teachers),
                                      sections: try district.count(scope.sections))
            #expect(expected.students > 0 && expected.teachers > 0 && expected.sections > 0)
            #expect(expected.students < 200, "the scope must leave students out to prove anything")
            #expect(try district.partner("mathfacts").counts == expected)
            let allOfThem = ViewCounts(students: 200, teachers: try district.count("SELECT count(*) FROM roster_users WHERE \"role\" = 'teacher'"),
                                       sections: try district.count("SELECT count(*) FROM roster_classes"))
            #expect(try district.partner("everyone").counts == allOfThem)
            // The preview holds the same records the counts count.
            let preview = try district.preview("mathfacts")
            #expect(ViewCounts(students: preview.records(.student).count, teachers: preview.records(.teacher).count,
                               sections: preview.records(.section).count) == expected)
        }
    }
}

// MARK: - Previews and identifiers

extension PartnersTests {
    @Suite struct Preview {
        @Test func aPreviewHoldsOnlyGrantedFieldsUnderIdsThatAreNotTheDistricts() throws {
            let granted = ["given_name", "grade", "sections"]
            let district = try SharingDistrict(partners: [.district("mathfacts", schools: "sch-0001", grades: "3 4", roles: "student", fields: granted)])
            defer { district.finish() }
            let preview = try district.preview("mathfacts")
            #expect(preview.note == nil && preview.partner.state == "active")
            let students = preview.records(.student)
            #expect(!students.isEmpty)
            #expect(Set(preview.records.filter(\.kind.isPerson).map(\.kind)) == [.student], "only students are granted")
            #expect(Set(preview.records.map(\.kind)).isSubset(of: [.student, .section, .enrollment, .org, .academicSession, .course]))
            for student in students {
                #expect(Set(student.fields.keys).isSubset(of: granted), "\(student.id) carries \(student.fields.keys.sorted())")
            }
            for section in preview.records(.section) {
                #expect(Set(section.fields.keys).isSubset(of: ["title", "school", "grades", "class_code", "class_type", "location",
                                                              "course", "terms", "subjects", "periods"]), "\(section.fields.keys.sorted())")
                #expect(section.fields["teachers"] == nil, "teachers are not granted")
            }
            // Names and grades are those of the students in scope, and nobody else's.
            let expected = try district.rows("""
                SELECT "givenName", "grades" FROM roster_users WHERE "role" = 'student'
                  AND \(listHolds("\"orgSourcedIds\"", oneOf: ["sch-0001"])) AND \(listHolds("\"grades\"", oneOf: ["03", "04"]))
                """).map { "\($0[0]) \($0[1])" }.sorted()
            let shared = students.map { "\($0.fields["given_name"]?.texts.joined() ?? "") \($0.fields["grade"]?.texts.joined(separator: ",") ?? "")" }
            #expect(shared.sorted() == expected)
            // Ids: pseudonyms, unique, none of them a district id; sections are named by the same pseudonyms.
            let districtIds = Set(try district.rows("SELECT \"sourcedId\" FROM roster_users UNION SELECT \"sourcedId\" FROM roster_classes").map { $0[0] })
            // The district's orgs, sessions and courses keep their own ids; every other id is a pseudonym.
            let ids = preview.records.filter { ![.org, .academicSession, .course].contains($0.kind) }.map(\.id)
            #expect(ids.allSatisfy(isPseudonym), "\(ids.filter { !isPseudonym($0) })")
            #expect(Set(ids).count == ids.count)
            #expect(Set(ids).isDisjoint(with: districtIds))
            let sectionIds = Set(preview.records(.section).map(\.id))
            #expect(students.allSatisfy { Set($0.fields["sections"]?.texts ?? []).isSubset(of: sectionIds) })
            #expect(students.allSatisfy { $0.fields["sections"]?.texts.isEmpty == false })
        }

        @Test func aGrantNamingSisIdGetsTheDistrictsOwnIds() throws {
            let district = try SharingDistrict(partners: [.district("sisreport", schools: "sch-0003", roles: "student", fields: ["given_name", "sis_id"])])
            defer { district.finish() }
            let students = try district.preview("sisreport").records(.student)
            let expected = try district.rows("""
                SELECT "sourcedId" FROM roster_users WHERE "role" = 'student' AND \(listHolds("\"orgSourcedIds\"", oneOf: ["sch-0003"]))
                ORDER BY "sourcedId"
                """).map { $0[0] }
            #expect(!expected.isEmpty)
            #expect(students.map(\.id) == expected)
            #expect(students.allSatisfy { $0.fields["sis_id"] == .text($0.id) })
        }

        @Test func eachPartnerHasItsOwnIdForAStudentAndKeepsItAcrossReloadAndRestart() throws {
            // Two partners with the same grant: their views list the same students in the same order.
            let alpha = PartnerFileText.district("alpha", roles: "student", fields: ["given_name", "grade"])
            var beta = PartnerFileText.district("beta", roles: "student", fields: ["given_name", "grade"])
            let district = try SharingDistrict(partners: [alpha, beta])
            defer { district.finish() }
            func ids(_ partner: String) throws -> [String] { try district.preview(partner).records(.student).map(\.id) }
            let alphaIds = try ids("alpha"), betaIds = try ids("beta")
            #expect(alphaIds.count == 200 && betaIds.count == 200)
            #expect(zip(alphaIds, betaIds).allSatisfy { $0 != $1 })
            #expect(Set(alphaIds).isDisjoint(with: betaIds), "two partners could join their data on a shared id")

            beta.enabled = "yes"
            try district.write(beta)
            try district.write(.district("gamma"))
            let reload = try district.reload()
            #expect(reload.changes.contains("partner beta changed") && reload.changes.contains("partner gamma added"))
            #expect(try ids("alpha") == alphaIds)
            #expect(try ids("beta") == betaIds)

            let recorded = try district.audit().filter { $0.method == "partner.state" }.count
            try district.restart()
            #expect(try district.audit().filter { $0.method == "partner.state" }.count == recorded, "no state changed at the restart")
            #expect(try ids("alpha") == alphaIds)
            #expect(try ids("beta") == betaIds)
        }

        @Test func theDistrictSecretIsMadeAtFirstStartReadableOnlyByTheDaemonAndKept() throws {
            let district = try SharingDistrict(students: 0)
            defer { district.finish() }
            let path = district.sandbox.stateDirectory + "/district.secret"
            var info = stat()
            try #require(stat(path, &info) == 0, "no \(path)")
            #expect(info.st_mode & 0o7777 == 0o600, "mode \(String(info.st_mode & 0o7777, radix: 8))")
            #expect(info.st_size == 32)
            let secret = try Data(contentsOf: URL(fileURLWithPath: path))
            try district.restart()
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == secret)
        }

        @Test func aDistrictSecretOthersCanReadStopsTheDaemonFromStarting() throws {
            let district = try SharingDistrict(students: 0)
            defer { district.finish() }
            let path = district.sandbox.stateDirectory + "/district.secret"
            #expect(district.daemon.stop() == 0)
            chmod(path, 0o644)
            let refused = try DaemonProcess(sandbox: district.sandbox)
            #expect(refused.waitForExit() == 78)
            refused.notify.close()
            #expect(refused.log.contains("chmod 600"), "\(refused.log)")
            chmod(path, 0o600)
            try district.restart()
        }
    }
}

// MARK: - Library applications

extension PartnersTests {
    @Suite struct Library {
        /// A section and the teacher who teaches it, and a section that teacher does not teach.
        static func teaching(_ district: SharingDistrict, skip: Int = 0) throws -> (teacher: String, section: String, other: String) {
            let row = try #require(district.rows("""
                SELECT "userSourcedId", "classSourcedId" FROM roster_enrollments WHERE "role" = 'teacher'
                ORDER BY "classSourcedId" LIMIT 1 OFFSET \(skip)
                """).first)
            let other = try #require(district.rows("""
                SELECT "sourcedId" FROM roster_classes WHERE "sourcedId" NOT IN
                  (SELECT "classSourcedId" FROM roster_enrollments WHERE "userSourcedId" = '\(row[0])' AND "role" = 'teacher')
                ORDER BY "sourcedId" LIMIT 1
                """).first?.first)
            return (row[0], row[1], other)
        }

        @Test func aTeacherAdoptsALibraryApplicationForTheirSectionAndItSeesOnlyThatClassAtTheCap() throws {
            let district = try SharingDistrict(partners: [.library("readingroom")])
            defer { district.finish() }
            #expect(try district.partner("readingroom").counts == ViewCounts(), "nothing is adopted yet")
            let (teacher, section, other) = try Self.teaching(district)

            let adopted = try district.ctl("library", "adopt", "readingroom", "--teacher", teacher, "--section", section)
            #expect(adopted.status == 0, "\(adopted.stderr)")
            let members = try district.rows("""
                SELECT u."givenName", substr(u."familyName", 1, 1), u."grades" FROM roster_users u
                JOIN roster_enrollments e ON e."userSourcedId" = u."sourcedId"
                WHERE e."classSourcedId" = '\(section)' AND u."role" = 'student'
                """)
            #expect(!members.isEmpty)
            #expect(try district.partner("readingroom").counts == ViewCounts(students: members.count, teachers: 0, sections: 1))

            let preview = try district.preview("readingroom")
            let students = preview.records(.student)
            #expect(students.allSatisfy { Set($0.fields.keys).isSubset(of: FieldCatalogue.libraryCap) },
                    "\(students.map { $0.fields.keys.sorted() })")
            #expect(students.map { "\($0.fields["given_name"]?.texts.joined() ?? "") \($0.fields["family_initial"]?.texts.joined() ?? "") \($0.fields["grade"]?.texts.joined() ?? "")" }.sorted()
                    == members.map { $0.joined(separator: " ") }.sorted())
            #expect(preview.records.allSatisfy { isPseudonym($0.id) })
            let sectionId = try #require(preview.records(.section).first?.id)
            #expect(preview.records(.section).count == 1)
            #expect(students.allSatisfy { $0.fields["sections"] == .list([sectionId]) })

            // A section the teacher does not teach is not theirs to adopt.
            let refused = try district.ctl("library", "adopt", "readingroom", "--teacher", teacher, "--section", other)
            #expect(refused.status == 65, "\(refused.stdout) \(refused.stderr)")
            #expect(refused.stderr.contains("does not teach section \(other)"))
            let adoptions = try district.json(LibraryAdoptionList.self, "library", "list", "readingroom").adoptions
            #expect(adoptions.map(\.section) == [section] && adoptions.map(\.teacher) == [teacher])
            #expect(try district.partner("readingroom").counts.sections == 1)

            // Dropping the adoption empties the view again.
            #expect(try district.ctl("library", "remove", "readingroom", "--teacher", teacher, "--section", section).status == 0)
            #expect(try district.partner("readingroom").counts == ViewCounts())
        }

        @Test func aLibraryApplicationNeverGetsMoreThanTheCapWhateverItsFileSays() throws {
            var greedy = PartnerFileText.library("greedy")
            greedy.fields += ["family_name", "email", "sis_id"]
            let district = try SharingDistrict(partners: [greedy])
            defer { district.finish() }
            let summary = try district.partner("greedy")
            #expect(summary.state == "agreement-failed")
            #expect(summary.reasons.contains { $0.hasPrefix("\(district.path(of: "greedy")):\(greedy.line(of: "Fields")): library cap: ") })
            let (teacher, section, _) = try Self.teaching(district)
            #expect(try district.ctl("library", "adopt", "greedy", "--teacher", teacher, "--section", section).status == 0)
            // Even what it would receive once active stays within the cap, under pseudonyms.
            let preview = try district.preview("greedy")
            let students = preview.records(.student)
            #expect(!students.isEmpty && preview.partner.counts == ViewCounts())
            #expect(students.allSatisfy { Set($0.fields.keys).isSubset(of: FieldCatalogue.libraryCap) && isPseudonym($0.id) },
                    "\(students.map { $0.fields.keys.sorted() })")
        }

        @Test func aBlockedLibraryApplicationCannotBeAdoptedAndTheRefusalIsAudited() throws {
            let district = try SharingDistrict(partners: [.library("shelfie")], sharing: "LibraryBlocked=shelfie")
            defer { district.finish() }
            let (teacher, section, _) = try Self.teaching(district)
            let result = try district.ctl("library", "adopt", "shelfie", "--teacher", teacher, "--section", section)
            #expect(result.status == 77, "\(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("refused") && result.stderr.contains("LibraryBlocked="))
            let entry = try #require(district.audit().last { $0.method == "steward.Library.Adopt" })
            #expect(entry.outcome == "refused" && entry.target == "shelfie section \(section)" && entry.uid == 0)
            #expect(try district.json(LibraryAdoptionList.self, "library").adoptions.isEmpty)
            let shelfie = try district.partner("shelfie")
            #expect(shelfie.state == "blocked" && shelfie.counts == ViewCounts())
        }

        @Test func turningLibrarySharingOffEmptiesEveryLibraryView() throws {
            let district = try SharingDistrict(partners: [.library("readingroom"), .library("spelltime"),
                                                          .district("mathfacts", schools: "sch-0001")])
            defer { district.finish() }
            let first = try Self.teaching(district), second = try Self.teaching(district, skip: 1)
            #expect(try district.ctl("library", "adopt", "readingroom", "--teacher", first.teacher, "--section", first.section).status == 0)
            #expect(try district.ctl("library", "adopt", "spelltime", "--teacher", second.teacher, "--section", second.section).status == 0)
            let before = try district.partners()
            let districtView = try #require(before.partners.first { $0.name == "mathfacts" }).counts
            #expect(before.partners.filter { $0.type == "library" }.allSatisfy { $0.counts.students > 0 && $0.counts.sections == 1 })

            try district.configure(sharing: "LibrarySharing=off")
            #expect(try district.reload().changes.contains("LibrarySharing is now off"))
            let after = try district.partners()
            #expect(!after.librarySharing)
            for partner in after.partners where partner.type == "library" {
                #expect(partner.state == "library-off" && partner.counts == ViewCounts(), "\(partner.name): \(partner.state) \(partner.counts)")
                let preview = try district.preview(partner.name)
                #expect(preview.partner.counts == ViewCounts() && preview.note?.contains("library-off") == true)
            }
            let mathfacts = try #require(after.partners.first { $0.name == "mathfacts" })
            #expect(mathfacts.state == "active" && mathfacts.counts == districtView, "a district application is not a Library one")
            let again = try district.ctl("library", "adopt", "readingroom", "--teacher", second.teacher, "--section", second.section)
            #expect(again.status == 77 && again.stderr.contains("LibrarySharing=off"))
            #expect(try district.audit().contains { $0.method == "partner.state" && $0.target == "spelltime" && $0.detail?.hasPrefix("active → library-off") == true })
        }
    }
}

// MARK: - Reload

extension PartnersTests {
    @Suite struct Reload {
        @Test func aReloadPicksUpAddedChangedAndRemovedPartnerFiles() throws {
            let district = try SharingDistrict(partners: [.district("alpha"), .district("beta")])
            defer { district.finish() }
            #expect(try district.partners().partners.map(\.name) == ["alpha", "beta"])

            district.remove(partner: "alpha")
            var beta = PartnerFileText.district("beta", schools: "sch-0001")
            beta.enabled = "no"
            try district.write(beta)
            try district.write(.district("gamma", schools: "sch-0002", grades: "7"))
            let reload = try district.reload()
            #expect(reload.changes.filter { $0.hasPrefix("partner ") }.sorted() == ["partner alpha removed", "partner beta changed", "partner gamma added"])

            let list = try district.partners()
            #expect(list.partners.map(\.name) == ["beta", "gamma"])
            #expect(list.partners.map(\.state) == ["inactive", "active"])
            let table = try district.ctl("partners").stdout
            #expect(!table.contains("alpha") && table.contains("gamma"), "\(table)")
            let gammaStudents = try district.count(GrantScope(schools: ["sch-0002"], grades: ["07"]).students)
            #expect(gammaStudents > 0 && list.partners.last?.counts.students == gammaStudents)
            #expect(try district.ctl("partners", "show", "alpha").status == 65)

            let audit = try district.audit()
            let removal = try #require(audit.last { $0.method == "partner.state" && $0.target == "alpha" })
            #expect(removal.detail?.contains("removed") == true, "\(removal.detail ?? "")")
            #expect(audit.contains { $0.method == "partner.state" && $0.target == "beta" && $0.detail?.hasPrefix("active → inactive") == true })
            for (method, target) in [("partner.remove", "alpha"), ("partner.change", "beta"), ("partner.add", "gamma")] {
                #expect(audit.contains { $0.method == method && $0.target == target }, "no \(method) entry for \(target)")
            }
        }
    }
}

// MARK: - Roles

extension PartnersTests {
    @Suite(.enabled(if: isRoot, "needs root to run stewardctl as other users"))
    struct Roles {
        @Test func anOperatorReadsPartnersButCannotAdoptALibraryApplication() throws {
            let district = try SharingDistrict(partners: [.library("readingroom")])
            defer { district.finish() }
            let (teacher, section, _) = try Library.teaching(district)
            #expect(try district.ctl("partners", as: People.anOperator).status == 0)
            let adopt = try district.ctl("library", "adopt", "readingroom", "--teacher", teacher, "--section", section, as: People.anOperator)
            #expect(adopt.status == 77)
            #expect(adopt.stderr.contains("steward.Library.Adopt needs the role admin or steward; you hold operator"), "\(adopt.stderr)")
            #expect(try district.json(LibraryAdoptionList.self, "library").adoptions.isEmpty)
            // A steward may.
            #expect(try district.ctl("library", "adopt", "readingroom", "--teacher", teacher, "--section", section, as: People.aSteward).status == 0)
            #expect(try district.json(LibraryAdoptionList.self, "library").adoptions.map(\.adoptedBy) == [40_003])
        }

        @Test func anAuditorSeesTheDashboardAndPreviewsButDecidesNothing() throws {
            let district = try SharingDistrict(partners: [.district("mathfacts", schools: "sch-0001"), .library("readingroom")])
            defer { district.finish() }
            let list = try district.partners(as: People.anAuditor)
            #expect(list.partners.map(\.name) == ["mathfacts", "readingroom"])
            let preview = try district.preview("mathfacts", as: People.anAuditor)
            let counted = preview.records.filter { $0.kind == .student || $0.kind == .teacher || $0.kind == .section }
            #expect(!counted.isEmpty && counted.count == preview.partner.counts.students + preview.partner.counts.teachers + preview.partner.counts.sections)
            let entry = try #require(district.audit().last { $0.method == "steward.Partners.Preview" })
            #expect(entry.target == "mathfacts" && entry.role == "auditor" && entry.uid == 40_002 && entry.outcome == "ok")
            let (teacher, section, _) = try Library.teaching(district)
            #expect(try district.ctl("library", "adopt", "readingroom", "--teacher", teacher, "--section", section, as: People.anAuditor).status == 77)
        }
    }
}

// MARK: - Checking transport and connector settings

extension PartnersTests {
    @Suite struct SettingsCheck {
        /// Runs `stewardctl partners check` on `partner` written outside the partner folder.
        static func check(_ partner: PartnerFileText, in district: SharingDistrict) throws -> (status: Int32, lines: [String], path: String) {
            let path = district.sandbox.root + "/\(partner.name).conf"
            try district.sandbox.write(partner.text, to: path)
            let result = try district.ctl("partners", "check", path)
            return (result.status, result.stdout.split(separator: "\n").map(String.init), path)
        }

        @Test func aMissingCAFileAndAPlaintextEndpointAreNamedAtTheirLines() throws {
            let district = try SharingDistrict(students: 0)
            defer { district.finish() }
            var partner = PartnerFileText.district("mathfacts")
            partner.transport = ["Profile=intermediate", "CAFile=/nonexistent/mathfacts-ca.pem"]
            partner.connector = ["Endpoint=http://mathfacts.example/roster"]
            let (status, lines, path) = try Self.check(partner, in: district)
            #expect(status == 1)
            #expect(lines.contains { $0.hasPrefix("\(path):\(partner.line(of: "CAFile")): transport: CAFile: ") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("\(path):\(partner.line(of: "Endpoint")): connector: Endpoint: 'http://mathfacts.example/roster' is not an https:// URL") },
                    "\(lines)")

            // The same file in the partner folder keeps the partner from sharing.
            try district.write(partner)
            _ = try district.reload()
            let summary = try district.partner("mathfacts")
            #expect(summary.state == "agreement-failed")
            #expect(summary.reasons.contains { $0.hasPrefix("\(district.path(of: "mathfacts")):\(partner.line(of: "CAFile")): transport: CAFile: ") })
        }

        @Test func aMalformedPinIsNamedAtItsPinsLine() throws {
            let district = try SharingDistrict(students: 0)
            defer { district.finish() }
            var partner = PartnerFileText.district("mathfacts")
            partner.transport = ["Profile=intermediate", "Pins=sha256/not-a-pin"]
            let (status, lines, path) = try Self.check(partner, in: district)
            #expect(status == 1)
            #expect(lines.contains { $0.hasPrefix("\(path):\(partner.line(of: "Pins")): transport: Pins: an SPKI pin") }, "\(lines)")
        }

        @Test func anHttpsEndpointAndAWellFormedPinCheckOK() throws {
            let district = try SharingDistrict(students: 0)
            defer { district.finish() }
            var partner = PartnerFileText.district("mathfacts")
            partner.transport = ["Pins=sha256/" + Data(repeating: 7, count: 32).base64EncodedString()]
            partner.connector = ["Endpoint=https://mathfacts.example/roster"]
            let (status, lines, path) = try Self.check(partner, in: district)
            #expect(status == 0, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("\(path): ok") }, "\(lines)")
        }
    }
}

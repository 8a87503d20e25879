import Foundation
import StewardCore
import StewardIngest
import StewardStore
import Testing

/// A hand-written OneRoster 1.1 drop: the smallest district that exercises one kind of case.
struct HandDrop {
    let path: String

    init(_ files: [String: String], modes: [String: String]) throws {
        path = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-hand-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
        for (entity, mode) in modes.sorted(by: { $0.key < $1.key }) { manifest += "file.\(entity),\(mode)\n" }
        try manifest.write(toFile: path + "/manifest.csv", atomically: true, encoding: .utf8)
        for (name, text) in files { try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
    }

    static let orgs = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nd1,,,District,district,,\ns1,,,School,school,,d1\n"
    static let userHeader = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"

    static func user(_ id: String, orgs: String = "s1", role: String = "student", agents: String = "") -> String {
        "\(id),,,true,\(orgs),\(role),\(id),,Given,Family,,,,,,\(agents),05,\n"
    }
}

@Suite struct RosterImporterTests {
    func store() throws -> Store {
        try Store(stateDirectory: (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-import-\(UUID().uuidString)")
    }

    func run(_ store: Store, _ drop: HandDrop, limit: Double = 0.10) -> ImportReport {
        var options = ImportOptions(source: drop.path, auditCaller: AuditEvent(method: "test.import", outcome: ""))
        options.removalLimit = limit
        return RosterImporter(store: store).run(path: drop.path, options: options)
    }

    @Test func listReferencesWithQuotesBackslashesAndSpacesAreCheckedItemByItem() throws {
        let store = try store()
        defer { store.close() }
        let orgs = HandDrop.orgs + "s\\\"2,,,Odd \"\"School\"\",school,,d1\n"
        let users = HandDrop.userHeader + HandDrop.user("u1", orgs: "\"s1, s\\\"\"2\"") + HandDrop.user("u2", orgs: "\"s1,nowhere\"")
        let drop = try HandDrop(["orgs.csv": orgs, "users.csv": users], modes: ["orgs": "bulk", "users": "bulk"])
        let report = run(store, drop)
        #expect(report.verdict == .rejected)
        let unresolved = report.findings.filter { $0.code == .unresolvedReference }
        #expect(unresolved.map(\.description) == [
            "users.csv:3:5: error: unresolved-reference: orgSourcedIds names orgs 'nowhere', which is neither in this drop nor in the stored roster",
        ])
    }

    @Test func aBulkDropThatRemovesUsersStillEnrolledIsRejected() throws {
        let store = try store()
        defer { store.close() }
        let classes = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\nc1,,,Math,05,k1,,scheduled,,s1,t1,,,\n"
        let courses = "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes\nk1,,,,Math,,,s1,,\n"
        let sessions = "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\nt1,,,Fall,term,2026-08-15,2026-12-20,,2027\n"
        let enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\ne1,,,c1,s1,u1,student,,,\n"
        let all = ["orgs": "bulk", "academicSessions": "bulk", "courses": "bulk", "classes": "bulk", "users": "bulk", "enrollments": "bulk"]
        let first = try HandDrop(["orgs.csv": HandDrop.orgs, "academicSessions.csv": sessions, "courses.csv": courses,
                                  "classes.csv": classes, "users.csv": HandDrop.userHeader + HandDrop.user("u1") + HandDrop.user("u2"),
                                  "enrollments.csv": enrollments], modes: all)
        #expect(run(store, first).verdict == .applied)
        // users.csv without u1, enrollments.csv left out: e1 would point at nobody.
        let second = try HandDrop(["users.csv": HandDrop.userHeader + HandDrop.user("u2")], modes: ["users": "bulk"])
        let report = run(store, second, limit: 1.0)
        #expect(report.verdict == .rejected)
        #expect(report.findings.filter { $0.code == .unresolvedReference }.map(\.description) == [
            "enrollments.csv: error: unresolved-reference: 1 stored enrollments record(s) (for example e1) still name users that this drop removes; send enrollments.csv too, or remove them in a delta",
        ])
    }

    @Test func aDeltaThatDeletesAnUnknownRecordWarnsAndAppliesTheRest() throws {
        let store = try store()
        defer { store.close() }
        let base = try HandDrop(["orgs.csv": HandDrop.orgs, "users.csv": HandDrop.userHeader + HandDrop.user("u1")],
                                modes: ["orgs": "bulk", "users": "bulk"])
        #expect(run(store, base).verdict == .applied)
        let delta = HandDrop.userHeader + "ghost,tobedeleted,2026-11-29T12:00:00Z,,,,,,,,,,,,,,,\n"
            + "u2,active,2026-11-29T12:00:00Z,true,s1,student,u2,,Given,Family,,,,,,,05,\n"
        let drop = try HandDrop(["users.csv": delta], modes: ["users": "delta"])
        let report = run(store, drop)
        #expect(report.verdict == .applied)
        #expect(report.changes["users.csv"] == ImportReport.Changes(added: 1, changed: 0, removed: 0))
        #expect(report.findings.map(\.description).contains(
            "users.csv:2:1: warning: delete-of-unknown: deletes ghost, which the roster does not hold; nothing to delete"))
    }

    @Test func aDeltaRowWithoutStatusIsAnError() throws {
        let store = try store()
        defer { store.close() }
        let drop = try HandDrop(["orgs.csv": HandDrop.orgs.replacingOccurrences(of: "d1,,,", with: "d1,active,2026-11-29T12:00:00Z,")
                                    .replacingOccurrences(of: "s1,,,", with: "s1,,2026-11-29T12:00:00Z,")],
                                modes: ["orgs": "delta"])
        let report = run(store, drop)
        #expect(report.verdict == .rejected)
        #expect(report.findings.map(\.description) == [
            "orgs.csv:3:2: error: missing-value: a delta row needs status active or tobedeleted",
        ])
    }

    @Test func aFirstImportStoresEveryRecordAsAnAdditionWithTheRosterIndexesBuilt() throws {
        let store = try store()
        defer { store.close() }
        let users = HandDrop.userHeader + HandDrop.user("u1", agents: "u2") + HandDrop.user("u2", role: "guardian", agents: "u1")
        let drop = try HandDrop(["orgs.csv": HandDrop.orgs, "users.csv": users], modes: ["orgs": "bulk", "users": "bulk"])
        let report = run(store, drop)
        #expect(report.verdict == .applied && report.importId == 1 && report.rosterVersion == 1)
        #expect(report.changes["users.csv"] == ImportReport.Changes(added: 2) && report.changes["orgs.csv"] == ImportReport.Changes(added: 2))
        let stored = try store.read { db throws(StewardError) in
            [try db.scalarText("SELECT group_concat(\"sourcedId\" || ':' || created_import || ':' || modified_import) FROM roster_users"),
             try db.scalarText("SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'roster_%' ORDER BY name)"),
             try db.scalarText("SELECT count(*) FROM import_changes"),
             try db.scalarText("SELECT errors || ',' || warnings FROM imports WHERE id = 1")]
        }
        #expect(stored == ["u1:1:1,u2:1:1", "roster_enrollments_class,roster_enrollments_user,roster_users_role", "0",
                           "\(report.errors),\(report.warnings)"])
    }

    @Test func aFirstImportWithADuplicateIdNamesBothLinesAndStoresNothing() throws {
        let store = try store()
        defer { store.close() }
        let users = HandDrop.userHeader + HandDrop.user("u1") + HandDrop.user("u2") + HandDrop.user("u1")
        let drop = try HandDrop(["orgs.csv": HandDrop.orgs, "users.csv": users], modes: ["orgs": "bulk", "users": "bulk"])
        let report = run(store, drop)
        #expect(report.verdict == .rejected && report.rosterVersion == 0)
        #expect(report.findings.map(\.description) == [
            "users.csv:4:1: error: duplicate-id: sourcedId u1 is also on line 2; each record appears once",
        ])
        let stored = try store.read { db throws(StewardError) in
            try db.scalarInt("SELECT (SELECT count(*) FROM roster_users) + (SELECT count(*) FROM roster_orgs)")
        }
        #expect(stored == 0)
    }

    @Test func aBulkFileNamingItsOwnRecordsIsCheckedBeforeAndAfterTheRecordsItNames() throws {
        let store = try store()
        defer { store.close() }
        let orgs = HandDrop.orgs + "s2,,,School 2,school,,d9\n"
        let users = HandDrop.userHeader + HandDrop.user("u1", agents: "\"u2,ghost\"") + HandDrop.user("u2", role: "guardian", agents: "u1")
        let drop = try HandDrop(["orgs.csv": orgs, "users.csv": users], modes: ["orgs": "bulk", "users": "bulk"])
        let report = run(store, drop)
        #expect(report.verdict == .rejected)
        #expect(report.findings.map(\.description) == [
            "orgs.csv:4:7: error: unresolved-reference: parentSourcedId of s2 names orgs 'd9', which is neither in this drop nor in the stored roster",
            "users.csv:2:16: error: unresolved-reference: agentSourcedIds names users 'ghost', which is neither in this drop nor in the stored roster",
        ])
    }

    @Test func aPasswordIsNeverStored() throws {
        let store = try store()
        defer { store.close() }
        let users = HandDrop.userHeader + HandDrop.user("u1").replacingOccurrences(of: ",05,\n", with: ",05,hunter2\n")
        let drop = try HandDrop(["orgs.csv": HandDrop.orgs, "users.csv": users], modes: ["orgs": "bulk", "users": "bulk"])
        let report = run(store, drop)
        #expect(report.verdict == .applied)
        #expect(report.findings.contains { $0.code == .passwordIgnored })
        let columns = try store.read { db throws(StewardError) in try db.scalarText("SELECT group_concat(name) FROM pragma_table_info('roster_users')") }
        #expect(columns?.contains("password") == false)
    }

    @Test func aManifestWithoutAVersionIsRejectedWithItsReason() throws {
        let store = try store()
        defer { store.close() }
        let drop = try HandDrop([:], modes: [:])
        try "propertyName,value\nmanifest.version,1.0\n".write(toFile: drop.path + "/manifest.csv", atomically: true, encoding: .utf8)
        let report = run(store, drop)
        #expect(report.verdict == .rejected)
        #expect(report.findings.map(\.description) == ["manifest.csv: error: invalid-manifest: oneroster.version is missing; it must be 1.1 or 1.2"])
    }

    @Test func aPathThatIsNoDropIsRejectedAndRecordedWithTheRosterVersionKept() throws {
        let store = try store()
        defer { store.close() }
        let base = try HandDrop(["orgs.csv": HandDrop.orgs], modes: ["orgs": "bulk"])
        #expect(run(store, base).rosterVersion == 1)
        var options = ImportOptions(source: "/nonexistent/drop", auditCaller: AuditEvent(method: "test.import", outcome: ""))
        options.removalLimit = 0.1
        let report = RosterImporter(store: store).run(path: "/nonexistent/drop", options: options)
        #expect(report.verdict == .rejected && report.importId == 2 && report.rosterVersion == 1)
        #expect(report.oneRosterVersion == "")
        #expect(report.findings.map(\.code) == [.unreadableDrop])
    }
}

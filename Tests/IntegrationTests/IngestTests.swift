#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardCore
import StewardHarness
import Testing

/// A synthetic district written by the real steward-gen.
struct GeneratedDrop {
    let path: String
    /// `defect NAME FILE:LINE:COLUMN SEVERITY CODE` lines, parsed.
    var defects: [(name: String, file: String, line: Int, column: Int, severity: String, code: String)] = []

    init(in folder: String, name: String, students: Int, format: String = "oneroster-1.1", seed: Int = 1,
         defects: [String] = [], deltaFrom: String? = nil) throws {
        path = folder + "/" + name
        var arguments = ["--students", String(students), "--seed", String(seed), "--format", format, "--out", path]
        if !defects.isEmpty { arguments += ["--defects", defects.joined(separator: ",")] }
        if let deltaFrom { arguments += ["--delta-from", deltaFrom] }
        let result = try runCommand(Binaries.directory + "/steward-gen", arguments)
        guard result.status == 0 else { throw SandboxError("steward-gen failed: \(result.stderr)") }
        for line in result.stdout.split(separator: "\n") where line.hasPrefix("defect ") {
            let words = line.split(separator: " ").map(String.init)
            let place = words[2].split(separator: ":").map(String.init)
            self.defects.append((words[1], place[0], Int(place[1]) ?? 0, Int(place[2]) ?? 0, words[3], words[4]))
        }
    }
}

extension RunningDaemon {
    /// `stewardctl import PATH --json`: the exit status and the report.
    func importDrop(_ path: String, dryRun: Bool = false, as user: (uid: UInt32, gid: UInt32, groups: [UInt32])? = nil) throws -> (Int32, ImportReport?) {
        var arguments = ["--socket", sandbox.socketPath, "--json", "import", path]
        if dryRun { arguments.append("--dry-run") }
        let result = try runCommand(Binaries.stewardctl, arguments, asUser: user)
        return (result.status, try? JSONDecoder().decode(ImportReport.self, from: Data(result.stdout.utf8)))
    }

    func rosterCounts() throws -> RosterCounts {
        try call(.rosterSummary, RosterCounts.self)
    }
}

@Suite struct IngestTests {
    @Test(arguments: ["oneroster-1.1", "oneroster-1.2"])
    func aGeneratedDistrictImportsWholeAndReimportingItChangesNothing(format: String) throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let drop = try GeneratedDrop(in: running.sandbox.root, name: "drop", students: 300, format: format)
        let (status, report) = try running.importDrop(drop.path)
        #expect(status == 0)
        #expect(report?.verdict == .applied && report?.errors == 0, "\(report.map(ImportReportText.render) ?? "no report")")
        let counts = try running.rosterCounts()
        #expect(counts.students == 300 && counts.version == 1)
        #expect(counts.teachers > 0 && counts.sections > 0 && counts.enrollments > 0 && counts.guardians > 0 && counts.schools > 0)
        #expect(report?.changes["users.csv"]?.added == report?.files.first { $0.file == "users.csv" }?.rows)

        let (again, second) = try running.importDrop(drop.path)
        #expect(again == 0)
        #expect(second?.verdict == .unchanged)
        #expect(second?.changes.values.allSatisfy(\.isEmpty) == true)
        #expect(try running.rosterCounts().version == 1)
    }

    @Test(arguments: ["oneroster-1.1", "oneroster-1.2"])
    func aDeltaAddsChangesAndRemovesWhatItSays(format: String) throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let base = try GeneratedDrop(in: running.sandbox.root, name: "base", students: 300, format: format)
        #expect(try running.importDrop(base.path).0 == 0)
        let before = try running.rosterCounts()
        let usersBefore = try sqlite(running.sandbox.databasePath, "SELECT count(*) FROM roster_users").stdout
        let delta = try GeneratedDrop(in: running.sandbox.root, name: "delta", students: 300, format: format, deltaFrom: base.path)
        let (status, report) = try running.importDrop(delta.path)
        #expect(status == 0, "\(report.map(ImportReportText.render) ?? "")")
        let users = try #require(report?.changes["users.csv"])
        #expect(users.added > 0 && users.changed > 0 && users.removed > 0)
        let after = try running.rosterCounts()
        #expect(after.version == before.version + 1)
        let usersAfter = try sqlite(running.sandbox.databasePath, "SELECT count(*) FROM roster_users").stdout
        #expect(Int(usersAfter.dropLast()) == (Int(usersBefore.dropLast()) ?? 0) + users.added - users.removed)
        // The change set names the changed fields of each changed record.
        let fields = try sqlite(running.sandbox.databasePath,
            "SELECT count(*) FROM import_changes WHERE import_id = 2 AND entity = 'users' AND kind = 'changed' AND fields <> ''").stdout
        #expect(Int(fields.dropLast()) == users.changed)
    }

    @Test func eachInjectedDefectIsReportedAtItsFileLineAndColumn() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let names = ["bulk-status", "uppercase-boolean", "misspelled-header", "loose-date", "ambiguous-date", "vendor-column",
                     "bom", "crlf", "duplicate-id", "dangling-reference", "missing-value", "bad-enum", "invalid-utf8", "quoted-newline"]
        for name in names {
            let drop = try GeneratedDrop(in: running.sandbox.root, name: "defect-\(name)", students: 120, defects: [name])
            let (status, report) = try running.importDrop(drop.path, dryRun: true)
            let report2 = try #require(report, "no report for \(name)")
            for defect in drop.defects where defect.code != "none" {
                let found = report2.findings.contains {
                    $0.file == defect.file && $0.line == defect.line && $0.column == defect.column
                        && $0.code.rawValue == defect.code && $0.severity.rawValue == defect.severity
                }
                #expect(found, "\(name): expected \(defect.file):\(defect.line):\(defect.column) \(defect.severity) \(defect.code); got\n\(ImportReportText.render(report2))")
            }
            let expectsError = drop.defects.contains { $0.severity == "error" }
            #expect(status == (expectsError ? 65 : 0), "\(name): exit \(status)\n\(ImportReportText.render(report2))")
            if !expectsError { #expect(report2.errors == 0, "\(name): \(ImportReportText.render(report2))") }
        }
        #expect(try running.rosterCounts().version == 0)
    }

    @Test func aRejectedDropLeavesTheRosterAndItsVersionUntouched() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let good = try GeneratedDrop(in: running.sandbox.root, name: "good", students: 200)
        #expect(try running.importDrop(good.path).0 == 0)
        let before = try running.rosterCounts()
        let table = try sqlite(running.sandbox.databasePath, "SELECT count(*), sum(length(\"givenName\")) FROM roster_users").stdout
        let bad = try GeneratedDrop(in: running.sandbox.root, name: "bad", students: 260, seed: 2, defects: ["dangling-reference"])
        let (status, report) = try running.importDrop(bad.path)
        #expect(status == 65)
        #expect(report?.verdict == .rejected)
        #expect(try running.rosterCounts() == before)
        #expect(try sqlite(running.sandbox.databasePath, "SELECT count(*), sum(length(\"givenName\")) FROM roster_users").stdout == table)
        let history = try running.call(.rosterImports, ImportHistory.self)
        #expect(history.imports.map(\.verdict) == [.rejected, .applied])
        #expect(try running.auditEntries().contains { $0.method == ControlMethod.rosterImport.rawValue && $0.outcome == "rejected" })
    }

    @Test func aZipDropImportsLikeAFolder() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let drop = try GeneratedDrop(in: running.sandbox.root, name: "district", students: 150)
        let zip = running.sandbox.root + "/district.zip"
        let made = try runCommand("/usr/bin/python3", ["-c", """
            import os, sys, zipfile
            src, out = sys.argv[1], sys.argv[2]
            with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
                for name in sorted(os.listdir(src)):
                    z.write(os.path.join(src, name), 'district/' + name)
            """, drop.path, zip])
        #expect(made.status == 0, "\(made.stderr)")
        let (status, report) = try running.importDrop(zip)
        #expect(status == 0, "\(report.map(ImportReportText.render) ?? "")")
        #expect(try running.rosterCounts().students == 150)
    }

    @Test func theMassChangeGuardHoldsADropThatRemovesTooManyStudentsUntilAStewardDecides() throws {
        try #require(isRoot, "needs root to act as a steward and an operator")
        let running = try RunningDaemon()
        defer { running.finish() }
        let full = try GeneratedDrop(in: running.sandbox.root, name: "full", students: 400)
        #expect(try running.importDrop(full.path).0 == 0)
        let before = try running.rosterCounts()
        let shrunk = try GeneratedDrop(in: running.sandbox.root, name: "shrunk", students: 200)
        let (status, report) = try running.importDrop(shrunk.path, as: People.anOperator)
        #expect(status == 75, "\(report.map(ImportReportText.render) ?? "")")
        let held = try #require(report)
        #expect(held.verdict == .held && held.massChangeGuard?.tripped == true)
        #expect(try running.rosterCounts() == before)
        let id = try #require(held.importId)
        #expect(try running.ctl("imports", "release", String(id), as: People.anOperator).status == 77)
        let release = try running.ctl("--json", "imports", "release", String(id), as: People.aSteward)
        #expect(release.status == 0, "\(release.stderr)")
        let after = try running.rosterCounts()
        #expect(after.students == 200 && after.version == before.version + 1)
        let history = try running.call(.rosterImports, ImportHistory.self).imports
        #expect(history.first?.releaseOf == id && history.first?.verdict == .applied)
        #expect(history.first { $0.importId == id }?.verdict == .released)
        // A second hold, discarded this time.
        let again = try GeneratedDrop(in: running.sandbox.root, name: "tiny", students: 60)
        let second = try #require(running.importDrop(again.path).1)
        #expect(second.verdict == .held)
        #expect(try running.ctl("imports", "discard", String(second.importId ?? 0), as: People.aSteward).status == 0)
        #expect(try running.rosterCounts().students == 200)
    }

    @Test func aDropRenamedIntoTheInboxIsImportedAndFiled() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let inbox = running.sandbox.stateDirectory + "/inbox"
        let good = try GeneratedDrop(in: running.sandbox.root, name: "monday", students: 120)
        let bad = try GeneratedDrop(in: running.sandbox.root, name: "tuesday", students: 120, seed: 3, defects: ["bad-enum"])
        #expect(rename(good.path, inbox + "/monday") == 0)
        #expect(rename(bad.path, inbox + "/tuesday") == 0)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && !(FileManager.default.fileExists(atPath: inbox + "/processed/monday.report.txt")
                                     && FileManager.default.fileExists(atPath: inbox + "/rejected/tuesday.report.txt")) {
            usleep(200_000)
        }
        #expect(FileManager.default.fileExists(atPath: inbox + "/processed/monday/manifest.csv"))
        #expect(FileManager.default.fileExists(atPath: inbox + "/rejected/tuesday/manifest.csv"))
        let report = (try? String(contentsOfFile: inbox + "/rejected/tuesday.report.txt", encoding: .utf8)) ?? ""
        #expect(report.contains("REJECTED") && report.contains("invalid-enumeration"))
        #expect(try running.rosterCounts().students == 120)
        #expect(try running.auditEntries().contains { $0.method == "inbox.import" && $0.outcome == "applied" })
    }

    @Test func aKilledImportLeavesThePreviousRosterAndTheNextStartIsClean() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        // The second drop replaces the first: the guard must not hold it.
        try sandbox.writeConfiguration(roles: People.roles, extra: "\n[Import]\nMassChangeLimit=100%\n")
        var daemon = try DaemonProcess(sandbox: sandbox)
        try daemon.waitUntilReady()
        let small = try GeneratedDrop(in: sandbox.root, name: "small", students: 200)
        let big = try GeneratedDrop(in: sandbox.root, name: "big", students: 20_000, seed: 9)
        #expect(try runCommand(Binaries.stewardctl, ["--socket", sandbox.socketPath, "import", small.path]).status == 0)
        let before = try sqlite(sandbox.databasePath, "SELECT count(*) FROM roster_users; SELECT count(*) FROM roster_enrollments").stdout
        // Start the big import and kill the daemon the moment it starts applying the drop.
        let client = try daemon.client()
        var phases: [String] = []
        let request = try ControlRequest(method: ControlMethod.rosterImport.rawValue,
                                         parameters: RosterImportParameters(path: big.path), more: true)
        do {
            try client.stream(request) { reply in
                guard let progress = try reply.decode(RosterImportReply.self).progress else { return }
                phases.append(progress.phase)
                if progress.phase == "applying" { daemon.send(SIGKILL) }
            }
        } catch {
            // The daemon died under the import: that is the point.
        }
        #expect(phases.contains("applying"), "the import finished before it could be killed: \(phases)")
        #expect(daemon.waitForExit() == 137)
        daemon.notify.close()
        #expect(try sqlite(sandbox.databasePath, "PRAGMA integrity_check").stdout == "ok\n")
        #expect(try sqlite(sandbox.databasePath, "SELECT count(*) FROM roster_users; SELECT count(*) FROM roster_enrollments").stdout == before)
        daemon = try DaemonProcess(sandbox: sandbox)
        try daemon.waitUntilReady()
        let status = try runCommand(Binaries.stewardctl, ["--socket", sandbox.socketPath, "--json", "roster", "summary"])
        let counts = try JSONDecoder().decode(RosterCounts.self, from: Data(status.stdout.utf8))
        #expect(counts.students == 200 && counts.version == 1)
        #expect(try runCommand(Binaries.stewardctl, ["--socket", sandbox.socketPath, "audit", "verify"]).status == 0)
        #expect(daemon.stop() == 0)
    }

    @Test func sigtermDuringAnImportAbandonsItCleanlyAndExitsZero() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        let daemon = try DaemonProcess(sandbox: sandbox)
        try daemon.waitUntilReady()
        let big = try GeneratedDrop(in: sandbox.root, name: "big", students: 20_000)
        let client = try daemon.client()
        var sawProgress = false
        let request = try ControlRequest(method: ControlMethod.rosterImport.rawValue,
                                         parameters: RosterImportParameters(path: big.path), more: true)
        do {
            try client.stream(request) { reply in
                guard !sawProgress, try reply.decode(RosterImportReply.self).progress != nil else { return }
                sawProgress = true
                daemon.send(SIGTERM)
            }
        } catch {
            // The daemon closes the connection as it stops.
        }
        #expect(sawProgress)
        #expect(daemon.waitForExit(timeout: 30) == 0, "\(daemon.log)")
        daemon.notify.close()
        #expect(try sqlite(sandbox.databasePath, "SELECT count(*) FROM roster_users").stdout == "0\n")
        #expect(try sqlite(sandbox.databasePath, "PRAGMA integrity_check").stdout == "ok\n")
        let methods = try sqlite(sandbox.databasePath, "SELECT method FROM audit_log ORDER BY seq").stdout
        #expect(methods.hasSuffix("daemon.stop\n"))
    }
}

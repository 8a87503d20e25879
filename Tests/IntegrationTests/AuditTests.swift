import Foundation
import StewardControl
import StewardHarness
import Testing

@Suite struct AuditTests {
    @Test func changesAreRecordedWithCallerRoleMethodTargetAndOutcome() throws {
        try #require(isRoot, "needs root to run stewardctl as other users")
        let running = try RunningDaemon()
        defer { running.finish() }
        #expect(try running.ctl("reload", as: People.anOperator).status == 0)
        #expect(try running.ctl("sharing", "pause", as: People.aSteward).status == 0)
        let entries = try running.auditEntries()
        #expect(entries.map(\.method) == ["daemon.start", "steward.Service.Reload", "steward.Sharing.Pause"])
        let reload = entries[1]
        #expect(reload.uid == 40_001 && reload.role == "operator" && reload.outcome == "ok")
        #expect(reload.pid != nil && reload.target == running.sandbox.configPath)
        #expect(entries[2].uid == 40_003 && entries[2].role == "steward" && entries[2].target == "all partners")
    }

    @Test func verifyPassesOnAnIntactChain() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        _ = try running.ctl("reload")
        let result = try running.ctl("audit", "verify")
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("Intact: 2 entries"))
    }

    @Test func verifyNamesTheFirstEntryEditedThroughTheSqliteCLI() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        for _ in 0..<3 { _ = try running.ctl("reload") }
        let edit = try sqlite(running.sandbox.databasePath,
            "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET outcome='failed' WHERE seq=3;")
        #expect(edit.status == 0, "\(edit.stderr)")
        let result = try running.ctl("audit", "verify")
        #expect(result.status == 1)
        #expect(result.stdout.contains("BROKEN at entry 3: its content does not match its hash"))
        let json = try running.ctl("audit", "verify", "--json")
        let verification = try JSONDecoder().decode(AuditVerifyResult.self, from: Data(json.stdout.utf8))
        #expect(verification.firstBroken?.seq == 3 && !verification.intact)
    }

    @Test func theSqliteCLICannotEditTheLogWithoutDroppingItsGuard() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let edit = try sqlite(running.sandbox.databasePath, "UPDATE audit_log SET outcome='x' WHERE seq=1;")
        #expect(edit.status != 0)
        #expect(edit.stderr.contains("audit_log is append-only"))
    }

    @Test func listingFiltersBySinceAndPrintsJSON() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        _ = try running.ctl("reload")
        let all = try running.ctl("audit", "--json")
        #expect(all.status == 0)
        let records = try JSONDecoder().decode([AuditRecord].self, from: Data(all.stdout.utf8))
        #expect(records.map(\.method) == ["daemon.start", "steward.Service.Reload"])
        let future = try running.ctl("audit", "--since", "2999-01-01", "--json")
        #expect(try JSONDecoder().decode([AuditRecord].self, from: Data(future.stdout.utf8)).isEmpty)
        let recent = try running.ctl("audit", "--since", "1h")
        #expect(recent.stdout.contains("steward.Service.Reload"))
        let bad = try running.ctl("audit", "--since", "yesterday-ish")
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("is not a UTC time"))
    }

    @Test func aLongLogStreamsInPagesWithContinues() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let client = try running.daemon.client()
        for _ in 0..<1200 {
            _ = try client.call(ControlRequest(method: ControlMethod.sharingPause.rawValue))
        }
        var pages: [Int] = []
        var continues: [Bool] = []
        try client.stream(ControlRequest(method: ControlMethod.auditList.rawValue, more: true)) { reply in
            pages.append(try reply.decode(AuditPage.self).entries.count)
            continues.append(reply.continues == true)
        }
        #expect(pages == [500, 500, 201])
        #expect(continues == [true, true, false])
    }
}

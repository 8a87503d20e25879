import Foundation
import StewardControl
import StewardHarness
import Testing

/// What each person may do follows from their Unix groups, read from the socket by the kernel.
/// Each test runs stewardctl as a different uid and gids through setpriv.
@Suite(.enabled(if: isRoot, "needs root to run stewardctl as other users"))
struct RoleTests {
    @Test func aCallerWithNoRoleIsRefusedAndTheRefusalAudited() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let result = try running.ctl("status", as: People.nobody)
        #expect(result.status == 77)
        #expect(result.stderr.contains("uid 65534 holds no Steward role"))
        let refusal = try #require(running.auditEntries().last)
        #expect(refusal.method == "steward.Service.Status" && refusal.outcome == "refused" && refusal.uid == 65_534)
    }

    @Test func anOperatorRunsTheServiceButCannotDecideAboutSharing() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        #expect(try running.ctl("status", as: People.anOperator).status == 0)
        #expect(try running.ctl("reload", as: People.anOperator).status == 0)
        let pause = try running.ctl("sharing", "pause", as: People.anOperator)
        #expect(pause.status == 77)
        #expect(pause.stderr.contains("steward.Sharing.Pause needs the role admin or steward; you hold operator"))
        #expect(try running.ctl("audit", as: People.anOperator).status == 77)
        #expect(try running.call(.status, ServiceStatus.self).sharing.paused == false)
    }

    @Test func anAuditorReadsButChangesNothing() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        #expect(try running.ctl("status", as: People.anAuditor).status == 0)
        #expect(try running.ctl("audit", as: People.anAuditor).status == 0)
        #expect(try running.ctl("audit", "verify", as: People.anAuditor).status == 0)
        #expect(try running.ctl("reload", as: People.anAuditor).status == 77)
        #expect(try running.ctl("sharing", "pause", as: People.anAuditor).status == 77)
        let refusals = try running.auditEntries().filter { $0.outcome == "refused" }
        #expect(refusals.map(\.method) == ["steward.Service.Reload", "steward.Sharing.Pause"])
        #expect(refusals.allSatisfy { $0.role == "auditor" && $0.uid == 40_002 })
    }

    @Test func aStewardPausesAndResumesSharingButDoesNotRunTheService() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let pause = try running.ctl("sharing", "pause", as: People.aSteward)
        #expect(pause.status == 0, "\(pause.stderr)")
        #expect(try running.call(.status, ServiceStatus.self).sharing == SharingState(
            paused: true, since: try running.call(.status, ServiceStatus.self).sharing.since, byUID: 40_003))
        #expect(running.daemon.notify.received.last?.contains("sharing PAUSED") == true)
        #expect(try running.ctl("sharing", "resume", as: People.aSteward).status == 0)
        #expect(try running.call(.status, ServiceStatus.self).sharing.paused == false)
        #expect(try running.ctl("reload", as: People.aSteward).status == 77)
    }

    @Test func thePauseSurvivesARestart() throws {
        let running = try RunningDaemon()
        #expect(try running.ctl("sharing", "pause", as: People.aSteward).status == 0)
        #expect(running.daemon.stop() == 0)
        let again = try DaemonProcess(sandbox: running.sandbox)
        try again.waitUntilReady()
        #expect(again.notify.received.first { $0.contains("READY=1") }?.contains("sharing PAUSED") == true)
        #expect(again.stop() == 0)
        running.sandbox.remove()
    }

    @Test func rolesFollowGroupChangesOnReload() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        #expect(try running.ctl("audit", as: People.anOperator).status == 77)
        try running.sandbox.writeConfiguration(roles: People.roles.merging(["auditor": "\(People.operatorGID)"]) { $1 })
        #expect(try running.ctl("reload").status == 0)
        #expect(try running.ctl("audit", as: People.anOperator).status == 0)
    }
}

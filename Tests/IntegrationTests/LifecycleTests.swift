#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardHarness
import Testing

@Suite struct LifecycleTests {
    @Test func startsAndTellsSystemdItIsReadyWithAStatus() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let ready = try #require(running.daemon.notify.received.first { $0.contains("READY=1") })
        #expect(ready.contains("STATUS=Serving Sandbox Unified School District"))
        let status = try running.call(.status, ServiceStatus.self)
        #expect(status.state == "running")
        #expect(status.stateDirectory == running.sandbox.stateDirectory)
        #expect(FileManager.default.fileExists(atPath: running.sandbox.databasePath))
    }

    @Test func theProbeModuleIsLoadedThroughDlopenAndCastToConnectorKit() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let status = try running.call(.status, ServiceStatus.self)
        #expect(status.refusedModules.isEmpty, "\(status.refusedModules)")
        #expect(status.modules.map(\.kinds) == [["probe"]])
        #expect(status.modules.first?.file == running.sandbox.moduleDirectory + "/probe.so")
    }

    @Test func reloadSendsReloadingWithMonotonicTimeThenReady() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let before = running.daemon.notify.received.count
        let result = try running.ctl("reload")
        #expect(result.status == 0, "\(result.stderr)")
        let reloading = try #require(running.daemon.notify.wait(for: "RELOADING=1", after: before))
        let message = running.daemon.notify.received[reloading.index]
        #expect(message.contains("MONOTONIC_USEC="))
        #expect(running.daemon.notify.wait(for: "READY=1", after: reloading.index + 1) != nil)
    }

    @Test func sighupAndTheControlCallTakeTheSamePath() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        try running.sandbox.writeConfiguration(roles: People.roles, district: "Renamed District")
        let before = running.daemon.notify.received.count
        running.daemon.send(SIGHUP)
        let reloading = try #require(running.daemon.notify.wait(for: "RELOADING=1", after: before))
        #expect(running.daemon.notify.wait(for: "READY=1", after: reloading.index + 1) != nil)
        let status = try running.call(.status, ServiceStatus.self)
        #expect(status.district == "Renamed District")
        #expect(status.lastReload?.applied == true)
        #expect(status.lastReload?.changes == ["District changed"])
        #expect(try running.auditEntries().contains { $0.method == "steward.Service.Reload" && $0.uid == nil && $0.outcome == "ok" })
    }

    @Test func aBrokenReloadKeepsTheOldConfigurationAndSaysWhere() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        try running.sandbox.write("[Steward]\nDistrict=New\nPartnerDirectory=partners.d\nLogLevle=debug\n", to: running.sandbox.configPath)
        let result = try running.ctl("reload")
        #expect(result.status == 78)
        #expect(result.stderr.contains("\(running.sandbox.configPath):4: LogLevle: unknown key in [Steward]"))
        #expect(running.daemon.log.contains("<3>reload: \(running.sandbox.configPath):4: LogLevle"))
        let status = try running.call(.status, ServiceStatus.self)
        #expect(status.district == "Sandbox Unified School District")
        #expect(status.lastReload?.applied == false)
        // Still serving and still loaded with the old roles: the operator can reload.
        try running.sandbox.writeConfiguration(roles: People.roles)
        #expect(try running.ctl("reload", as: isRoot ? People.anOperator : nil).status == 0)
        #expect(try running.auditEntries().contains { $0.method == "steward.Service.Reload" && $0.outcome == "failed" })
    }

    @Test func sigtermSendsStoppingClosesTheStoreAndExitsZero() throws {
        let running = try RunningDaemon()
        let status = running.daemon.stop()
        #expect(status == 0, "\(running.daemon.log)")
        #expect(running.daemon.notify.received.contains { $0.contains("STOPPING=1") })
        #expect(!FileManager.default.fileExists(atPath: running.sandbox.socketPath))
        // The store is whole: integrity holds, the WAL was checkpointed, the stop is on record.
        #expect(try sqlite(running.sandbox.databasePath, "PRAGMA integrity_check").stdout == "ok\n")
        let methods = try sqlite(running.sandbox.databasePath, "SELECT method FROM audit_log ORDER BY seq").stdout
        #expect(methods == "daemon.start\ndaemon.stop\n")
        running.sandbox.remove()
    }

    @Test func theWatchdogIsPingedAtHalfTheInterval() throws {
        let running = try RunningDaemon(environment: ["WATCHDOG_USEC": "400000"])
        defer { running.finish() }
        let first = try #require(running.daemon.notify.wait(for: "WATCHDOG=1"))
        let second = try #require(running.daemon.notify.wait(for: "WATCHDOG=1", after: first.index + 1))
        let third = try #require(running.daemon.notify.wait(for: "WATCHDOG=1", after: second.index + 1))
        // 200 ms apart, give or take a loaded CI machine.
        let gap = Double(third.at - second.at) / 1000
        #expect(gap > 120 && gap < 400, "watchdog gap \(gap) ms")
    }

    @Test func aWatchdogMeantForAnotherProcessIsIgnored() throws {
        let running = try RunningDaemon(environment: ["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"])
        defer { running.finish() }
        usleep(500_000)
        #expect(!running.daemon.notify.received.contains { $0.contains("WATCHDOG=1") })
    }

    @Test func theSocketCanComeFromSystemdSocketActivation() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        // systemd-socket-activate binds the socket, sets LISTEN_FDS/LISTEN_PID, and starts
        // stewardd on the first connection, as systemd's .socket unit does.
        let daemon = try DaemonProcess(sandbox: sandbox, executable: "/usr/bin/systemd-socket-activate",
                                       arguments: ["-l", sandbox.socketPath, Binaries.stewardd, "--config", sandbox.configPath])
        defer { daemon.stop() }
        var status: CommandResult?
        for _ in 0..<100 where status?.status != 0 {
            if FileManager.default.fileExists(atPath: sandbox.socketPath) {
                status = try runCommand(Binaries.stewardctl, ["--socket", sandbox.socketPath, "status", "--json"])
            } else {
                usleep(50_000)
            }
        }
        #expect(status?.status == 0, "\(status?.stderr ?? "") \(daemon.log)")
        #expect(daemon.log.contains("(from systemd)"))
    }

    @Test func relativePathsInTheFileResolveAgainstItsFolderWhateverTheWorkingDirectory() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        // The harness starts stewardd from the test's working directory, not the sandbox.
        #expect(FileManager.default.currentDirectoryPath != running.sandbox.root)
        #expect(FileManager.default.fileExists(atPath: running.sandbox.root + "/state/steward.db"))
        #expect(FileManager.default.fileExists(atPath: running.sandbox.root + "/control.sock"))
    }
}

@Suite struct SignalTests {
    @Test func aSigtermThatArrivesDuringStartIsNeverLost() throws {
        for delay in [0, 5_000, 20_000, 60_000] as [UInt32] {
            let sandbox = try Sandbox(roles: People.roles)
            defer { sandbox.remove() }
            let daemon = try DaemonProcess(sandbox: sandbox)
            usleep(delay)
            daemon.send(SIGTERM)
            let status = daemon.waitForExit()
            daemon.notify.close()
            // Either it stopped before it had started anything, or it stopped cleanly.
            #expect(status == 0 || status == 143, "delay \(delay) µs: exit \(status)\n\(daemon.log)")
            if FileManager.default.fileExists(atPath: sandbox.databasePath) {
                #expect(try sqlite(sandbox.databasePath, "PRAGMA integrity_check").stdout == "ok\n")
            }
        }
    }
}

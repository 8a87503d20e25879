import Foundation
import StewardHarness
import Testing

@Suite struct CheckConfigTests {
    @Test func aValidConfigurationExitsZero() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        let result = try runCommand(Binaries.stewardd, ["--check-config", "--config", sandbox.configPath])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout == "\(sandbox.configPath): ok\n")
    }

    @Test func eachProblemIsOneFileLineKeyLineAndTheExitIs78() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        try sandbox.write("""
            [Steward]
            Distric=Typo Unified
            PartnerDirectory=partners.d
            ModuleDirectory=modules
            Modules=probe absent

            [Control]
            SocketMode=999
            """, to: sandbox.configPath)
        let result = try runCommand(Binaries.stewardd, ["--check-config", "--config", sandbox.configPath])
        #expect(result.status == 78)
        let path = sandbox.configPath
        #expect(result.stdout.split(separator: "\n").map(String.init) == [
            "\(path):2: Distric: unknown key in [Steward]; did you mean District?",
            "\(path):5: District: required in [Steward] but missing",
            "\(path):8: SocketMode: '999' is not an octal file mode such as 0660",
        ])
    }

    @Test func aModuleNamedButMissingOrUnsafeIsAProblem() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        try sandbox.writeConfiguration(roles: People.roles, modules: ["probe", "absent"])
        let result = try runCommand(Binaries.stewardd, ["--check-config", "--config", sandbox.configPath])
        #expect(result.status == 78)
        #expect(result.stdout.contains("\(sandbox.configPath):6: Modules: module absent: \(sandbox.moduleDirectory)/absent.so: cannot be read"))
    }

    @Test func aBadCommandLineIsAConfigurationError() throws {
        let result = try runCommand(Binaries.stewardd, ["--frobnicate"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("unknown argument '--frobnicate'"))
    }

    @Test func theShippedDefaultHasNoUnknownKeysOrSyntaxErrors() throws {
        let result = try runCommand(Binaries.stewardd, ["--check-config", "--config", repositoryRoot + "/etc/steward/steward.conf"])
        // On a machine without the sysusers groups and folders only those problems may remain.
        for line in result.stdout.split(separator: "\n") where !line.hasSuffix(": ok") {
            #expect(line.contains("no group named") || line.contains("is not a directory") || line.contains("cannot be read"),
                    "unexpected problem in the shipped steward.conf: \(line)")
        }
    }

    @Test func aStartWithABrokenConfigurationExits78WithoutTouchingState() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        try sandbox.write("[Steward]\nDistrict=X\nStateDirectory=state\nPartnerDirectory=nowhere\n", to: sandbox.configPath)
        let daemon = try DaemonProcess(sandbox: sandbox)
        #expect(daemon.waitForExit() == 78)
        daemon.notify.close()
        #expect(daemon.log.contains("\(sandbox.configPath):4: PartnerDirectory:"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.stateDirectory))
    }
}

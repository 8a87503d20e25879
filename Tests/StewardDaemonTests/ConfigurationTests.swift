import Foundation
import StewardCore
import StewardDaemon
import Testing

@Suite struct ConfigurationTests {
    func folder() throws -> String {
        let path = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/partners.d", withIntermediateDirectories: true)
        return path
    }

    @Test func relativePathsResolveAgainstTheFilesFolder() throws {
        let root = try folder()
        try "[Steward]\nDistrict=D\nStateDirectory=state\nPartnerDirectory=partners.d\n[Control]\nSocket=run/c.sock\n"
            .write(toFile: root + "/steward.conf", atomically: true, encoding: .utf8)
        let configuration = try DaemonConfiguration.load(path: root + "/steward.conf").get()
        #expect(configuration.stateDirectory == root + "/state")
        #expect(configuration.partnerDirectory == root + "/partners.d")
        #expect(configuration.socketPath == root + "/run/c.sock")
        #expect(configuration.inboxDirectory == root + "/state/inbox")
    }

    @Test func commandLineOverridesWinOverTheFile() throws {
        let root = try folder()
        try "[Steward]\nDistrict=D\nPartnerDirectory=partners.d\n".write(toFile: root + "/steward.conf", atomically: true, encoding: .utf8)
        let configuration = try DaemonConfiguration.load(
            path: root + "/steward.conf", overrides: .init(stateDirectory: "/tmp/elsewhere", socketPath: "/tmp/elsewhere.sock")).get()
        #expect(configuration.stateDirectory == "/tmp/elsewhere")
        #expect(configuration.socketPath == "/tmp/elsewhere.sock")
    }

    @Test func everyProblemIsReportedWithFileLineAndKey() throws {
        let root = try folder()
        let path = root + "/steward.conf"
        try """
            [Steward]
            District=
            PartnerDirectory=missing.d
            Moduels=probe
            [Control]
            SocketMode=rw
            MaxConnections=0
            [Roles]
            auditor=no-such-group-here
            """.write(toFile: path, atomically: true, encoding: .utf8)
        guard case .failure(let failure) = DaemonConfiguration.load(path: path) else {
            Issue.record("a broken file was accepted")
            return
        }
        #expect(failure.problems.map(\.description) == [
            "\(path):4: Moduels: unknown key in [Steward]; did you mean Modules?",
            "\(path):2: District: must name the district, as its staff and partners know it",
            "\(path):3: PartnerDirectory: \(root)/missing.d is not a directory; create it or correct the path",
            "\(path):6: SocketMode: 'rw' is not an octal file mode such as 0660",
            "\(path):7: MaxConnections: '0' is not a number from 1 to 4096",
            "\(path):9: auditor: no group named 'no-such-group-here' exists on this system; create it (the sysusers file does) or name a numeric gid",
        ])
    }

    @Test func aMissingFileIsNamed() {
        guard case .failure(let failure) = DaemonConfiguration.load(path: "/nonexistent/steward.conf") else {
            Issue.record("a missing file was accepted")
            return
        }
        #expect(failure.problems.map(\.description) == ["/nonexistent/steward.conf: the configuration file does not exist"])
    }
}

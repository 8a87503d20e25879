#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardHarness
import Testing

/// The units as shipped: scored by systemd-analyze, and run under a real systemd booted in a
/// container (PID 1 on this machine is not systemd).
@Suite struct SystemdTests {
    @Test func theServiceUnitScoresAnExposureOf1Point5OrLower() throws {
        let result = try runCommand(repositoryRoot + "/Tests/system/unit-exposure.sh", [])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test(.enabled(if: isRoot, "booting a container needs root"), .timeLimit(.minutes(10)))
    func theHardenedUnitRunsUnderARealSystemd() throws {
        let stage = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-stage-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: stage) }
        let install = try runCommand(Binaries.directory + "/steward-dev", ["install", "--destdir", stage])
        #expect(install.status == 0, "\(install.stderr)")
        for path in ["usr/bin/stewardd", "usr/bin/stewardctl", "usr/lib/steward/libConnectorKit.so",
                     "usr/lib/steward/modules/probe.so", "usr/lib/systemd/system/stewardd.service",
                     "usr/lib/systemd/system/stewardd.socket", "usr/lib/sysusers.d/steward.conf",
                     "usr/lib/tmpfiles.d/steward.conf", "etc/steward/steward.conf", "etc/steward/partners.d"] {
            #expect(FileManager.default.fileExists(atPath: stage + "/" + path), "install did not put \(path)")
        }
        let boot = try runCommand(repositoryRoot + "/Tests/system/nspawn-systemd.sh", [stage], timeout: 570)
        #expect(boot.status == 0 && boot.stdout.contains("nspawn-systemd: PASS"), "\(boot.stdout)\n\(boot.stderr)")
    }
}

import Foundation
import StewardControl
import StewardHarness
import Testing

/// `stewardctl modules` against the real daemon and the real probe module.
@Suite struct ModulesTests {
    @Test func listsEachModuleWithItsKindsHashAndThePartnersThatUseIt() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        try PartnerCheckTests.partner().write(toFile: running.sandbox.partnerDirectory + "/mathfacts.conf", atomically: true, encoding: .utf8)
        #expect(try running.ctl("reload").status == 0)

        let result = try running.ctl("modules", "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let list = try JSONDecoder().decode(ModulesList.self, from: Data(result.stdout.utf8))
        let probe = try #require(list.modules.first)
        #expect(probe.module.name == "probe" && probe.module.kinds == ["probe"])
        #expect(probe.module.abiVersion == 5)
        #expect(probe.partners == ["probe": ["mathfacts"]])
        let digest = try runCommand("/usr/bin/sha256sum", [probe.module.file]).stdout.prefix(64)
        #expect(probe.module.sha256 == String(digest))

        let text = try running.ctl("modules")
        #expect(text.stdout.contains("probe   probe  mathfacts"))
    }
}

import Foundation
import StewardControl
import StewardHarness
import Testing

/// `stewardctl partners check` against the real daemon, which knows the loaded connector kinds.
@Suite struct PartnerCheckTests {
    static func partner(connector: String = "probe", attests: String = AgreementDefaults.attests, expires: String = "2099-07-31") -> String {
        """
        [Partner]
        Name=mathfacts
        Type=district
        Connector=\(connector)
        Contact=privacy@mathfacts.example

        [Agreement]
        Signed=2026-01-01
        Expires=\(expires)
        Attests=\(attests)
        SecurityFramework=NIST-CSF
        BreachNoticeHours=72
        DeletionDays=30
        DataElements=given_name family_name grade school sections

        [Grant]
        Schools=all
        Roles=student
        Fields=directory
        """
    }

    enum AgreementDefaults {
        static let attests = "ferpa-school-official coppa ppra sopipa ab1584 no-advertising no-sale no-profiling security-program deletion-on-request subprocessors-bound"
    }

    @Test func aPartnerThatMeetsTheBaselineChecksOK() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        // A directory grant names middle and preferred names too: declare every directory field.
        let text = Self.partner().replacingOccurrences(of: "DataElements=given_name family_name grade school sections",
                                                        with: "DataElements=directory")
        try running.sandbox.write(text, to: running.sandbox.partnerDirectory + "/mathfacts.conf")
        let result = try running.ctl("partners", "check")
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("mathfacts.conf: ok (mathfacts meets the baseline"))
    }

    @Test func everyUnmetRequirementIsNamedAndTheExitIs1() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let path = running.sandbox.root + "/new-partner.conf"
        try running.sandbox.write(Self.partner(connector: "oneroster-rest", attests: "ferpa-school-official coppa", expires: "2026-06-30"), to: path)
        let result = try running.ctl("partners", "check", path, as: isRoot ? People.anAuditor : nil)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("\(path):9: dates: the agreement expired on 2026-06-30"))
        #expect(lines.contains { $0.hasPrefix("\(path):10: attests: the agreement does not declare ppra, sopipa, ab1584") })
        #expect(lines.contains("\(path):4: connector: no loaded module provides the connector kind 'oneroster-rest'; loaded: probe"))
        #expect(lines.contains { $0.hasPrefix("\(path):19: data elements: the grant gives family_initial, middle_name, preferred_name, role") })
    }

    @Test func aFileThatIsNotAPartnerFileIsNamedWithItsLine() throws {
        let running = try RunningDaemon()
        defer { running.finish() }
        let path = running.sandbox.root + "/broken.conf"
        try running.sandbox.write("[Partner]\nName=x\nTpye=district\n", to: path)
        let result = try running.ctl("partners", "check", path)
        #expect(result.status == 1)
        #expect(result.stdout.contains("\(path):3: Tpye: unknown key in [Partner]; did you mean Type?"))
    }
}

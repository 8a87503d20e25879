import StewardCore
import Testing

@Suite struct PartnerFileTests {
    static let good = """
        [Partner]
        Name=mathfacts                 # [a-z0-9-], unique
        DisplayName=MathFacts
        Type=district
        Connector=oneroster-rest
        Contact=privacy@mathfacts.example

        [Agreement]
        Signed=2026-08-01
        Expires=2027-07-31
        Attests=ferpa-school-official coppa ppra sopipa ab1584 no-advertising no-sale no-profiling security-program deletion-on-request subprocessors-bound
        SecurityFramework=NIST-CSF
        BreachNoticeHours=72
        DeletionDays=30
        DataElements=given_name family_name grade school sections email

        [Grant]
        Schools=sch-001 sch-002
        Grades=3 4 5
        Roles=student teacher
        Fields=given_name family_name grade school sections email

        [Connector]
        Endpoint=https://example.test/
        """

    func read(_ text: String) -> PartnerFile? {
        PartnerFile.read(path: "mathfacts.conf", text: text).0
    }

    func unmet(_ text: String, today: String = "2026-11-29", kinds: Set<String> = ["oneroster-rest"]) -> [String] {
        guard let partner = read(text) else { return ["unreadable"] }
        return AgreementBaseline().unmet(by: partner, today: today, connectorKinds: kinds).map(\.description)
    }

    @Test func theIssuesExampleMeetsTheBaseline() throws {
        let partner = try #require(read(Self.good))
        #expect(partner.name == "mathfacts" && partner.kind == .district && partner.grant.schools == ["sch-001", "sch-002"])
        #expect(partner.grant.fields.map(\.name).sorted() == ["email", "family_name", "given_name", "grade", "school", "sections"])
        #expect(partner.connectorSettings.map(\.key) == ["Endpoint"])
        #expect(unmet(Self.good).isEmpty)
    }

    @Test func eachAgreementFailureHasItsOwnMessage() {
        #expect(unmet(Self.good, today: "2027-08-01") == ["mathfacts.conf:10: dates: the agreement expired on 2027-07-31"])
        #expect(unmet(Self.good, today: "2026-07-01") == ["mathfacts.conf:9: dates: the agreement is signed 2026-08-01, after today (2026-07-01)"])
        #expect(unmet(Self.good.replacingOccurrences(of: " coppa ppra", with: "")) ==
                ["mathfacts.conf:11: attests: the agreement does not declare coppa, ppra"])
        #expect(unmet(Self.good.replacingOccurrences(of: "SecurityFramework=NIST-CSF\n", with: "")) ==
                ["mathfacts.conf:9: security: no security framework is named (such as NIST-CSF, ISO-27001, CIS)"])
        #expect(unmet(Self.good.replacingOccurrences(of: "BreachNoticeHours=72", with: "BreachNoticeHours=96")) ==
                ["mathfacts.conf:13: limits: breach notice within 96 hours; the baseline is at most 72"])
        #expect(unmet(Self.good.replacingOccurrences(of: "DeletionDays=30", with: "DeletionDays=90")) ==
                ["mathfacts.conf:14: limits: deletion within 90 days; the baseline is at most 60"])
        #expect(unmet(Self.good, kinds: ["clever-v3"]) ==
                ["mathfacts.conf:5: connector: no loaded module provides the connector kind 'oneroster-rest'; loaded: clever-v3"])
    }

    @Test func aGrantedFieldTheAgreementDoesNotDeclareIsUnmet() {
        let text = Self.good.replacingOccurrences(of: "Fields=given_name family_name grade school sections email",
                                                  with: "Fields=given_name family_name grade school sections email sis_id")
        #expect(unmet(text) == ["mathfacts.conf:21: data elements: the grant gives sis_id, which the agreement's DataElements do not declare"])
    }

    @Test func onlyDirectoryFieldsMayBeGrantedByAGroupWord() {
        let (directory, _) = PartnerFile.read(path: "p.conf", text: Self.good
            .replacingOccurrences(of: "Fields=given_name family_name grade school sections email", with: "Fields=directory"))
        #expect(directory?.grant.fields.allSatisfy { $0.tier == .directory } == true)
        let (_, problems) = PartnerFile.read(path: "p.conf", text: Self.good
            .replacingOccurrences(of: "Fields=given_name family_name grade school sections email", with: "Fields=directory contact"))
        #expect(problems.map(\.description) == [
            "p.conf:21: Fields: 'contact' cannot be granted as a group; name each contact field: email phone sms username",
        ])
    }

    @Test func aLibraryGrantBeyondTheCapIsUnmet() {
        let text = Self.good.replacingOccurrences(of: "Type=district", with: "Type=library")
        #expect(unmet(text) == [
            "mathfacts.conf:21: library cap: a Library application gets at most family_initial, given_name, grade, sections; remove email, family_name, school",
        ])
    }

    @Test func malformedValuesNameTheirLineAndKey() {
        let text = Self.good.replacingOccurrences(of: "Name=mathfacts", with: "Name=Math Facts!")
            .replacingOccurrences(of: "Signed=2026-08-01", with: "Signed=8/1/2026")
            .replacingOccurrences(of: "Fields=given_name", with: "Fields=given_nam")
        let (partner, problems) = PartnerFile.read(path: "p.conf", text: text)
        #expect(partner == nil)
        #expect(problems.map(\.description) == [
            "p.conf:2: Name: 'Math Facts!' is not a partner name: use a-z, 0-9 and -",
            "p.conf:9: Signed: '8/1/2026' is not a date YYYY-MM-DD",
            "p.conf:21: Fields: 'given_nam' is not a field; did you mean given_name?",
        ])
    }
}

import StewardCore
import Testing

/// Where a partner stands, why, what its file may say, and what one roster person becomes in its view.
@Suite struct SharingPolicyTests {
    static let today = "2026-11-29"

    /// A district application that meets the baseline (PartnerFileTests' file, whose line
    /// numbers the messages name), without its [Connector] section.
    static let district = PartnerFileTests.good.components(separatedBy: "\n\n[Connector]")[0]

    /// A Library application that meets the baseline and the cap.
    static let library = district.replacingOccurrences(of: "Type=district", with: "Type=library")
        .replacingOccurrences(of: "given_name family_name grade school sections email", with: "given_name family_initial grade sections")

    static func read(_ text: String, path: String = "mathfacts.conf") -> PartnerFile? {
        PartnerFile.read(path: path, text: text).0
    }

    static func problems(_ text: String, path: String = "mathfacts.conf") -> [String] {
        PartnerFile.read(path: path, text: text).1.map(\.description)
    }

    static func unmet(_ text: String, today: String = today, kinds: Set<String> = ["oneroster-rest"]) -> [String] {
        guard let partner = read(text) else { return ["unreadable: \(problems(text))"] }
        return AgreementBaseline().unmet(by: partner, today: today, connectorKinds: kinds).map(\.description)
    }

    /// The state and reasons, as an operator reads them: `["expired", "mathfacts.conf:10: …"]`.
    static func described(_ standing: PartnerStanding?) -> [String] {
        standing.map { [$0.state.rawValue] + $0.reasons } ?? ["unreadable"]
    }

    static func standing(_ text: String, today: String = today, kinds: Set<String> = ["oneroster-rest"],
                         library: LibrarySettings = LibrarySettings()) -> PartnerStanding? {
        guard let partner = read(text) else { return nil }
        let unmet = AgreementBaseline().unmet(by: partner, today: today, connectorKinds: kinds)
        return PartnerStanding.of(partner, unmet: unmet, library: library)
    }

    // MARK: Standing

    @Test func aPartnerThatMeetsTheBaselineIsActiveWithNoReasons() {
        #expect(Self.described(Self.standing(Self.district)) == ["active"])
        #expect(Self.standing(Self.library)?.state == .active)
    }

    @Test func enabledNoMakesAPartnerInactiveWhateverElseIsWrong() {
        let off = Self.district.replacingOccurrences(of: "Contact=privacy@mathfacts.example",
                                                     with: "Contact=privacy@mathfacts.example\nEnabled=no")
        #expect(Self.described(Self.standing(off)) == ["inactive", "Enabled=no in mathfacts.conf"])
        #expect(Self.standing(off, today: "2030-01-01", kinds: [])?.state == .inactive)
    }

    @Test func aMissedRequirementFailsTheAgreementWithEveryReason() {
        let text = Self.district.replacingOccurrences(of: "SecurityFramework=NIST-CSF\n", with: "")
        #expect(Self.described(Self.standing(text, kinds: [])) == [
            "agreement-failed",
            "mathfacts.conf:9: security: no security framework is named (such as NIST-CSF, ISO-27001, CIS)",
            "mathfacts.conf:5: connector: no loaded module provides the connector kind 'oneroster-rest'",
        ])
    }

    @Test func anExpiredAgreementIsToldApartFromOtherFailures() {
        #expect(Self.described(Self.standing(Self.district, today: "2027-08-01"))
                == ["expired", "mathfacts.conf:10: dates: the agreement expired on 2027-07-31"])
        // Expired and missing a requirement: it needs a fix, not only a renewal.
        let text = Self.district.replacingOccurrences(of: "DeletionDays=30", with: "DeletionDays=90")
        #expect(Self.described(Self.standing(text, today: "2027-08-01")) == [
            "agreement-failed",
            "mathfacts.conf:10: dates: the agreement expired on 2027-07-31",
            "mathfacts.conf:14: limits: deletion within 90 days; the baseline is at most 60",
        ])
    }

    @Test func anAgreementThatExpiresBeforeItIsSignedNeedsAFixNotARenewal() {
        let text = Self.district.replacingOccurrences(of: "Expires=2027-07-31", with: "Expires=2026-07-31")
        let standing = Self.standing(text, today: "2026-09-01")
        #expect(standing?.reasons == [
            "mathfacts.conf:10: dates: the agreement expired on 2026-07-31",
            "mathfacts.conf:10: dates: the agreement expires before it is signed",
        ])
        #expect(standing?.state == .agreementFailed)
    }

    @Test func theDistrictCanTurnLibrarySharingOffOrBlockOneApplication() {
        #expect(Self.described(Self.standing(Self.library, library: LibrarySettings(isSharingOn: false)))
                == ["library-off", "LibrarySharing=off: the district has turned Library sharing off"])
        #expect(Self.described(Self.standing(Self.library, library: LibrarySettings(blocked: ["mathfacts"])))
                == ["blocked", "the district blocks this Library application (LibraryBlocked=)"])
        #expect(Self.standing(Self.library, library: LibrarySettings(blocked: ["someone-else"]))?.state == .active)
    }

    @Test func libraryOffAndBlockedDoNotTouchDistrictApplications() {
        let settings = LibrarySettings(isSharingOn: false, blocked: ["mathfacts"])
        #expect(Self.standing(Self.district, library: settings)?.state == .active)
    }

    @Test func aLibraryApplicationWithAFailedAgreementReportsTheFailureFirst() {
        #expect(Self.standing(Self.library, kinds: [], library: LibrarySettings(isSharingOn: false))?.state == .agreementFailed)
    }

    @Test func onlyAnActiveStandingShares() {
        let partner = Self.read(Self.library)!
        for state in PartnerState.allCases {
            var standing = PartnerStanding.of(partner, unmet: [], library: LibrarySettings())
            standing.state = state
            let policy = SharingPolicy(partner: partner, standing: standing, adoptedSections: ["cls-1"])
            #expect(policy.isSharing == (state == .active), "\(state)")
            let student = RosterPerson(sourcedId: "stu-1", role: "student", schools: ["sch-001"], grades: ["03"],
                                       sections: [.init(sourcedId: "cls-1", school: "sch-001", grades: ["03"])])
            #expect((SharedView(policy: policy) { $0 }.record(for: student) != nil) == (state == .active), "\(state)")
        }
    }

    // MARK: Each requirement, its own message

    @Test func eachDateProblemHasItsOwnMessage() {
        #expect(Self.unmet(Self.district, today: "2026-07-01") ==
                ["mathfacts.conf:9: dates: the agreement is signed 2026-08-01, after today (2026-07-01)"])
        #expect(Self.unmet(Self.district, today: "2027-08-01") == ["mathfacts.conf:10: dates: the agreement expired on 2027-07-31"])
        #expect(Self.unmet(Self.district, today: "2027-07-31").isEmpty, "the agreement holds on its last day")
        #expect(Self.unmet(Self.district, today: "2026-08-01").isEmpty, "the agreement holds on the day it is signed")
        let backwards = Self.district.replacingOccurrences(of: "Expires=2027-07-31", with: "Expires=2026-07-31")
        #expect(Self.unmet(backwards, today: "2026-07-15") == [
            "mathfacts.conf:9: dates: the agreement is signed 2026-08-01, after today (2026-07-15)",
            "mathfacts.conf:10: dates: the agreement expires before it is signed",
        ])
    }

    @Test func missingAttestsAreNamed() {
        #expect(Self.unmet(Self.district.replacingOccurrences(of: " coppa ppra", with: "")) ==
                ["mathfacts.conf:11: attests: the agreement does not declare coppa, ppra"])
        let split = Self.district.replacingOccurrences(of: " security-program", with: "\nAttests=security-program")
        #expect(Self.unmet(split).isEmpty, "Attests= may be repeated")
    }

    @Test func aMissingSecurityFrameworkIsNamed() {
        #expect(Self.unmet(Self.district.replacingOccurrences(of: "SecurityFramework=NIST-CSF\n", with: "")) ==
                ["mathfacts.conf:9: security: no security framework is named (such as NIST-CSF, ISO-27001, CIS)"])
    }

    @Test func breachNoticeMissingOrTooLongHasItsOwnMessage() {
        #expect(Self.unmet(Self.district.replacingOccurrences(of: "BreachNoticeHours=72\n", with: "")) ==
                ["mathfacts.conf:9: limits: no breach-notice period is given; at most 72 hours"])
        #expect(Self.unmet(Self.district.replacingOccurrences(of: "BreachNoticeHours=72", with: "BreachNoticeHours=73")) ==
                ["mathfacts.conf:13: limits: breach notice within 73 hours; the baseline is at most 72"])
    }

    @Test func deletionMissingOrTooLateHasItsOwnMessage() {
        #expect(Self.unmet(Self.district.replacingOccurrences(of: "DeletionDays=30\n", with: "")) ==
                ["mathfacts.conf:9: limits: no deletion period is given; at most 60 days after a request"])
        #expect(Self.unmet(Self.district.replacingOccurrences(of: "DeletionDays=30", with: "DeletionDays=61")) ==
                ["mathfacts.conf:14: limits: deletion within 61 days; the baseline is at most 60"])
    }

    @Test func aDistrictBaselineCanBeStricter() {
        let partner = Self.read(Self.district)!
        let strict = AgreementBaseline(attests: ["coppa", "gdpr"], maximumBreachNoticeHours: 24, maximumDeletionDays: 14)
        #expect(strict.unmet(by: partner, today: Self.today, connectorKinds: ["oneroster-rest"]).map(\.description) == [
            "mathfacts.conf:11: attests: the agreement does not declare gdpr",
            "mathfacts.conf:13: limits: breach notice within 72 hours; the baseline is at most 24",
            "mathfacts.conf:14: limits: deletion within 30 days; the baseline is at most 14",
        ])
    }

    @Test func grantedFieldsTheAgreementDoesNotDeclareAreNamed() {
        let text = Self.district.replacingOccurrences(of: "Fields=given_name family_name grade school sections email",
                                                      with: "Fields=given_name family_name grade school sections email sis_id birth_date")
        #expect(Self.unmet(text) ==
                ["mathfacts.conf:21: data elements: the grant gives sis_id, birth_date, which the agreement's DataElements do not declare"])
    }

    @Test func aLibraryGrantBeyondTheCapNamesWhatToRemove() {
        let text = Self.district.replacingOccurrences(of: "Type=district", with: "Type=library")
        #expect(Self.unmet(text) == [
            "mathfacts.conf:21: library cap: a Library application gets at most family_initial, given_name, grade, sections; remove email, family_name, school",
        ])
    }

    @Test func aConnectorNoModuleProvidesIsNamedWithTheLoadedKinds() {
        #expect(Self.unmet(Self.district, kinds: []) ==
                ["mathfacts.conf:5: connector: no loaded module provides the connector kind 'oneroster-rest'"])
        #expect(Self.unmet(Self.district, kinds: ["probe", "clever-v3"]) ==
                ["mathfacts.conf:5: connector: no loaded module provides the connector kind 'oneroster-rest'; loaded: clever-v3, probe"])
    }

    @Test func everyFailureAtOnceGivesOneMessageEach() {
        let text = Self.district.replacingOccurrences(of: "Type=district", with: "Type=library")
            .replacingOccurrences(of: " no-sale", with: "")
            .replacingOccurrences(of: "SecurityFramework=NIST-CSF\n", with: "")
            .replacingOccurrences(of: "BreachNoticeHours=72", with: "BreachNoticeHours=100")
            .replacingOccurrences(of: "DeletionDays=30", with: "DeletionDays=365")
            .replacingOccurrences(of: "sections email\n", with: "sections\n")
        let unmet = Self.unmet(text, today: "2027-08-01", kinds: [])
        #expect(unmet.map { $0.split(separator: ":")[2].trimmingWhitespace() } ==
                ["dates", "attests", "security", "limits", "limits", "data elements", "library cap", "connector"])
        #expect(Set(unmet).count == unmet.count)
    }

    // MARK: The partner file

    @Test func enabledTakesYesOrNoAndNamesTheLineOtherwise() {
        func withEnabled(_ value: String) -> String {
            Self.district.replacingOccurrences(of: "Contact=privacy@mathfacts.example", with: "Contact=privacy@mathfacts.example\nEnabled=\(value)")
        }
        #expect(Self.read(withEnabled("maybe")) == nil)
        #expect(Self.problems(withEnabled("maybe")) == ["mathfacts.conf:7: Enabled: 'maybe' is not yes or no"])
        for yes in ["yes", "true", "on", "Yes"] { #expect(Self.read(withEnabled(yes))?.isEnabled == true, "\(yes)") }
        for no in ["no", "false", "off", "NO"] { #expect(Self.read(withEnabled(no))?.isEnabled == false, "\(no)") }
        #expect(Self.read(Self.district)?.isEnabled == true, "a partner is enabled unless its file says otherwise")
    }

    @Test func guardiansCannotBeGrantedAsARole() {
        let guardian = Self.district.replacingOccurrences(of: "Roles=student teacher", with: "Roles=student guardian")
        #expect(Self.read(guardian) == nil)
        #expect(Self.problems(guardian) == [
            "mathfacts.conf:20: Roles: 'guardian' cannot be granted as a role; grant guardian_names or guardian_contacts on the students instead",
        ])
        let parent = Self.district.replacingOccurrences(of: "Roles=student teacher", with: "Roles=parent")
        #expect(Self.problems(parent) == [
            "mathfacts.conf:20: Roles: 'parent' cannot be granted as a role; grant guardian_names or guardian_contacts on the students instead",
        ])
        let janitor = Self.district.replacingOccurrences(of: "Roles=student teacher", with: "Roles=janitor")
        #expect(Self.problems(janitor) == [
            "mathfacts.conf:20: Roles: 'janitor' is not a role that can be granted; use student, teacher, administrator, aide",
        ])
    }

    /// That a file in the partner folder is named after its partner is the folder's rule (the
    /// daemon's PartnerDirectory): `stewardctl partners check FILE` reads a draft under any name.
    /// The parser keeps the path it was given, for every message.
    @Test func theParserTakesTheNameFromNameAndKeepsThePathForMessages() {
        let path = "/home/ops/drafts/math-facts-2027.conf"
        #expect(Self.read(Self.district, path: path)?.name == "mathfacts")
        #expect(Self.read(Self.district, path: path)?.path == path)
        #expect(Self.problems(Self.district.replacingOccurrences(of: "Roles=student teacher", with: "Roles=guardian"), path: path) == [
            "\(path):20: Roles: 'guardian' cannot be granted as a role; grant guardian_names or guardian_contacts on the students instead",
        ])
    }

    @Test func aClientCertificateNeedsItsKeyAndTheOtherWayRound() {
        let certificate = Self.district + "\n\n[Transport]\nClientCertificate=client.pem"
        #expect(Self.read(certificate) == nil)
        #expect(Self.problems(certificate) == [
            "mathfacts.conf:24: ClientCertificate: ClientCertificate= and ClientKey= go together; give both or neither",
        ])
        let key = Self.district + "\n\n[Transport]\nClientKey=client.key"
        #expect(Self.problems(key) == [
            "mathfacts.conf:24: ClientKey: ClientCertificate= and ClientKey= go together; give both or neither",
        ])
    }

    @Test func transportPathsResolveAgainstThePartnerFilesFolder() throws {
        let text = Self.district + "\n\n[Transport]\nCAFile=ca.pem\nClientCertificate=/etc/steward/tls/client.pem\nClientKey=tls/client.key\nPins=sha256/AAAA sha256/BBBB"
        let partner = try #require(Self.read(text, path: "/etc/steward/partners.d/mathfacts.conf"))
        #expect(partner.transport == PartnerFile.Transport(
            caFile: "/etc/steward/partners.d/ca.pem", clientCertificate: "/etc/steward/tls/client.pem",
            clientKey: "/etc/steward/partners.d/tls/client.key", pins: ["sha256/AAAA", "sha256/BBBB"], profile: "intermediate"))
        #expect(Self.read(Self.district)?.transport == PartnerFile.Transport())
    }

    @Test func anUnknownTLSProfileIsAnError() {
        let text = Self.district + "\n\n[Transport]\nProfile=legacy"
        #expect(Self.read(text) == nil)
        #expect(Self.problems(text) == [
            "mathfacts.conf:24: Profile: 'legacy' is not a TLS profile; use intermediate (TLS 1.2 and 1.3) or modern (TLS 1.3 only)",
        ])
        #expect(Self.read(Self.district + "\n\n[Transport]\nProfile=modern")?.transport.profile == "modern")
    }

    // MARK: What a person becomes in a view

    /// A partner file with one grant; every granted field is also declared.
    static func partner(type: String = "district", schools: String = "all", grades: String? = nil,
                        roles: String = "student teacher", fields: String, dataElements: String? = nil) -> String {
        """
        [Partner]
        Name=mathfacts
        Type=\(type)
        Connector=oneroster-rest
        Contact=privacy@mathfacts.example

        [Agreement]
        Signed=2026-08-01
        Expires=2027-07-31
        Attests=\(AgreementBaseline.defaultAttests.joined(separator: " "))
        SecurityFramework=NIST-CSF
        BreachNoticeHours=72
        DeletionDays=30
        DataElements=\(dataElements ?? fields)

        [Grant]
        Schools=\(schools)
        \(grades.map { "Grades=\($0)" } ?? "")
        Roles=\(roles)
        Fields=\(fields)
        """
    }

    static func view(_ text: String, adopted: Set<String> = []) throws -> SharedView {
        let partner = try #require(read(text), "\(problems(text))")
        let standing = PartnerStanding.of(partner, unmet: [], library: LibrarySettings())
        return SharedView(policy: SharingPolicy(partner: partner, standing: standing, adoptedSections: adopted)) { "p-" + $0 }
    }

    static let every = FieldCatalogue.all.map(\.name).joined(separator: " ")

    static let student = RosterPerson(
        sourcedId: "stu-1", role: "student", schools: ["sch-001"], grades: ["03"], givenName: "Ana", familyName: "de la Cruz",
        middleName: "", preferredGivenName: "Annie", email: "ana@students.example.org", phone: "", sms: "",
        username: "ana.delacruz1", identifier: "1000001", userIds: "{district:77}, {state:CA9876543}",
        demographics: ["birthDate": "2017-03-04", "sex": "female", "americanIndianOrAlaskaNative": "false", "asian": "true",
                       "blackOrAfricanAmerican": "false", "nativeHawaiianOrOtherPacificIslander": "", "white": "TRUE",
                       "demographicRaceTwoOrMoreRaces": "true", "hispanicOrLatinoEthnicity": "true", "countryOfBirthCode": "US",
                       "stateOfBirthAbbreviation": "CA", "cityOfBirth": "Oakland", "publicSchoolResidenceStatus": "01652"],
        sections: [.init(sourcedId: "cls-3a", school: "sch-001", grades: ["03"]), .init(sourcedId: "cls-art", school: "sch-002", grades: ["03", "04"])],
        guardians: [.init(givenName: "María", familyName: "Cruz", email: "maria@example.com", phone: "714-555-0137", sms: "714-555-0137"),
                    .init(givenName: "Jo", familyName: "Cruz", email: "", phone: "714-555-0137", sms: "209-555-0173")])

    @Test func aDistrictRecordCarriesEveryGrantedFieldUnderItsCatalogueName() throws {
        let record = try #require(try Self.view(Self.partner(fields: Self.every.replacingOccurrences(of: "sis_id ", with: ""))).record(for: Self.student))
        #expect(record.id == "p-stu-1")
        #expect(record.kind == .student)
        #expect(record.fields == [
            "given_name": .text("Ana"), "family_name": .text("de la Cruz"), "family_initial": .text("D"),
            "preferred_name": .text("Annie"), "grade": .list(["03"]), "school": .list(["sch-001"]),
            "sections": .list(["p-cls-3a", "p-cls-art"]), "role": .text("student"), "email": .text("ana@students.example.org"),
            "username": .text("ana.delacruz1"), "state_id": .text("CA9876543"), "student_number": .text("1000001"),
            "birth_date": .text("2017-03-04"), "sex": .text("female"), "race": .list(["asian", "white", "demographicRaceTwoOrMoreRaces"]),
            "hispanic_latino": .text("true"), "country_of_birth": .text("US"), "state_of_birth": .text("CA"),
            "city_of_birth": .text("Oakland"), "public_school_residence_status": .text("01652"),
            "guardian_names": .list(["María Cruz", "Jo Cruz"]),
            "guardian_contacts": .list(["maria@example.com", "714-555-0137", "209-555-0173"]),
        ])
    }

    @Test func sisIdIsTheOnlyWayADistrictPartnerSeesRealIds() throws {
        let granted = try #require(try Self.view(Self.partner(fields: "given_name sis_id sections")).record(for: Self.student))
        #expect(granted.id == "stu-1")
        #expect(granted.fields["sis_id"] == .text("stu-1"))
        #expect(granted.fields["sections"] == .list(["cls-3a", "cls-art"]))
        let library = try #require(try Self.view(Self.partner(type: "library", fields: "given_name sis_id sections"),
                                                 adopted: ["cls-3a"]).record(for: Self.student))
        #expect(library.id == "p-stu-1")
        #expect(library.fields["sis_id"] == nil)
        #expect(library.fields["sections"] == .list(["p-cls-3a"]))
    }

    @Test func familyInitialIsTheFirstLetterInCapitals() throws {
        let view = try Self.view(Self.partner(fields: "family_initial"))
        var person = Self.student
        #expect(view.record(for: person)?.fields == ["family_initial": .text("D")])
        person.familyName = "Ødegaard"
        #expect(view.record(for: person)?.fields == ["family_initial": .text("Ø")])
        person.familyName = ""
        #expect(view.record(for: person)?.fields == [:])
    }

    @Test func raceListsTheColumnsMarkedTrueAndIsAbsentWhenNoneAre() throws {
        let view = try Self.view(Self.partner(fields: "race"))
        #expect(view.record(for: Self.student)?.fields == ["race": .list(["asian", "white", "demographicRaceTwoOrMoreRaces"])])
        var declined = Self.student
        declined.demographics = ["asian": "false", "white": ""]
        #expect(view.record(for: declined)?.fields == [:])
        declined.demographics = nil
        #expect(view.record(for: declined)?.fields == [:])
    }

    @Test func guardianFieldsAreNamesAndDistinctContacts() throws {
        #expect(try Self.view(Self.partner(fields: "guardian_names")).record(for: Self.student)?.fields
                == ["guardian_names": .list(["María Cruz", "Jo Cruz"])])
        #expect(try Self.view(Self.partner(fields: "guardian_contacts")).record(for: Self.student)?.fields
                == ["guardian_contacts": .list(["maria@example.com", "714-555-0137", "209-555-0173"])])
        var orphan = Self.student
        orphan.guardians = []
        #expect(try Self.view(Self.partner(fields: "guardian_names guardian_contacts")).record(for: orphan)?.fields == [:])
    }

    @Test func stateIdComesFromUserIds() throws {
        let view = try Self.view(Self.partner(fields: "state_id"))
        var person = Self.student
        for (userIds, expected) in [("{state:CA9876543}", "CA9876543"), ("{district:1},{stateId:TX42}", "TX42"),
                                    ("{ SSID : NY-7 }", "NY-7"), ("{district:1}", nil), ("", nil)] as [(String, String?)] {
            person.userIds = userIds
            #expect(view.record(for: person)?.fields["state_id"] == expected.map(SharedValue.text), "\(userIds)")
        }
    }

    @Test func ungrantedOrUndeclaredFieldsNeverAppear() throws {
        let view = try Self.view(Self.partner(fields: "given_name email birth_date", dataElements: "given_name birth_date"))
        #expect(view.record(for: Self.student)?.fields == ["given_name": .text("Ana"), "birth_date": .text("2017-03-04")])
    }

    @Test func aLibraryRecordNeverExceedsTheCapWhateverItsFileSays() throws {
        let view = try Self.view(Self.partner(type: "library", fields: Self.every), adopted: ["cls-3a"])
        let record = try #require(view.record(for: Self.student))
        #expect(record.fields == ["given_name": .text("Ana"), "family_initial": .text("D"), "grade": .list(["03"]),
                                  "sections": .list(["p-cls-3a"])])
    }

    @Test func aLibraryViewHoldsOnlyMembersOfAdoptedSections() throws {
        let view = try Self.view(Self.partner(type: "library", roles: "student teacher administrator", fields: "given_name"),
                                 adopted: ["cls-4b"])
        #expect(view.policy.roles == ["student", "teacher"])
        #expect(view.record(for: Self.student) == nil)
        let teacher = RosterPerson(sourcedId: "tch-1", role: "teacher", schools: ["sch-001"],
                                   sections: [.init(sourcedId: "cls-4b", school: "sch-001", grades: ["04"])])
        #expect(view.record(for: teacher)?.id == "p-tch-1")
        #expect(try Self.view(Self.partner(type: "library", fields: "given_name")).record(for: teacher) == nil,
                "no adoptions, no one")
    }

    @Test func gradeThreeMatchesZeroThree() throws {
        for (grant, stored) in [("3", "03"), ("03", "3"), ("3", "3"), ("KG", "KG")] {
            var person = Self.student
            person.grades = [stored]
            #expect(try Self.view(Self.partner(grades: grant, fields: "given_name")).record(for: person) != nil,
                    "Grades=\(grant) holds a student in grade \(stored)")
        }
        #expect(try Self.view(Self.partner(grades: "4 5", fields: "given_name")).record(for: Self.student) == nil)
        #expect(try Self.view(Self.partner(grades: "13", fields: "given_name")).record(for: Self.student) == nil,
                "13 is not 03")
    }

    @Test func aGradeLimitedGrantHoldsOnlyTeachersOfThoseGrades() throws {
        let view = try Self.view(Self.partner(grades: "3", fields: "given_name sections"))
        let third = RosterPerson(sourcedId: "tch-3", role: "teacher", schools: ["sch-001"],
                                 sections: [.init(sourcedId: "cls-3a", school: "sch-001", grades: ["03"])])
        let fifth = RosterPerson(sourcedId: "tch-5", role: "teacher", schools: ["sch-001"],
                                 sections: [.init(sourcedId: "cls-5a", school: "sch-001", grades: ["05"])])
        #expect(view.record(for: third)?.fields == ["sections": .list(["p-cls-3a"])])
        #expect(view.record(for: fifth) == nil)
    }

    @Test func schoolsLimitPersonsAndTheSchoolsAndSectionsTheyShow() throws {
        let view = try Self.view(Self.partner(schools: "sch-001", fields: "school sections"))
        var person = Self.student
        person.schools = ["sch-001", "sch-002"]
        #expect(view.record(for: person)?.fields == ["school": .list(["sch-001"]), "sections": .list(["p-cls-3a"])])
        person.schools = ["sch-002"]
        #expect(view.record(for: person) == nil)
    }

    @Test func guardiansAndUngrantedRolesAreNeverPersonsInAView() throws {
        let view = try Self.view(Self.partner(roles: "student", fields: "given_name"))
        #expect(view.record(for: RosterPerson(sourcedId: "gdn-1", role: "guardian", schools: ["sch-001"])) == nil)
        #expect(view.record(for: RosterPerson(sourcedId: "tch-1", role: "teacher", schools: ["sch-001"])) == nil)
        #expect(view.record(for: RosterPerson(sourcedId: "adm-1", role: "administrator", schools: ["sch-001"])) == nil)
    }

    @Test func anAdoptionCannotWidenALibraryGrantBeyondItsSchoolsAndGrades() throws {
        let elsewhere = RosterSection(sourcedId: "cls-9", title: "Grade 5 Homeroom", school: "sch-002", grades: ["05"],
                                      teachers: [.init(sourcedId: "tch-9", givenName: "Tunde", familyName: "Ben-David")])
        let otherSchool = try Self.view(Self.partner(type: "library", schools: "sch-001", fields: "given_name sections"), adopted: ["cls-9"])
        #expect(otherSchool.record(for: elsewhere) == nil, "sch-002 is not granted")
        let otherGrade = try Self.view(Self.partner(type: "library", grades: "3", fields: "given_name sections"), adopted: ["cls-9"])
        #expect(otherGrade.record(for: elsewhere) == nil, "grade 5 is not granted")
        var student = Self.student
        student.sections = [.init(sourcedId: "cls-9", school: "sch-002", grades: ["05"])]
        student.schools = ["sch-002"]
        student.grades = ["05"]
        #expect(otherSchool.record(for: student) == nil)
        #expect(otherGrade.record(for: student) == nil)
    }

    @Test func aLibrarySectionShowsItsTitleAndTeachersButNoDistrictDetail() throws {
        let section = RosterSection(sourcedId: "cls-3a", title: "Grade 3 Homeroom A", school: "sch-001", grades: ["03"],
                                    teachers: [.init(sourcedId: "tch-1", givenName: "Tunde", familyName: "Ben-David")])
        let library = try Self.view(Self.partner(type: "library", fields: "given_name sections"), adopted: ["cls-3a"])
        let record = try #require(library.record(for: section))
        #expect(record.id == "p-cls-3a")
        #expect(Set(record.fields.keys).isSubset(of: ["title", "teacher_names"]))
        #expect(try Self.view(Self.partner(type: "library", fields: "given_name sections"), adopted: ["cls-9"]).record(for: section) == nil)
        let district = try Self.view(Self.partner(fields: "given_name sections"))
        #expect(district.record(for: section)?.fields == ["title": .text("Grade 3 Homeroom A"), "school": .text("sch-001"),
                                                          "grades": .list(["03"]), "teachers": .list(["p-tch-1"])])
        #expect(try Self.view(Self.partner(fields: "given_name")).record(for: section) == nil, "sections must be granted")
    }
}

/// The records of the synthetic district and how each is written as a row. A row is written by
/// walking its file's columns as `OneRosterSchema` lists them, so a row always matches its header,
/// in 1.1 and 1.2 alike.

/// Every column name of the binding that the generator fills. A schema column missing here is
/// written empty (and the tests fail on it).
enum RosterColumn: String, CaseIterable {
    case sourcedId, status, dateLastModified
    case name, type, identifier, parentSourcedId
    case title, startDate, endDate, schoolYear
    case schoolYearSourcedId, courseCode, grades, orgSourcedId, subjects, subjectCodes
    case courseSourcedId, classCode, classType, location, schoolSourcedId, termSourcedIds, periods
    case enabledUser, orgSourcedIds, role, username, userIds, givenName, familyName, middleName, email, sms, phone
    case agentSourcedIds, password, userMasterIdentifier, preferredGivenName, preferredMiddleName, preferredFamilyName
    case primaryOrgSourcedId, pronouns
    case userSourcedId, roleType, beginDate, userProfileSourcedId
    case profileType, vendorId, applicationId, description, credentialType
    case birthDate, sex, americanIndianOrAlaskaNative, asian, blackOrAfricanAmerican, nativeHawaiianOrOtherPacificIslander
    case white, demographicRaceTwoOrMoreRaces, hispanicOrLatinoEthnicity, countryOfBirthCode, stateOfBirthAbbreviation
    case cityOfBirth, publicSchoolResidenceStatus
    case classSourcedId, primary
}

/// A file's columns, in the schema's order.
struct FileLayout: Sendable {
    let entity: RosterEntity
    let names: [String]
    let columns: [RosterColumn?]

    init(_ entity: RosterEntity, _ version: OneRosterVersion) {
        self.entity = entity
        names = OneRosterSchema.columns(entity, version).map(\.name)
        columns = names.map { RosterColumn(rawValue: $0) }
    }

    /// 1-based field number of `column`; 0 when the file has no such column.
    func number(of column: RosterColumn) -> Int {
        (columns.firstIndex(of: column) ?? -1) + 1
    }
}

/// A user, by kind and number.
enum UserRef: Equatable, Sendable {
    case student(Int)
    case teacher(Int)
    case administrator(Int)
    case guardian(student: Int, index: Int)
}

/// The sourcedId of any record of the district, written without building a string.
enum SyntheticID: Equatable, Sendable {
    case district
    case school(Int)
    case schoolYear, fallTerm, springTerm
    case course(school: Int, index: Int)
    case section(school: Int, index: Int)
    case user(UserRef)
    case role(UserRef)
    case profile(UserRef)
    case studentEnrollment(student: Int, index: Int)
    case teacherEnrollment(school: Int, index: Int)
    /// A section no school has: the dangling-reference defect.
    case absentSection

    func append(to writer: CSVWriter) {
        switch self {
        case .district:
            writer.append("dist-1")
        case .school(let school):
            writer.append("sch-")
            writer.append(school, width: 4)
        case .schoolYear:
            writer.append("as-2027")
        case .fallTerm:
            writer.append("as-2027-s1")
        case .springTerm:
            writer.append("as-2027-s2")
        case .course(let school, let index):
            writer.append("crs-")
            writer.append(school, width: 4)
            writer.append("-")
            writer.append(index, width: 3)
        case .section(let school, let index):
            writer.append("cls-")
            writer.append(school, width: 4)
            writer.append("-")
            writer.append(index, width: 4)
        case .user(let user):
            Self.append(user, to: writer)
        case .role(let user):
            writer.append("rol-")
            Self.append(user, to: writer)
        case .profile(let user):
            writer.append("prf-")
            Self.append(user, to: writer)
        case .studentEnrollment(let student, let index):
            writer.append("enr-s")
            writer.append(student, width: 7)
            writer.append("-")
            writer.append(index)
        case .teacherEnrollment(let school, let index):
            writer.append("enr-t")
            writer.append(school, width: 4)
            writer.append("-")
            writer.append(index, width: 4)
        case .absentSection:
            writer.append("cls-0000-0000")
        }
    }

    private static func append(_ user: UserRef, to writer: CSVWriter) {
        switch user {
        case .student(let number):
            writer.append("stu-")
            writer.append(number, width: 7)
        case .teacher(let number):
            writer.append("tch-")
            writer.append(number, width: 6)
        case .administrator(let number):
            writer.append("adm-")
            writer.append(number, width: 5)
        case .guardian(let student, let index):
            writer.append("gdn-")
            writer.append(student, width: 7)
            writer.append("-")
            writer.append(index)
        }
    }
}

/// `status` and `dateLastModified` of a row.
enum RecordState: Equatable {
    /// Both blank, as a bulk file should have them.
    case bulk
    /// A delta's added or changed record.
    case active
    /// A delta's removed record.
    case toBeDeleted
    /// Filled in a bulk file, as real exports do: the bulk-status defect.
    case filledInBulk
}

struct OrgRecord {
    var id: SyntheticID
    var state = RecordState.bulk
    var name: String
    var type: StaticString
    var identifier: String
    var parent: SyntheticID?
}

struct SessionRecord {
    var id: SyntheticID
    var state = RecordState.bulk
    var title: String
    var type: StaticString
    var startDate: String
    var endDate: String
    var parent: SyntheticID?
}

struct CourseRecord {
    var id: SyntheticID
    var state = RecordState.bulk
    var definition: CourseDefinition
    var grade: Int
    var school: Int
}

struct SectionRecord {
    var id: SyntheticID
    var state = RecordState.bulk
    var title: String
    var grade: Int
    var course: SyntheticID
    var classCode: String
    var classType: String
    var location: String
    var school: Int
    var term: CourseTerm
    var subject: String
    var period: Int
}

/// A user row (users.csv) and, in 1.2, the user's primary role (roles.csv).
struct UserRecord {
    enum Login {
        /// `given.family123@students.example.org`
        case student
        /// `gfamily100042@example.org`
        case staff
        /// The login is the email address: `given.family12@example.com`.
        case guardian
    }

    enum Agents {
        case none
        case guardians(student: Int, count: Int)
        case student(Int)
    }

    var ref: UserRef
    var state = RecordState.bulk
    var enabledUser: StaticString = "true"
    var org: SyntheticID
    var role11: StaticString
    var role12: StaticString
    var login: Login
    var loginNumber: Int
    var givenLogin: [UInt8]
    var familyLogin: [UInt8]
    var givenName: [UInt8]
    var familyName: [UInt8]
    var middleName: [UInt8] = []
    var identifier: Int?
    var phone: Int?
    var takesTextMessages = false
    var agents = Agents.none
    var grade: Int?
    var masterIdentifier: Int?
    var preferredGivenName: [UInt8] = []
    var pronouns: StaticString?
    var hasProfile = false
}

struct DemographicRecord {
    var state = RecordState.bulk
    var person: StudentPerson
    /// Replaces the birth date as written: the ambiguous-date defect.
    var birthDateText: String?
}

struct EnrollmentRecord {
    var id: SyntheticID
    var state = RecordState.bulk
    var section: SyntheticID
    var school: Int
    var user: UserRef
    var isTeacher: Bool
    var beginDate: CivilDate?
}

/// Writes records as rows of one file.
struct RowWriter {
    let writer: CSVWriter
    let layout: FileLayout
    /// A column after the schema's columns, with one value for every row (the vendor-column defect).
    var extraColumn: (name: String, value: String)?

    init(_ writer: CSVWriter, _ layout: FileLayout) {
        self.writer = writer
        self.layout = layout
    }

    func header(renaming renamed: [String: String] = [:]) throws {
        for name in layout.names { writer.field(renamed[name] ?? name) }
        if let extraColumn { writer.field(extraColumn.name) }
        try writer.endRecord()
    }

    private func endRow() throws {
        if let extraColumn { writer.field(extraColumn.value) }
        try writer.endRecord()
    }

    private func field(_ id: SyntheticID) {
        writer.beginField()
        id.append(to: writer)
        writer.endField()
    }

    private func field(_ id: SyntheticID?) {
        if let id { field(id) } else { writer.emptyField() }
    }

    private func field(_ text: StaticString?) {
        if let text { writer.field(text) } else { writer.emptyField() }
    }

    private func field(_ number: Int?) {
        if let number { writer.field(number) } else { writer.emptyField() }
    }

    private func field(_ flag: Bool) {
        writer.field(flag ? "true" as StaticString : "false")
    }

    private func field(_ date: CivilDate?) {
        writer.beginField()
        date?.append(to: writer)
        writer.endField()
    }

    private func state(_ column: RosterColumn, _ state: RecordState) -> Bool {
        switch (column, state) {
        case (.status, .bulk), (.dateLastModified, .bulk): writer.emptyField()
        case (.status, .active), (.status, .filledInBulk): writer.field("active" as StaticString)
        case (.status, .toBeDeleted): writer.field("tobedeleted" as StaticString)
        case (.dateLastModified, .filledInBulk): writer.field(SchoolCalendar.bulkModified)
        case (.dateLastModified, _): writer.field(SchoolCalendar.deltaModified)
        default: return false
        }
        return true
    }

    func write(_ org: OrgRecord) throws {
        for column in layout.columns {
            guard let column, !state(column, org.state) else { continue }
            switch column {
            case .sourcedId: field(org.id)
            case .name: writer.field(org.name)
            case .type: writer.field(org.type)
            case .identifier: writer.field(org.identifier)
            case .parentSourcedId: field(org.parent)
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    func write(_ session: SessionRecord) throws {
        for column in layout.columns {
            guard let column, !state(column, session.state) else { continue }
            switch column {
            case .sourcedId: field(session.id)
            case .title: writer.field(session.title)
            case .type: writer.field(session.type)
            case .startDate: writer.field(session.startDate)
            case .endDate: writer.field(session.endDate)
            case .parentSourcedId: field(session.parent)
            case .schoolYear: writer.field(SchoolCalendar.schoolYear)
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    func write(_ course: CourseRecord) throws {
        for column in layout.columns {
            guard let column, !state(column, course.state) else { continue }
            switch column {
            case .sourcedId: field(course.id)
            case .schoolYearSourcedId: field(SyntheticID.schoolYear)
            case .title: writer.field(course.definition.title)
            case .courseCode: writer.field(course.definition.code)
            case .grades: writer.field(gradeText(course.grade))
            case .orgSourcedId: field(SyntheticID.school(course.school))
            case .subjects: writer.field(course.definition.subject)
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    func write(_ section: SectionRecord) throws {
        for column in layout.columns {
            guard let column, !state(column, section.state) else { continue }
            switch column {
            case .sourcedId: field(section.id)
            case .title: writer.field(section.title)
            case .grades: writer.field(gradeText(section.grade))
            case .courseSourcedId: field(section.course)
            case .classCode: writer.field(section.classCode)
            case .classType: writer.field(section.classType)
            case .location: writer.field(section.location)
            case .schoolSourcedId: field(SyntheticID.school(section.school))
            case .termSourcedIds:
                writer.beginField()
                switch section.term {
                case .year:
                    SyntheticID.fallTerm.append(to: writer)
                    writer.append(",")
                    SyntheticID.springTerm.append(to: writer)
                case .fall: SyntheticID.fallTerm.append(to: writer)
                case .spring: SyntheticID.springTerm.append(to: writer)
                }
                writer.endField()
            case .subjects: writer.field(section.subject)
            case .periods: writer.field(section.period)
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    func write(_ user: UserRecord) throws {
        for column in layout.columns {
            guard let column, !state(column, user.state) else { continue }
            switch column {
            case .sourcedId: field(SyntheticID.user(user.ref))
            case .enabledUser: writer.field(user.enabledUser)
            case .orgSourcedIds, .primaryOrgSourcedId: field(user.org)
            case .role: writer.field(user.role11)
            case .username:
                writer.beginField()
                appendLogin(user)
                writer.endField()
            case .givenName: writer.field(bytes: user.givenName)
            case .familyName: writer.field(bytes: user.familyName)
            case .middleName: writer.field(bytes: user.middleName)
            case .identifier: field(user.identifier)
            case .email:
                writer.beginField()
                appendLogin(user)
                switch user.login {
                case .student: writer.append("@students.example.org")
                case .staff: writer.append("@example.org")
                case .guardian: break
                }
                writer.endField()
            case .sms: user.takesTextMessages ? appendPhone(user.phone) : writer.emptyField()
            case .phone: appendPhone(user.phone)
            case .agentSourcedIds: appendAgents(user.agents)
            case .grades: writer.field(user.grade.map(gradeText))
            case .userMasterIdentifier: field(user.masterIdentifier)
            case .preferredGivenName: writer.field(bytes: user.preferredGivenName)
            case .pronouns: field(user.pronouns)
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    /// The user's primary role at their school or the district (roles.csv, 1.2).
    func writeRole(_ user: UserRecord) throws {
        for column in layout.columns {
            guard let column, !state(column, user.state) else { continue }
            switch column {
            case .sourcedId: field(SyntheticID.role(user.ref))
            case .userSourcedId: field(SyntheticID.user(user.ref))
            case .roleType: writer.field("primary" as StaticString)
            case .role: writer.field(user.role12)
            case .orgSourcedId: field(user.org)
            case .userProfileSourcedId: field(user.hasProfile ? SyntheticID.profile(user.ref) : nil)
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    /// An administrator's account in the district's learning platform (userProfiles.csv, 1.2).
    func writeProfile(_ user: UserRecord) throws {
        for column in layout.columns {
            guard let column, !state(column, user.state) else { continue }
            switch column {
            case .sourcedId: field(SyntheticID.profile(user.ref))
            case .userSourcedId: field(SyntheticID.user(user.ref))
            case .profileType: writer.field("lms" as StaticString)
            case .vendorId: writer.field("example-lms" as StaticString)
            case .applicationId: writer.field("lms-district" as StaticString)
            case .description: writer.field("Learning platform administrator account" as StaticString)
            case .credentialType: writer.field("password" as StaticString)
            case .username:
                writer.beginField()
                appendLogin(user)
                writer.endField()
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    func write(_ record: DemographicRecord) throws {
        let person = record.person
        for column in layout.columns {
            guard let column, !state(column, record.state) else { continue }
            switch column {
            case .sourcedId: field(SyntheticID.user(.student(person.number)))
            case .birthDate:
                if let text = record.birthDateText { writer.field(text) } else { field(person.birthDate) }
            case .sex: writer.field(person.sex.text)
            case .americanIndianOrAlaskaNative: field(person.race.contains(.americanIndianOrAlaskaNative))
            case .asian: field(person.race.contains(.asian))
            case .blackOrAfricanAmerican: field(person.race.contains(.blackOrAfricanAmerican))
            case .nativeHawaiianOrOtherPacificIslander: field(person.race.contains(.nativeHawaiianOrOtherPacificIslander))
            case .white: field(person.race.contains(.white))
            case .demographicRaceTwoOrMoreRaces: field(person.race.contains(.twoOrMore))
            case .hispanicOrLatinoEthnicity: field(person.isHispanicOrLatino)
            case .countryOfBirthCode: writer.field(person.birthplace.country)
            case .stateOfBirthAbbreviation: writer.field(person.birthplace.state)
            case .cityOfBirth: writer.field(person.birthplace.city)
            case .publicSchoolResidenceStatus: writer.field(person.residenceStatus)
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    func write(_ enrollment: EnrollmentRecord) throws {
        for column in layout.columns {
            guard let column, !state(column, enrollment.state) else { continue }
            switch column {
            case .sourcedId: field(enrollment.id)
            case .classSourcedId: field(enrollment.section)
            case .schoolSourcedId: field(SyntheticID.school(enrollment.school))
            case .userSourcedId: field(SyntheticID.user(enrollment.user))
            case .role: writer.field(enrollment.isTeacher ? "teacher" as StaticString : "student")
            case .primary: field(enrollment.isTeacher)
            case .beginDate: field(enrollment.beginDate)
            default: writer.emptyField()
            }
        }
        try endRow()
    }

    private func appendLogin(_ user: UserRecord) {
        switch user.login {
        case .student, .guardian:
            writer.append(user.givenLogin)
            writer.append(".")
            writer.append(user.familyLogin)
            writer.append(user.loginNumber)
            if case .guardian = user.login { writer.append("@example.com") }
        case .staff:
            writer.append(Array(user.givenLogin.prefix(1)))
            writer.append(user.familyLogin)
            writer.append(user.loginNumber)
        }
    }

    private func appendPhone(_ phone: Int?) {
        writer.beginField()
        if let phone {
            writer.append(phone / 10_000_000)
            writer.append("-555-")
            writer.append(phone % 10_000, width: 4)
        }
        writer.endField()
    }

    private func appendAgents(_ agents: UserRecord.Agents) {
        writer.beginField()
        switch agents {
        case .none:
            break
        case .guardians(let student, let count):
            for index in 1...count {
                if index > 1 { writer.append(",") }
                SyntheticID.user(.guardian(student: student, index: index)).append(to: writer)
            }
        case .student(let number):
            SyntheticID.user(.student(number)).append(to: writer)
        }
        writer.endField()
    }
}

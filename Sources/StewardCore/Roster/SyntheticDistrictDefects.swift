/// A fault that real OneRoster exports have, which `steward-gen --defects` puts into a synthetic
/// drop at one known place, so that an importer's findings can be checked against it.
public enum RosterDefect: String, CaseIterable, Sendable {
    case bulkStatus = "bulk-status"
    case uppercaseBoolean = "uppercase-boolean"
    case misspelledHeader = "misspelled-header"
    case looseDate = "loose-date"
    case ambiguousDate = "ambiguous-date"
    case vendorColumn = "vendor-column"
    case byteOrderMark = "bom"
    case crlf = "crlf"
    case duplicateId = "duplicate-id"
    case danglingReference = "dangling-reference"
    case missingValue = "missing-value"
    case badEnumeration = "bad-enum"
    case invalidUTF8 = "invalid-utf8"
    case quotedNewline = "quoted-newline"

    /// What an importer must report for it: nothing for faults that are valid CSV.
    public var expectedFinding: (severity: Finding.Severity, code: Finding.Code)? {
        switch self {
        case .bulkStatus: return (.warning, .statusInBulk)
        case .uppercaseBoolean: return (.warning, .lenientBoolean)
        case .misspelledHeader: return (.error, .misspelledColumn)
        case .looseDate: return (.warning, .lenientDate)
        case .ambiguousDate: return (.error, .ambiguousDate)
        case .vendorColumn: return (.warning, .extraColumn)
        case .byteOrderMark: return (.warning, .byteOrderMark)
        case .crlf, .quotedNewline: return nil
        case .duplicateId: return (.error, .duplicateId)
        case .danglingReference: return (.error, .unresolvedReference)
        case .missingValue: return (.error, .missingValue)
        case .badEnumeration: return (.error, .invalidEnumeration)
        case .invalidUTF8: return (.error, .invalidUTF8)
        }
    }

    /// The file it goes into.
    public var entity: RosterEntity {
        switch self {
        case .bulkStatus, .crlf: return .orgs
        case .looseDate: return .academicSessions
        case .misspelledHeader, .duplicateId: return .courses
        case .byteOrderMark, .badEnumeration, .quotedNewline: return .classes
        case .uppercaseBoolean, .vendorColumn, .missingValue, .invalidUTF8: return .users
        case .ambiguousDate: return .demographics
        case .danglingReference: return .enrollments
        }
    }

    /// One line for `--help`.
    public var summary: String {
        switch self {
        case .bulkStatus: return "status and dateLastModified filled in a bulk orgs.csv row"
        case .uppercaseBoolean: return "enabledUser written TRUE in a teacher's users.csv row"
        case .misspelledHeader: return "dataLastModified for dateLastModified in courses.csv's header"
        case .looseDate: return "the school year's startDate written 2026-8-15"
        case .ambiguousDate: return "a student's birthDate written M/DD/YYYY, such as 1/05/2013"
        case .vendorColumn: return "vendorStudentFlag appended to users.csv's header and every row"
        case .byteOrderMark: return "a UTF-8 byte-order mark at the start of classes.csv"
        case .crlf: return "CRLF line ends in orgs.csv (valid CSV: no finding)"
        case .duplicateId: return "a courses.csv row written twice (same sourcedId)"
        case .danglingReference: return "an enrollment whose classSourcedId names no class"
        case .missingValue: return "a student's familyName left empty"
        case .badEnumeration: return "classType lecture in a classes.csv row"
        case .invalidUTF8: return "a guardian's givenName in Latin-1 (Jos\\xE9), not UTF-8"
        case .quotedNewline: return "a class location with a comma, doubled quotes and a line break (valid CSV)"
        }
    }
}

/// Where a defect was put: `defect NAME FILE:LINE:COLUMN SEVERITY CODE`, the line an importer's
/// finding should match. LINE is the physical line the record starts on (the header is line 1),
/// COLUMN the 1-based field; 0 for the whole file or record. A defect that is valid CSV reads
/// `none none`.
public struct InjectedDefect: Sendable, Equatable, CustomStringConvertible {
    public let defect: RosterDefect
    public let file: String
    public let line: Int
    public let column: Int

    public init(_ defect: RosterDefect, file: String, line: Int, column: Int) {
        self.defect = defect
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        let finding = defect.expectedFinding.map { "\($0.severity.rawValue) \($0.code.rawValue)" } ?? "none none"
        return "defect \(defect.rawValue) \(file):\(line):\(column) \(finding)"
    }
}

/// The records that carry a requested defect, picked from the seed. Numbers are 1-based; 0
/// means the defect was not asked for, so a row's check is one comparison.
struct DefectTargets: Sendable {
    var requested: Set<RosterDefect> = []
    var filledStatusSchool = 0
    var uppercaseTeacher = 0
    var missingFamilyStudent = 0
    var latin1GuardianStudent = 0
    var ambiguousBirthStudent = 0
    var danglingStudent = 0
    var duplicateCourse = (school: 0, index: 0)
    var badEnumerationSection = (school: 0, index: 0)
    var quotedNewlineSection = (school: 0, index: 0)

    init() {}

    init(_ defects: [RosterDefect], seed: UInt64, schools: [SchoolInfo], students: Int, teachers: Int) {
        requested = Set(defects)
        var random = SyntheticRandom(seed: seed, .defects)
        func pick(_ count: Int, _ defect: RosterDefect) -> Int {
            let number = 1 + random.below(count)
            return requested.contains(defect) ? number : 0
        }
        func pickSchool() -> SchoolInfo { schools[random.below(schools.count)] }
        // Every pick is drawn whether asked for or not, so adding a defect moves no other.
        filledStatusSchool = pick(schools.count, .bulkStatus)
        uppercaseTeacher = pick(teachers, .uppercaseBoolean)
        missingFamilyStudent = pick(students, .missingValue)
        latin1GuardianStudent = pick(students, .invalidUTF8)
        ambiguousBirthStudent = pick(students, .ambiguousDate)
        danglingStudent = pick(students, .danglingReference)
        let courseSchool = pickSchool()
        let course = pick(courseSchool.courseCount, .duplicateId)
        duplicateCourse = (course == 0 ? 0 : courseSchool.number, course)
        let enumSchool = pickSchool()
        let enumSection = pick(enumSchool.classCount, .badEnumeration)
        badEnumerationSection = (enumSection == 0 ? 0 : enumSchool.number, enumSection)
        let newlineSchool = pickSchool()
        var newlineSection = pick(newlineSchool.classCount, .quotedNewline)
        if newlineSchool.number == enumSchool.number, newlineSection == enumSection, newlineSchool.classCount > 1 {
            newlineSection = newlineSection % newlineSchool.classCount + 1
        }
        quotedNewlineSection = (newlineSection == 0 ? 0 : newlineSchool.number, newlineSection)
    }

    func contains(_ defect: RosterDefect) -> Bool { requested.contains(defect) }
}

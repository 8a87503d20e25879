/// The OneRoster CSV rostering binding, 1.1 and 1.2: which files a drop holds, which columns each
/// file has (all of them, in order), which must be non-empty, and what each value must look like.
/// It is the single description that the importer, the validator and `steward-gen` share.
public enum OneRosterVersion: String, Sendable, CaseIterable, Codable {
    case v1_1 = "1.1"
    case v1_2 = "1.2"
}

/// One rostering file of a drop.
public enum RosterEntity: String, Sendable, CaseIterable, Codable, Comparable {
    case orgs, academicSessions, courses, classes, users, roles, userProfiles, demographics, enrollments

    /// `orgs.csv`, `academicSessions.csv`, …
    public var fileName: String { rawValue + ".csv" }

    /// Whether the file exists in `version` of the binding.
    public func exists(in version: OneRosterVersion) -> Bool {
        switch self {
        case .roles, .userProfiles: return version == .v1_2
        default: return true
        }
    }

    /// The order to read files in, so that every reference points at a file already read.
    public static let dependencyOrder: [RosterEntity] = [
        .orgs, .academicSessions, .courses, .classes, .users, .userProfiles, .roles, .demographics, .enrollments,
    ]

    public static func < (lhs: RosterEntity, rhs: RosterEntity) -> Bool {
        dependencyOrder.firstIndex(of: lhs)! < dependencyOrder.firstIndex(of: rhs)!
    }
}

/// What a column's values must look like.
public enum ColumnKind: Sendable, Equatable {
    /// Any text (valid UTF-8).
    case text
    /// `YYYY-MM-DD`.
    case date
    /// An ISO 8601 date-time (`dateLastModified`).
    case dateTime
    /// `true` or `false`.
    case boolean
    /// A four-digit year (`schoolYear`).
    case year
    /// One of a closed list of words.
    case enumeration([String])
    /// The sourcedId of a record of another (or the same) file.
    case reference(RosterEntity)
    /// A comma-separated list of sourcedIds of another file.
    case referenceList(RosterEntity)
    /// A comma-separated list of free values (`grades`, `subjects`, `periods`).
    case list
    /// A secret that Steward never stores (`password`): read past, with a warning when filled.
    case secret
}

extension ColumnKind {
    /// The file a reference or reference-list column points into.
    public var referencedEntity: RosterEntity? {
        switch self {
        case .reference(let target), .referenceList(let target): return target
        default: return nil
        }
    }
}

/// One column of a file.
public struct ColumnSpec: Sendable, Equatable {
    public let name: String
    public let kind: ColumnKind
    /// `*` in the binding: the value must be non-empty.
    public let isRequired: Bool

    public init(_ name: String, _ kind: ColumnKind = .text, required: Bool = false) {
        self.name = name
        self.kind = kind
        self.isRequired = required
    }
}

public enum OneRosterSchema {
    public static let statuses = ["active", "tobedeleted"]
    public static let orgTypes = ["department", "district", "local", "national", "school", "state"]
    public static let sessionTypes = ["gradingPeriod", "semester", "schoolYear", "term"]
    public static let classTypes = ["homeroom", "scheduled"]
    public static let userRoles11 = ["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"]
    public static let roleTypes12 = ["aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor",
                                     "relative", "siteAdministrator", "student", "systemAdministrator", "teacher"]
    public static let enrollmentRoles = ["administrator", "proctor", "student", "teacher"]
    public static let sexes = ["male", "female", "unspecified", "other"]
    public static let roleKinds = ["primary", "secondary"]

    /// The columns every file starts with.
    static let common = [
        ColumnSpec("sourcedId", required: true),
        ColumnSpec("status", .enumeration(statuses)),
        ColumnSpec("dateLastModified", .dateTime),
    ]

    /// Every column of `entity`'s file in `version`, in the binding's order.
    public static func columns(_ entity: RosterEntity, _ version: OneRosterVersion) -> [ColumnSpec] {
        switch entity {
        case .orgs:
            return common + [
                ColumnSpec("name", required: true), ColumnSpec("type", .enumeration(orgTypes), required: true),
                ColumnSpec("identifier"), ColumnSpec("parentSourcedId", .reference(.orgs)),
            ]
        case .academicSessions:
            return common + [
                ColumnSpec("title", required: true), ColumnSpec("type", .enumeration(sessionTypes), required: true),
                ColumnSpec("startDate", .date, required: true), ColumnSpec("endDate", .date, required: true),
                ColumnSpec("parentSourcedId", .reference(.academicSessions)), ColumnSpec("schoolYear", .year, required: true),
            ]
        case .courses:
            return common + [
                ColumnSpec("schoolYearSourcedId", .reference(.academicSessions)), ColumnSpec("title", required: true),
                ColumnSpec("courseCode"), ColumnSpec("grades", .list), ColumnSpec("orgSourcedId", .reference(.orgs), required: true),
                ColumnSpec("subjects", .list), ColumnSpec("subjectCodes", .list),
            ]
        case .classes:
            return common + [
                ColumnSpec("title", required: true), ColumnSpec("grades", .list),
                ColumnSpec("courseSourcedId", .reference(.courses), required: true), ColumnSpec("classCode"),
                ColumnSpec("classType", .enumeration(classTypes), required: true), ColumnSpec("location"),
                ColumnSpec("schoolSourcedId", .reference(.orgs), required: true),
                ColumnSpec("termSourcedIds", .referenceList(.academicSessions), required: true),
                ColumnSpec("subjects", .list), ColumnSpec("subjectCodes", .list), ColumnSpec("periods", .list),
            ]
        case .users where version == .v1_1:
            return common + [
                ColumnSpec("enabledUser", .boolean, required: true),
                ColumnSpec("orgSourcedIds", .referenceList(.orgs), required: true),
                ColumnSpec("role", .enumeration(userRoles11), required: true), ColumnSpec("username", required: true),
                ColumnSpec("userIds"), ColumnSpec("givenName", required: true), ColumnSpec("familyName", required: true),
                ColumnSpec("middleName"), ColumnSpec("identifier"), ColumnSpec("email"), ColumnSpec("sms"),
                ColumnSpec("phone"), ColumnSpec("agentSourcedIds", .referenceList(.users)), ColumnSpec("grades", .list),
                ColumnSpec("password", .secret),
            ]
        case .users:
            return common + [
                ColumnSpec("enabledUser", .boolean, required: true), ColumnSpec("username", required: true),
                ColumnSpec("userIds"), ColumnSpec("givenName", required: true), ColumnSpec("familyName", required: true),
                ColumnSpec("middleName"), ColumnSpec("identifier"), ColumnSpec("email"), ColumnSpec("sms"),
                ColumnSpec("phone"), ColumnSpec("agentSourcedIds", .referenceList(.users)), ColumnSpec("grades", .list),
                ColumnSpec("password", .secret), ColumnSpec("userMasterIdentifier"), ColumnSpec("preferredGivenName"),
                ColumnSpec("preferredMiddleName"), ColumnSpec("preferredFamilyName"),
                ColumnSpec("primaryOrgSourcedId", .reference(.orgs)), ColumnSpec("pronouns"),
            ]
        case .roles:
            return common + [
                ColumnSpec("userSourcedId", .reference(.users), required: true),
                ColumnSpec("roleType", .enumeration(roleKinds), required: true),
                ColumnSpec("role", .enumeration(roleTypes12), required: true),
                ColumnSpec("beginDate", .date), ColumnSpec("endDate", .date),
                ColumnSpec("orgSourcedId", .reference(.orgs), required: true),
                ColumnSpec("userProfileSourcedId", .reference(.userProfiles)),
            ]
        case .userProfiles:
            return common + [
                ColumnSpec("userSourcedId", .reference(.users), required: true), ColumnSpec("profileType", required: true),
                ColumnSpec("vendorId", required: true), ColumnSpec("applicationId"), ColumnSpec("description"),
                ColumnSpec("credentialType", required: true), ColumnSpec("username", required: true),
                ColumnSpec("password", .secret),
            ]
        case .demographics:
            return [
                ColumnSpec("sourcedId", .reference(.users), required: true),
                ColumnSpec("status", .enumeration(statuses)), ColumnSpec("dateLastModified", .dateTime),
                ColumnSpec("birthDate", .date), ColumnSpec("sex", .enumeration(sexes)),
                ColumnSpec("americanIndianOrAlaskaNative", .boolean), ColumnSpec("asian", .boolean),
                ColumnSpec("blackOrAfricanAmerican", .boolean), ColumnSpec("nativeHawaiianOrOtherPacificIslander", .boolean),
                ColumnSpec("white", .boolean), ColumnSpec("demographicRaceTwoOrMoreRaces", .boolean),
                ColumnSpec("hispanicOrLatinoEthnicity", .boolean), ColumnSpec("countryOfBirthCode"),
                ColumnSpec("stateOfBirthAbbreviation"), ColumnSpec("cityOfBirth"), ColumnSpec("publicSchoolResidenceStatus"),
            ]
        case .enrollments:
            return common + [
                ColumnSpec("classSourcedId", .reference(.classes), required: true),
                ColumnSpec("schoolSourcedId", .reference(.orgs), required: true),
                ColumnSpec("userSourcedId", .reference(.users), required: true),
                ColumnSpec("role", .enumeration(enrollmentRoles), required: true),
                ColumnSpec("primary", .boolean), ColumnSpec("beginDate", .date), ColumnSpec("endDate", .date),
            ]
        }
    }

    /// The manifest's file name and its two columns.
    public static let manifestFileName = "manifest.csv"
    public static let manifestColumns = ["propertyName", "value"]

    /// Files a drop may carry that are not about rostering: skipped, and the skip reported.
    public static let nonRosteringFiles = [
        "categories", "classResources", "courseResources", "lineItems", "resources", "results",
        "lineItemLearningObjectiveIds", "lineItemScoreScales", "resultLearningObjectiveIds", "resultScoreScales",
        "scoreScales", "assessmentLineItems", "assessmentResults",
    ]
}

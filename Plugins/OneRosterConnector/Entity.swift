import ConnectorKit

/// The OneRoster version a request addresses: 1.1 at `/ims/oneroster/v1p1`, 1.2 rostering at
/// `/ims/oneroster/rostering/v1p2`. They differ in a user's role: 1.1 has one `role` and a list
/// of `orgs`, 1.2 a list of `roles`, each with its org.
enum OneRosterVersion: String, Sendable, CaseIterable {
    case v1p1, v1p2

    /// The path every endpoint of this version sits under.
    var basePath: String {
        switch self {
        case .v1p1: return "/ims/oneroster/v1p1"
        case .v1p2: return "/ims/oneroster/rostering/v1p2"
        }
    }
}

/// The OneRoster object types this connector serves, each built from one or more kinds of
/// record of the partner's view.
enum Entity: String, Sendable, CaseIterable {
    case user, demographics, `class`, org, academicSession, course, enrollment

    /// The name a collection is wrapped under: `{"users":[…]}`.
    var plural: String {
        switch self {
        case .user: return "users"
        case .demographics: return "demographics"
        case .class: return "classes"
        case .org: return "orgs"
        case .academicSession: return "academicSessions"
        case .course: return "courses"
        case .enrollment: return "enrollments"
        }
    }

    /// The name a single object is wrapped under: `{"user":{…}}`.
    var singular: String { rawValue }

    /// The record kinds of the view this entity is made from.
    var kinds: [SharedRecordKind] {
        switch self {
        case .user: return [.student, .teacher, .administrator, .aide]
        case .demographics: return [.student]
        case .class: return [.section]
        case .org: return [.org]
        case .academicSession: return [.academicSession]
        case .course: return [.course]
        case .enrollment: return [.enrollment]
        }
    }

    /// Whether a token needs `roster-demographics.readonly` (rather than `roster.readonly` or
    /// `roster-core.readonly`) to read it.
    var needsDemographicsScope: Bool { self == .demographics }
}

import ConnectorKit

/// The kinds of object the Data API serves, and which records of a view each is made from.
enum ObjectType: String, Sendable, CaseIterable {
    case district, school, user, section, term, course

    /// The person kinds, in the order `/users` reads them (it merges them by id).
    static let personKinds: [SharedRecordKind] = [.student, .teacher, .administrator, .aide]

    var kinds: [SharedRecordKind] {
        switch self {
        case .district, .school: return [.org]
        case .user: return Self.personKinds
        case .section: return [.section]
        case .term: return [.academicSession]
        case .course: return [.course]
        }
    }

    /// Only records whose `type` field is one of these: a Clever term is a OneRoster term or
    /// semester; school years and grading periods have no Clever object.
    var types: Set<String>? {
        switch self {
        case .district: return ["district"]
        case .school: return ["school"]
        case .term: return ["term", "semester"]
        case .user, .section, .course: return nil
        }
    }

    /// Whether `record` is an object of this type.
    func holds(_ record: SharedViewRecord) -> Bool {
        guard kinds.contains(record.kind) else { return false }
        guard let types else { return true }
        return types.contains(RecordFields(record.fields).text("type") ?? "")
    }

    /// The object type of `record`, when it has one.
    static func of(_ record: SharedViewRecord) -> ObjectType? {
        allCases.first { $0.holds(record) }
    }
}

/// The `record_type` of an event, as `/events?record_type=` names it.
enum RecordType: String, Sendable, CaseIterable {
    case users, sections, schools, terms, courses, districts

    var object: ObjectType {
        switch self {
        case .users: return .user
        case .sections: return .section
        case .schools: return .school
        case .terms: return .term
        case .courses: return .course
        case .districts: return .district
        }
    }

    init(_ object: ObjectType) {
        self = Self.allCases.first { $0.object == object }!
    }
}

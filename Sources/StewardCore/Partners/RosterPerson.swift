import Foundation

/// A person as the roster holds them, with what any view could need: the input to a
/// `SharedView`. It is read from the store and never leaves the daemon.
public struct RosterPerson: Sendable, Equatable {
    public var sourcedId: String
    /// `users.role`: student, teacher, administrator, aide, guardian, parent…
    public var role: String
    /// The orgs the person belongs to (`orgSourcedIds`).
    public var schools: [String]
    public var grades: [String]
    public var givenName: String
    public var familyName: String
    public var middleName: String
    public var preferredGivenName: String
    public var email: String
    public var phone: String
    public var sms: String
    public var username: String
    /// `identifier`: the student or staff number.
    public var identifier: String
    /// `userIds`: `{type:id}` pairs, such as `{state:CA1234567}`.
    public var userIds: String
    /// The person's `demographics.csv` row by column name, when there is one.
    public var demographics: [String: String]?
    /// The classes the person is enrolled in (any enrollment role).
    public var sections: [SectionRef]
    /// The people named in `agentSourcedIds` (guardians, parents, relatives).
    public var guardians: [Guardian]
    /// The roster version (import id) that last changed this person or their enrollments.
    public var modifiedImport: Int64

    /// A class a person is enrolled in, with what decides whether a view holds it.
    public struct SectionRef: Sendable, Equatable {
        public var sourcedId: String
        public var school: String
        public var grades: [String]
        public init(sourcedId: String, school: String, grades: [String] = []) {
            self.sourcedId = sourcedId
            self.school = school
            self.grades = grades
        }
    }

    public struct Guardian: Sendable, Equatable {
        public var givenName: String
        public var familyName: String
        public var email: String
        public var phone: String
        public var sms: String

        public init(givenName: String, familyName: String, email: String = "", phone: String = "", sms: String = "") {
            self.givenName = givenName
            self.familyName = familyName
            self.email = email
            self.phone = phone
            self.sms = sms
        }
    }

    public init(sourcedId: String, role: String, schools: [String] = [], grades: [String] = [], givenName: String = "",
                familyName: String = "", middleName: String = "", preferredGivenName: String = "", email: String = "",
                phone: String = "", sms: String = "", username: String = "", identifier: String = "", userIds: String = "",
                demographics: [String: String]? = nil, sections: [SectionRef] = [], guardians: [Guardian] = [],
                modifiedImport: Int64 = 0) {
        self.sourcedId = sourcedId
        self.role = role
        self.schools = schools
        self.grades = grades
        self.givenName = givenName
        self.familyName = familyName
        self.middleName = middleName
        self.preferredGivenName = preferredGivenName
        self.email = email
        self.phone = phone
        self.sms = sms
        self.username = username
        self.identifier = identifier
        self.userIds = userIds
        self.demographics = demographics
        self.sections = sections
        self.guardians = guardians
        self.modifiedImport = modifiedImport
    }

    /// The state id from `userIds` (`{state:…}`, `{stateId:…}`, `{SSID:…}`), or "".
    public var stateId: String {
        for pair in userIds.split(separator: ",") {
            let trimmed = pair.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "{}"))
            let parts = trimmed.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, ["state", "stateid", "state_id", "ssid"].contains(parts[0].lowercased()) { return parts[1] }
        }
        return ""
    }
}

/// A class (section) as the roster holds it, with its teachers.
public struct RosterSection: Sendable, Equatable {
    public var sourcedId: String
    public var title: String
    public var school: String
    public var grades: [String]
    public var teachers: [Teacher]
    public var modifiedImport: Int64
    /// The class's other columns by their CSV names: classCode, classType, location,
    /// courseSourcedId, termSourcedIds, subjects, periods.
    public var values: [String: String] = [:]

    public struct Teacher: Sendable, Equatable {
        public var sourcedId: String
        public var givenName: String
        public var familyName: String
        /// The teacher's orgs, which decide whether a view holds them.
        public var schools: [String]
        public init(sourcedId: String, givenName: String, familyName: String, schools: [String] = []) {
            self.sourcedId = sourcedId
            self.givenName = givenName
            self.familyName = familyName
            self.schools = schools
        }
    }

    public init(sourcedId: String, title: String, school: String, grades: [String] = [], teachers: [Teacher] = [],
                modifiedImport: Int64 = 0) {
        self.sourcedId = sourcedId
        self.title = title
        self.school = school
        self.grades = grades
        self.teachers = teachers
        self.modifiedImport = modifiedImport
    }
}

/// A record of the roster that is about no person (an org, an academic session, a course) or
/// joins them (an enrollment): its columns by their CSV names.
public struct RosterRow: Sendable, Equatable {
    public var sourcedId: String
    public var values: [String: String]
    public var modifiedImport: Int64

    public init(sourcedId: String, values: [String: String], modifiedImport: Int64 = 0) {
        self.sourcedId = sourcedId
        self.values = values
        self.modifiedImport = modifiedImport
    }

    public subscript(column: String) -> String { values[column] ?? "" }

    /// A comma-separated column as a list.
    public func list(_ column: String) -> [String] {
        ValueRules.items(self[column])
    }
}

import Foundation

/// Where a partner stands, decided before any connector runs. Only `active` partners share.
public enum PartnerState: String, Sendable, Codable, CaseIterable {
    /// Its agreement meets the baseline and the district lets it share.
    case active
    /// Its file says `Enabled=no`.
    case inactive
    /// Its agreement or grant misses a requirement of the baseline (see the reasons).
    case agreementFailed = "agreement-failed"
    /// Its agreement has expired; sharing stopped on that day.
    case expired
    /// A Library application the district blocked (`LibraryBlocked=`).
    case blocked
    /// A Library application while the district has Library sharing off.
    case libraryOff = "library-off"
}

/// The district's Library switches (`[Sharing]` in steward.conf).
public struct LibrarySettings: Sendable, Equatable {
    /// `LibrarySharing=off` stops every Library view at once.
    public var isSharingOn: Bool
    /// Library applications whose adoptions are refused and whose views are empty.
    public var blocked: Set<String>
    /// Library applications the district recommends to its teachers; shown to operators.
    public var recommended: Set<String>

    public init(isSharingOn: Bool = true, blocked: Set<String> = [], recommended: Set<String> = []) {
        self.isSharingOn = isSharingOn
        self.blocked = blocked
        self.recommended = recommended
    }
}

/// One partner's standing: its state, and every reason for it in the operator's words.
public struct PartnerStanding: Sendable, Equatable {
    public var state: PartnerState
    public var reasons: [String]

    /// Decides the state of `partner` from the baseline's unmet requirements (checked on the day
    /// that matters) and the district's Library switches. An expired agreement is told apart from
    /// other failures so the dashboard can say which partners need a renewal rather than a fix.
    public static func of(_ partner: PartnerFile, unmet: [AgreementBaseline.Unmet], library: LibrarySettings) -> PartnerStanding {
        if !partner.isEnabled { return PartnerStanding(state: .inactive, reasons: ["Enabled=no in \(partner.path)"]) }
        let expired = unmet.contains(where: \.isExpiry)
        let others = unmet.filter { !$0.isExpiry }
        if !others.isEmpty { return PartnerStanding(state: .agreementFailed, reasons: unmet.map(\.description)) }
        if expired { return PartnerStanding(state: .expired, reasons: unmet.map(\.description)) }
        if partner.kind == .library {
            if !library.isSharingOn {
                return PartnerStanding(state: .libraryOff, reasons: ["LibrarySharing=off: the district has turned Library sharing off"])
            }
            if library.blocked.contains(partner.name) {
                return PartnerStanding(state: .blocked, reasons: ["the district blocks this Library application (LibraryBlocked=)"])
            }
        }
        return PartnerStanding(state: .active, reasons: [])
    }
}

/// What a partner may receive: the persons in its scope and the fields of its grant, cut to
/// what its agreement declares and, for a Library application, to the Library cap and the
/// sections teachers adopted. Pure: the same inputs always give the same view.
public struct SharingPolicy: Sendable, Equatable {
    public var partner: String
    public var kind: PartnerFile.Kind
    /// School sourcedIds; nil means every school.
    public var schools: Set<String>?
    /// Grades, normalized (`3` and `03` are one grade); nil means every grade. Applies to students.
    public var grades: Set<String>?
    public var roles: Set<String>
    /// The fields a record may carry: grant ∩ agreement, and for Library the cap.
    public var fields: Set<Field>
    /// For a Library application: the adopted sections. Only their members are in scope.
    public var adoptedSections: Set<String>?
    /// Whether the view holds anything at all: false unless the partner is active.
    public var isSharing: Bool

    public init(partner: PartnerFile, standing: PartnerStanding, adoptedSections: Set<String> = []) {
        self.partner = partner.name
        kind = partner.kind
        schools = partner.grant.schools.map(Set.init)
        grades = partner.grant.grades.map { Set($0.map(Self.normalizedGrade)) }
        roles = Set(partner.grant.roles).intersection(PartnerFile.grantableRoles)
        var fields = partner.grant.fields.intersection(partner.agreement.dataElements)
        if partner.kind == .library {
            fields = fields.filter { FieldCatalogue.libraryCap.contains($0.name) }
            roles.formIntersection(["student", "teacher"])
            self.adoptedSections = adoptedSections
        } else {
            self.adoptedSections = nil
        }
        self.fields = fields
        isSharing = standing.state == .active
    }

    /// `03` and `3` are the same grade; `KG`, `PK` and other words compare without case.
    public static func normalizedGrade(_ grade: String) -> String {
        guard let number = Int(grade) else { return grade.uppercased() }
        return String(number)
    }

    public func grants(_ name: String) -> Bool { fields.contains { $0.name == name } }

    /// Whether `person` is in scope: sharing, one of the granted roles, in a granted school, a
    /// student in a granted grade (a teacher of one), and for Library a member of an adopted section.
    public func includes(_ person: RosterPerson) -> Bool {
        guard isSharing, roles.contains(person.role) else { return false }
        if let schools, schools.isDisjoint(with: person.schools) { return false }
        if let grades, person.role == "student", grades.isDisjoint(with: person.grades.map(Self.normalizedGrade)) { return false }
        // A grade-limited grant shares only the teachers who teach one of those grades.
        if let grades, person.role == "teacher",
           !person.sections.contains(where: { !grades.isDisjoint(with: $0.grades.map(Self.normalizedGrade)) }) { return false }
        if let adoptedSections, adoptedSections.isDisjoint(with: person.sections.map(\.sourcedId)) { return false }
        return true
    }

    /// Whether `section` is in the view: in a granted school and grade, and for Library also adopted.
    public func includes(_ section: RosterSection) -> Bool {
        includesSection(section.sourcedId, school: section.school, grades: section.grades)
    }

    public func includesSection(_ sourcedId: String, school: String, grades sectionGrades: [String]) -> Bool {
        grants("sections") && includesGrantedSection(sourcedId, school: school, grades: sectionGrades)
    }

    /// `includesSection` for a caller that already knows `sections` is granted.
    func includesGrantedSection(_ sourcedId: String, school: String, grades sectionGrades: [String]) -> Bool {
        guard isSharing else { return false }
        if let adoptedSections, !adoptedSections.contains(sourcedId) { return false }
        if let schools, !schools.contains(school) { return false }
        if let grades, !sectionGrades.isEmpty, grades.isDisjoint(with: sectionGrades.map(Self.normalizedGrade)) { return false }
        return true
    }
}

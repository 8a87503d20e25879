/// Every field Steward can share about a person, named once, each in a sensitivity tier.
/// Grants, agreements, views and the README all use these names.
public enum FieldTier: String, Sendable, CaseIterable, Codable, Comparable {
    /// Who someone is at school: names, grade, school, sections, role.
    case directory
    /// How to reach someone.
    case contact
    /// The district's and the state's own identifiers.
    case districtIds = "district-ids"
    /// Protected characteristics (PPRA, state law): birth date, sex, race, ethnicity, place of birth.
    case demographic
    /// A student's guardians: their names and how to reach them.
    case guardian

    public static func < (lhs: FieldTier, rhs: FieldTier) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One shareable field.
public struct Field: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let name: String
    public let tier: FieldTier

    public var description: String { name }

    public static func < (lhs: Field, rhs: Field) -> Bool {
        (lhs.tier, FieldCatalogue.order(of: lhs)) < (rhs.tier, FieldCatalogue.order(of: rhs))
    }
}

/// The catalogue of fields, and how a grant's or an agreement's list of words becomes fields.
public enum FieldCatalogue {
    public static let all: [Field] = ([
        ("given_name", .directory), ("family_name", .directory), ("family_initial", .directory),
        ("middle_name", .directory), ("preferred_name", .directory), ("grade", .directory),
        ("school", .directory), ("sections", .directory), ("role", .directory),
        ("email", .contact), ("phone", .contact), ("sms", .contact), ("username", .contact),
        ("sis_id", .districtIds), ("state_id", .districtIds), ("student_number", .districtIds),
        ("birth_date", .demographic), ("sex", .demographic), ("race", .demographic),
        ("hispanic_latino", .demographic), ("country_of_birth", .demographic), ("state_of_birth", .demographic),
        ("city_of_birth", .demographic), ("public_school_residence_status", .demographic),
        ("guardian_names", .guardian), ("guardian_contacts", .guardian),
    ] as [(String, FieldTier)]).map { Field(name: $0.0, tier: $0.1) }

    /// The most a Library application ever receives, whatever its file says.
    public static let libraryCap: Set<String> = ["given_name", "family_initial", "grade", "sections"]

    public static func field(named name: String) -> Field? { all.first { $0.name == name } }

    static func order(of field: Field) -> Int { all.firstIndex(of: field) ?? Int.max }

    /// The outcome of reading a list of field words.
    public struct Reading: Sendable, Equatable {
        public var fields: Set<Field>
        /// One sentence per word that could not be read.
        public var problems: [String]
    }

    /// Reads words such as `directory email sis_id`. Only the directory tier may be granted by
    /// its group word: a contact, id, demographic or guardian field is named one by one, so no
    /// sensitive field is ever shared by a word that meant something else.
    public static func read(_ words: [String]) -> Reading {
        var fields = Set<Field>()
        var problems: [String] = []
        for word in words {
            if word == FieldTier.directory.rawValue {
                fields.formUnion(all.filter { $0.tier == .directory })
            } else if let tier = FieldTier(rawValue: word) {
                let names = all.filter { $0.tier == tier }.map(\.name).joined(separator: " ")
                problems.append("'\(word)' cannot be granted as a group; name each \(tier.rawValue) field: \(names)")
            } else if let field = field(named: word) {
                fields.insert(field)
            } else {
                let known = all.map(\.name) + ["directory"]
                problems.append("'\(word.prefix(60))' is not a field" + (closestMatch(word, among: known).map { "; did you mean \($0)?" } ?? ""))
            }
        }
        return Reading(fields: fields, problems: problems)
    }
}

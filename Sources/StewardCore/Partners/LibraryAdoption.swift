/// A teacher's adoption of a Library application for one of their sections.
public struct LibraryAdoption: Sendable, Equatable, Codable {
    public var partner: String
    public var section: String
    public var teacher: String
    public var adoptedAt: String
    public var adoptedBy: Int64?

    public init(partner: String, section: String, teacher: String, adoptedAt: String, adoptedBy: Int64?) {
        self.partner = partner
        self.section = section
        self.teacher = teacher
        self.adoptedAt = adoptedAt
        self.adoptedBy = adoptedBy
    }
}

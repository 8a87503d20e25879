/// The OAuth 2 scopes a partner's access token may carry: OneRoster 1.2's. A token's scopes
/// choose which of the granted fields a response carries; they never widen a grant.
public enum OAuthScope: String, Sendable, CaseIterable, Codable {
    /// Every rostering read except demographics.
    case roster = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
    /// The core rostering reads.
    case rosterCore = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
    /// The demographics reads.
    case rosterDemographics = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly"

    /// The last path segment, which clients often send alone: `roster-core.readonly`.
    public var shortName: String { String(rawValue.split(separator: "/").last ?? "") }

    /// A scope written as the full URI or its short name.
    public init?(word: String) {
        guard let scope = Self.allCases.first(where: { $0.rawValue == word || $0.shortName == word }) else { return nil }
        self = scope
    }

    /// The fields a token with `scopes` may receive, before the grant cuts them down: the
    /// demographic tier with the demographics scope, every other tier with a roster scope.
    public static func fields(for scopes: Set<OAuthScope>) -> Set<Field> {
        var fields = Set<Field>()
        if !scopes.isDisjoint(with: [.roster, .rosterCore]) { fields.formUnion(FieldCatalogue.all.filter { $0.tier != .demographic }) }
        if scopes.contains(.rosterDemographics) { fields.formUnion(FieldCatalogue.all.filter { $0.tier == .demographic }) }
        return fields
    }

    /// The scopes a partner may ask for: the demographics scope only when its grant names a
    /// demographic field.
    public static func available(to grant: Set<Field>) -> Set<OAuthScope> {
        grant.contains { $0.tier == .demographic } ? Set(allCases) : [.roster, .rosterCore]
    }
}

/// What one request path under `/v3.0` asks for: a collection, one object of it, or what is
/// related to that object (`/sections/{id}/users`).
struct Route: Sendable, Equatable {
    enum Collection: String, Sendable, CaseIterable {
        case districts, schools, users, sections, terms, courses, events
    }

    static let basePath = "/v3.0"

    var collection: Collection
    var id: String?
    var related: String?

    /// What each collection's objects relate to, as the Data API names the paths.
    static let relations: [Collection: Set<String>] = [
        .districts: [], .events: [],
        .schools: ["users", "sections", "courses", "terms", "district"],
        .users: ["district", "schools", "sections", "mystudents", "myteachers", "mycontacts"],
        .sections: ["users", "course", "term", "school", "district"],
        .terms: ["district", "schools", "sections"],
        .courses: ["district", "schools", "sections"],
    ]

    /// The route a path names, or nil when it names none of the endpoints Steward serves.
    static func parse(_ path: String) -> Route? {
        guard let parts = segments(path), let first = parts.first, let collection = Collection(rawValue: first) else { return nil }
        switch parts.count {
        case 1: return Route(collection: collection)
        case 2: return Route(collection: collection, id: parts[1])
        case 3 where relations[collection]?.contains(parts[2]) == true: return Route(collection: collection, id: parts[1], related: parts[2])
        default: return nil
        }
    }

    /// Whether a path asks for Clever's resources (`/resources…`, `/users/{id}/resources`), which
    /// Steward does not hold: it shares rosters, not a district's digital resources.
    static func asksForResources(_ path: String) -> Bool {
        guard let parts = segments(path) else { return false }
        return parts.first == "resources" || (parts.count == 3 && parts[2] == "resources")
    }

    private static func segments(_ path: String) -> [String]? {
        guard path.hasPrefix(basePath + "/") else { return nil }
        let parts = path.dropFirst(basePath.count + 1).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        return parts.contains("") ? nil : parts
    }

    /// Whether the route answers with one object rather than a page of them.
    var isSingle: Bool {
        guard id != nil else { return false }
        guard let related else { return true }
        return ["district", "course", "term", "school"].contains(related)
    }
}

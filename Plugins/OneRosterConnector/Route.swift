import ConnectorKit

/// What one request path asks for: a collection (perhaps nested under a parent object) or one
/// object, of one entity, in one OneRoster version.
struct Route: Sendable, Equatable {
    /// A record that must be in the view for a nested collection to exist (`/classes/{id}/…`);
    /// with `field`, that field must also hold `value` (a class of that school).
    struct Parent: Sendable, Equatable {
        var entity: Entity
        var kinds: [SharedRecordKind]
        var id: String
        var types: Set<String>? = nil
        var field: (name: String, value: String)? = nil

        static func == (left: Parent, right: Parent) -> Bool {
            left.entity == right.entity && left.kinds == right.kinds && left.id == right.id && left.types == right.types
                && left.field?.name == right.field?.name && left.field?.value == right.field?.value
        }
    }

    /// Which records of the entity a nested collection holds.
    enum Membership: Sendable, Equatable {
        /// Records whose view field `field` (a text or a list) holds `id`.
        case field(String, holds: String)
        /// Persons enrolled in section `id`.
        case enrolledIn(section: String)
        /// Sections person `id` is enrolled in.
        case sectionsOf(person: String)
    }

    var version: OneRosterVersion
    var entity: Entity
    /// The kinds of record read: a subset of the entity's (`/students` reads only students).
    var kinds: [SharedRecordKind]
    /// Only records whose `type` field is one of these (`/schools`, `/terms`, `/gradingPeriods`).
    /// Terms are sessions of type `term` or `semester`: a class's terms are either.
    var types: Set<String>?
    /// One object by its id, rather than a collection.
    var id: String?
    var parents: [Parent] = []
    var membership: Membership?

    /// The route a path names, or nil when it names none of the OneRoster endpoints.
    static func parse(_ path: String) -> Route? {
        guard let version = OneRosterVersion.allCases.first(where: { path.hasPrefix($0.basePath + "/") }) else { return nil }
        let parts = path.dropFirst(version.basePath.count).split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            .map(String.init)
        guard !parts.isEmpty, !parts.contains(""), let top = collections[parts[0]] else { return nil }
        var route = Route(version: version, entity: top.entity, kinds: top.kinds, types: top.types)
        switch parts.count {
        case 1:
            return route
        case 2:
            route.id = parts[1]
            return route
        default:
            return nested(route, under: parts[0], id: parts[1], rest: Array(parts.dropFirst(2)))
        }
    }

    /// The top-level collections, each as the entity, kinds and type it lists.
    static let collections: [String: (entity: Entity, kinds: [SharedRecordKind], types: Set<String>?)] = [
        "users": (.user, Entity.user.kinds, nil), "students": (.user, [.student], nil), "teachers": (.user, [.teacher], nil),
        "demographics": (.demographics, [.student], nil), "classes": (.class, [.section], nil), "orgs": (.org, [.org], nil),
        "schools": (.org, [.org], ["school"]), "academicSessions": (.academicSession, [.academicSession], nil),
        "terms": (.academicSession, [.academicSession], ["term", "semester"]),
        "gradingPeriods": (.academicSession, [.academicSession], ["gradingPeriod"]), "courses": (.course, [.course], nil),
        "enrollments": (.enrollment, [.enrollment], nil),
    ]

    /// A collection under object `id` of collection `owner`: `/classes/{id}/students`.
    private static func nested(_ top: Route, under owner: String, id: String, rest: [String]) -> Route? {
        let parent = Parent(entity: top.entity, kinds: top.kinds, id: id, types: top.types)
        var route = Route(version: top.version, entity: top.entity, kinds: [], parents: [parent])
        func list(_ name: String, _ membership: Membership?) -> Route? {
            guard let target = collections[name] else { return nil }
            route.entity = target.entity
            route.kinds = target.kinds
            route.types = target.types
            route.membership = membership
            return route
        }
        switch (owner, rest.count == 1 ? rest[0] : nil) {
        case ("classes", "students"), ("classes", "teachers"):
            return list(rest[0], .enrolledIn(section: id))
        case ("students", "classes"), ("teachers", "classes"), ("users", "classes"):
            return list("classes", .sectionsOf(person: id))
        case ("courses", "classes"):
            return list("classes", .field("course", holds: id))
        case ("terms", "classes"):
            return list("classes", .field("terms", holds: id))
        case ("terms", "gradingPeriods"):
            return list("gradingPeriods", .field("parent", holds: id))
        case ("schools", "classes"):
            return list("classes", .field("school", holds: id))
        case ("schools", "students"), ("schools", "teachers"):
            return list(rest[0], .field("school", holds: id))
        case ("schools", "enrollments"):
            return list("enrollments", .field("school", holds: id))
        case ("schools", "courses"):
            return list("courses", .field("org", holds: id))
        case ("schools", "terms"):
            // Sessions are the district's: every term is a term of each of its schools.
            return list("terms", nil)
        case ("schools", nil) where rest.count == 3 && rest[0] == "classes":
            let section = rest[1]
            route.parents.append(Parent(entity: .class, kinds: [.section], id: section, field: ("school", id)))
            switch rest[2] {
            case "students", "teachers": return list(rest[2], .enrolledIn(section: section))
            case "enrollments": return list("enrollments", .field("section", holds: section))
            default: return nil
            }
        default:
            return nil
        }
    }
}

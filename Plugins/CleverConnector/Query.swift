import ConnectorKit

/// The query parameters of one request, checked: paging (`limit`, `starting_after`,
/// `ending_before`), `count`, and the filters an endpoint takes (`role`, `primary`,
/// `record_type`, `school`). A parameter the endpoint does not take is refused (400), so a
/// partner's typo does not silently return everything.
struct Query: Sendable, Equatable {
    var limit = 100
    var after: String?
    var before: String?
    var count = false
    var role: String?
    var primary = false
    var recordTypes: [String] = []
    /// `/events?school=`: only the events of that school's records.
    var school: String?

    static let limits = 1...10_000

    /// The names each kind of endpoint takes.
    enum Shape {
        case single, list(role: Set<String>?, primary: Bool), events

        var names: Set<String> {
            switch self {
            case .single: return []
            case .list(let roles, let primary):
                return Set(["limit", "starting_after", "ending_before", "count"]).union(roles == nil ? [] : ["role"])
                    .union(primary ? ["primary"] : [])
            case .events: return ["limit", "starting_after", "ending_before", "record_type", "school"]
            }
        }
    }

    static func parse(_ pairs: [(name: String, value: String)], shape: Shape) throws(CleverError) -> Query {
        var query = Query()
        let names = shape.names
        for (name, value) in pairs {
            guard names.contains(name) else { throw .badRequest("unknown query parameter \(name.prefix(64))") }
            switch name {
            case "limit":
                guard let limit = Int(value), limits.contains(limit) else {
                    throw .badRequest("limit must be a whole number from \(limits.lowerBound) to \(limits.upperBound)")
                }
                query.limit = limit
            case "starting_after": query.after = try checkedId(value, name)
            case "ending_before": query.before = try checkedId(value, name)
            case "count":
                guard ["", "true", "false", "undefined"].contains(value) else { throw .badRequest("count must be true or false") }
                query.count = value == "true"
            case "role":
                guard case .list(let roles?, _) = shape, roles.contains(value) else {
                    throw .badRequest("role must be one of \(shape.roleNames)")
                }
                query.role = value
            case "school": query.school = try checkedId(value, name)
            case "primary":
                guard ["", "true"].contains(value) else { throw .badRequest("primary must be true") }
                query.primary = value == "true"
            default:
                guard RecordType(rawValue: value) != nil else {
                    throw .badRequest("record_type must be one of \(RecordType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                query.recordTypes.append(value)
            }
        }
        guard query.after == nil || query.before == nil else { throw .badRequest("use starting_after or ending_before, not both") }
        return query
    }

    /// An id to page from: not empty, at most 256 bytes, no control characters. It need not exist.
    private static func checkedId(_ value: String, _ name: String) throws(CleverError) -> String {
        guard !value.isEmpty, value.utf8.count <= 256, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw .badRequest("\(name) must be an id")
        }
        return value
    }

    /// `links` of a page: `self`, and `next` and `prev` when there is more on that side. They keep
    /// every parameter but the paging cursor, so a partner follows them with the same filters.
    static func links(path: String, pairs: [(name: String, value: String)], first: String?, last: String?,
                      hasMoreAfter: Bool, hasMoreBefore: Bool) -> JSONValue {
        let kept = pairs.filter { $0.name != "starting_after" && $0.name != "ending_before" }
        func uri(_ extra: [(name: String, value: String)]) -> String {
            let all = kept + extra
            return all.isEmpty ? path : path + "?" + all.map { escape($0.name) + "=" + escape($0.value) }.joined(separator: "&")
        }
        var links: [JSONValue] = [link("self", pairs.isEmpty ? path : path + "?" + pairs.map { escape($0.name) + "=" + escape($0.value) }
            .joined(separator: "&"))]
        if hasMoreAfter, let last { links.append(link("next", uri([("starting_after", last)]))) }
        if hasMoreBefore, let first { links.append(link("prev", uri([("ending_before", first)]))) }
        return .array(links)
    }

    static func link(_ rel: String, _ uri: String) -> JSONValue {
        .object(["rel": .string(rel), "uri": .string(uri)])
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func escape(_ text: String) -> String { PercentEncoding.escape(text) }
}

extension Query.Shape {
    var roleNames: String {
        guard case .list(let roles?, _) = self else { return "nothing here" }
        return roles.sorted().joined(separator: ", ")
    }
}

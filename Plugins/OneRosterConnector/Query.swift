import ConnectorKit
import Foundation

/// The query of a OneRoster collection request: paging (`limit`, `offset`), selection
/// (`fields`), filtering (`filter`) and order (`sort`, `orderBy`).
struct Query: Sendable, Equatable {
    static let defaultLimit = 100
    static let maximumLimit = 1000

    var limit = Query.defaultLimit
    var offset = 0
    var fields: [String]?
    var filter: Filter?
    var sort: String?
    var descending = false

    /// Whether records come in the view's own order, unfiltered: then a page is read from the
    /// view at its offset rather than from the whole collection.
    var readsInViewOrder: Bool { filter == nil && sort == nil }

    /// Reads the query of `request`. A `limit` above 1000 is served as 1000.
    static func parse(_ pairs: [(name: String, value: String)]) throws(StatusInfo) -> Query {
        var query = Query()
        func value(_ name: String) -> String? { pairs.first { $0.name == name }?.value }
        if let text = value("limit") {
            guard let limit = Int(text), limit >= 1 else { throw .invalidData("limit is a whole number from 1 to \(maximumLimit)") }
            query.limit = min(limit, maximumLimit)
        }
        if let text = value("offset") {
            // The specification's offset is an int32; a larger one would overflow the paging sums.
            guard let offset = Int(text), (0...Int(Int32.max)).contains(offset) else {
                throw .invalidData("offset is a whole number from 0 to \(Int32.max)")
            }
            query.offset = offset
        }
        if let text = value("fields") {
            let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw .invalidSelection("fields names at least one property") }
            query.fields = names
        }
        if let text = value("filter") {
            do throws(Filter.SyntaxError) {
                query.filter = try Filter.parse(text)
            } catch {
                throw .invalidFilter("the filter cannot be read: \(error.message)")
            }
        }
        if let text = value("sort") {
            guard !text.isEmpty else { throw .invalidData("sort names one property") }
            query.sort = text
        }
        switch value("orderBy") {
        case nil, "asc"?: query.descending = false
        case "desc"?: query.descending = true
        default: throw .invalidData("orderBy is asc or desc")
        }
        return query
    }

    /// RFC 5988 links to the first, previous, next and last pages of `total` records, each the
    /// request's own path and query with only `offset` (and `limit`) changed.
    func links(path: String, pairs: [(name: String, value: String)], total: Int) -> String {
        let kept = pairs.filter { $0.name != "offset" && $0.name != "limit" }
        func link(_ offset: Int, _ rel: String) -> String {
            let query = (kept + [("limit", String(limit)), ("offset", String(offset))])
                .map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
            return "<\(path)?\(query)>; rel=\"\(rel)\""
        }
        let last = total == 0 ? 0 : (total - 1) / limit * limit
        var parts: [String] = []
        if offset < total - limit { parts.append(link(offset + limit, "next")) }
        if offset > 0 { parts.append(link(max(0, offset - limit), "prev")) }
        parts.append(link(0, "first"))
        parts.append(link(last, "last"))
        return parts.joined(separator: ", ")
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func escape(_ text: String) -> String { PercentEncoding.escape(text) }
}

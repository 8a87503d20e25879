import ConnectorKit

/// Answers one OneRoster request of one partner from its view: finds the records the route
/// and query name, builds their objects with only what the view holds, records what was sent,
/// and wraps them as the specification does.
struct Responder {
    let request: PartnerRequest
    let route: Route
    let query: Query
    let cache: ViewCache
    var mapping: Mapping {
        Mapping(version: route.version) { [view = request.view] version in view.appliedAt(version: version) }
    }
    var view: any SharedView { request.view }

    /// One object: `{"user":{…}}`. An id the view does not hold is 404, exactly as one that
    /// never existed.
    func single(_ id: String) throws(StatusInfo) -> PartnerResponse {
        let properties = try selectedProperties()
        guard let record = try find(kinds: route.kinds, id: id, types: route.types) else { throw .notFound(route.entity.singular) }
        let object = project(try builder()(record), properties)
        disclose([record], properties)
        return Self.json(200, [route.entity.singular: .object(object)])
    }

    /// A collection: `{"users":[…]}`, with `X-Total-Count` and `Link`.
    func collection() throws(StatusInfo) -> PartnerResponse {
        for parent in route.parents { try check(parent) }
        let properties = try selectedProperties()
        if let filter = query.filter { try checkServed(filter.fields, code: .invalidFilterField, what: "filter") }
        if let sort = query.sort { try checkServed([sort], code: .invalidData, what: "sort") }
        let build = try builder()
        let page = route.membership == nil && route.types == nil && query.readsInViewOrder
            ? try pageInViewOrder(properties) : try pageOfWholeCollection(build)
        let (records, total) = (page.records, page.total)
        var response: PartnerResponse
        if route.entity == .user, page.built == nil, query.fields == nil {
            // A sync's pages: every property of users read in order, written straight as bytes.
            var writer = UserWriter(mapping: mapping)
            response = PartnerResponse(status: 200, headers: [("Content-Type", "application/json")], body: writer.page(records))
        } else {
            let objects = (page.built ?? records.map(build)).map { JSONValue.object(project($0, properties)) }
            response = Self.json(200, [route.entity.plural: .array(objects)])
        }
        // Only once the answer is built, so nothing is recorded for an answer that fails.
        disclose(records, properties)
        response.headers += [("X-Total-Count", String(total)),
                             ("Link", query.links(path: request.path, pairs: request.query, total: total))]
        return response
    }

    // MARK: Reading

    /// The page at `offset` of the route's kinds, one after another, read from the view at that
    /// offset: O(page) for a partner that pages in order. The view is asked only for the fields
    /// `properties` are built from and disclose.
    private func pageInViewOrder(_ properties: [Property]) throws(StatusInfo) -> Page {
        let fields = Set(properties.flatMap { $0.sources + $0.discloses })
        var records: [SharedViewRecord] = []
        var skip = query.offset, total = 0
        for kind in route.kinds {
            let count = try read { () throws(SharedViewError) in try cache.census(kind, of: view).count }
            total += count
            guard records.count < query.limit else { continue }
            if skip >= count {
                skip -= count
                continue
            }
            let wanted = query.limit - records.count
            records += try read { () throws(SharedViewError) in try cache.records(kind, of: view, offset: skip, count: wanted, fields: fields) }
            skip = 0
        }
        return Page(records: records, built: nil, total: total)
    }

    /// A page of records, their objects when they were built to filter or sort, and how many the
    /// whole collection holds.
    private struct Page {
        var records: [SharedViewRecord]
        var built: [JSONObject]?
        var total: Int
    }

    /// The page at `offset` of the whole collection once its members are chosen, filtered and
    /// sorted: reads every record of the route's kinds, and builds each object once.
    private func pageOfWholeCollection(_ build: (SharedViewRecord) -> JSONObject) throws(StatusInfo) -> Page {
        var records: [SharedViewRecord] = []
        for kind in route.kinds { records += try read { () throws(SharedViewError) in try ViewCache.all(kind, of: view) } }
        if let types = route.types { records = records.filter { types.contains(RecordFields($0.fields).text("type") ?? "") } }
        if let membership = route.membership { records = try members(records, membership) }
        guard query.filter != nil || query.sort != nil else {
            let start = min(query.offset, records.count)
            return Page(records: Array(records[start..<min(records.count, start + query.limit)]), built: nil, total: records.count)
        }
        var rows = records.map { ($0, build($0)) }
        if let filter = query.filter {
            rows = rows.filter { _, object in filter.matches { object[$0]?.comparableTexts ?? [] } }
        }
        if let sort = query.sort {
            let keys = rows.map { $0.1[sort]?.comparableTexts.first ?? "" }
            let order = keys.indices.sorted { left, right in
                keys[left] == keys[right] ? left < right : (keys[left] < keys[right]) != query.descending
            }
            rows = order.map { rows[$0] }
        }
        let start = min(query.offset, rows.count)
        let page = rows[start..<min(rows.count, start + query.limit)]
        return Page(records: page.map(\.0), built: page.map(\.1), total: rows.count)
    }

    /// How a record becomes its OneRoster object in this request. Orgs and academic sessions
    /// list their children: the records of the view whose `parent` they are.
    private func builder() throws(StatusInfo) -> (SharedViewRecord) -> JSONObject {
        let mapping = mapping, entity = route.entity
        guard entity == .org || entity == .academicSession, let kind = entity.kinds.first else {
            return { mapping.object($0, as: entity) }
        }
        var children: [String: [String]] = [:]
        for record in try read({ () throws(SharedViewError) in try ViewCache.all(kind, of: view) }) {
            if let parent = RecordFields(record.fields).text("parent") { children[parent, default: []].append(record.id) }
        }
        return { [children] record in mapping.object(record, as: entity, children: children[record.id] ?? []) }
    }

    /// The records of a nested collection: those whose field holds the parent, or those joined
    /// to it by the view's enrollments.
    private func members(_ records: [SharedViewRecord], _ membership: Route.Membership) throws(StatusInfo) -> [SharedViewRecord] {
        switch membership {
        case .field(let field, let id):
            try checkViewHolds(field)
            return records.filter { RecordFields($0.fields).list(field).contains(id) }
        case .enrolledIn(let section):
            let persons = Set(try enrollments().filter { $0.section == section }.map(\.person))
            return records.filter { persons.contains($0.id) }
        case .sectionsOf(let person):
            let sections = Set(try enrollments().filter { $0.person == person }.map(\.section))
            return records.filter { sections.contains($0.id) }
        }
    }

    private func enrollments() throws(StatusInfo) -> [(person: String, section: String)] {
        try read { () throws(SharedViewError) in try ViewCache.all(.enrollment, of: view) }.map {
            let fields = RecordFields($0.fields)
            return (fields.text("user") ?? "", fields.text("section") ?? "")
        }
    }

    /// The record of one of `kinds` with `id` (and one of `types`), or nil.
    private func find(kinds: [SharedRecordKind], id: String, types: Set<String>?) throws(StatusInfo) -> SharedViewRecord? {
        for kind in kinds {
            guard let record = try read({ () throws(SharedViewError) in try view.record(kind, id: id) }) else { continue }
            if let types, !types.contains(RecordFields(record.fields).text("type") ?? "") { return nil }
            return record
        }
        return nil
    }

    /// A nested collection's parent must be in the view, or the collection does not exist.
    private func check(_ parent: Route.Parent) throws(StatusInfo) {
        guard let record = try find(kinds: parent.kinds, id: parent.id, types: parent.types),
              parent.field.map({ RecordFields(record.fields).list($0.name).contains($0.value) }) ?? true
        else { throw .notFound(parent.entity.singular) }
    }

    // MARK: What the partner is served

    /// The properties a partner is served for the route's entity.
    private func servedProperties() throws(StatusInfo) -> [Property] {
        let fields = try viewFields()
        return mapping.properties(of: route.entity).filter { $0.isServed(given: fields) }
    }

    /// The fields any record of the route's kinds carries in this view.
    private func viewFields() throws(StatusInfo) -> Set<String> {
        var fields: Set<String> = []
        for kind in route.kinds { fields.formUnion(try read { () throws(SharedViewError) in try cache.census(kind, of: view).fields }) }
        return fields
    }

    /// The properties an answer holds: those `fields=` names, each of which must be served
    /// (else 400 `invalid_selection_field`); all of the entity's without it.
    private func selectedProperties() throws(StatusInfo) -> [Property] {
        guard let names = query.fields else { return mapping.properties(of: route.entity) }
        let served = try servedProperties()
        return try names.map { name throws(StatusInfo) in
            guard let property = served.first(where: { $0.name == name }) else {
                throw .invalidSelection("\(name) is not a property served on \(route.entity.plural)")
            }
            return property
        }
    }

    /// A filter or sort may name only served properties: an answer on a withheld one would
    /// tell which records match a value the partner may not see.
    private func checkServed(_ names: [String], code: StatusInfo.CodeMinor, what: String) throws(StatusInfo) {
        let served = Set(try servedProperties().map(\.name))
        for name in names where !served.contains(name) {
            throw StatusInfo(status: 400, codeMinor: code, description: "\(name) is not a property this partner may \(what) on")
        }
    }

    /// A nested collection chosen by a field needs that field in the view: a school's students
    /// are not listed to a partner whose grant withholds `school`.
    private func checkViewHolds(_ field: String) throws(StatusInfo) {
        guard route.entity == .user, try !viewFields().contains(field) else { return }
        throw .forbidden("this partner's grant does not include \(field)")
    }

    private func project(_ object: JSONObject, _ properties: [Property]) -> JSONObject {
        guard query.fields != nil else { return object }
        let names = Set(properties.map(\.name))
        return object.filter(names.contains)
    }

    /// Tells the daemon which records were sent with which fields, one call per set of fields.
    private func disclose(_ records: [SharedViewRecord], _ properties: [Property]) {
        for group in mapping.disclosures(of: records, properties: properties) { request.disclosures.sent(group.ids, fields: group.fields) }
    }

    // MARK: Helpers

    private func read<Value>(_ body: () throws(SharedViewError) -> Value) throws(StatusInfo) -> Value {
        do throws(SharedViewError) {
            return try body()
        } catch {
            switch error.code {
            case .notSharing: throw .forbidden("sharing with this partner is stopped")
            case .invalidCursor, .invalidLimit, .unavailable: throw .unavailable("the roster cannot be read now; try again")
            }
        }
    }

    static func json(_ status: Int, _ object: JSONObject) -> PartnerResponse {
        PartnerResponse(status: status, headers: [("Content-Type", "application/json")], body: JSONValue.encode(object))
    }
}

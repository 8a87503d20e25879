import ConnectorKit

/// Answers one Data API or Events API request of one partner from its view: finds the records
/// the route names, builds their Clever objects with only what the view holds, records what
/// was sent, and wraps them in Clever's envelope.
struct Responder {
    let request: PartnerRequest
    let route: Route
    let facts: ViewFacts
    let sent = AnswerDisclosures()
    /// Who is in which section, for the sections and persons this answer shows.
    let links = LinkReader()
    var view: any SharedView { request.view }

    /// A record that an answer's item was reached through, and the fields of it that reaching
    /// revealed (a teacher's `sections` for `/users/{id}/sections`).
    typealias Via = [String: [(id: String, fields: Set<String>)]]

    func answer() throws(CleverError) -> PartnerResponse {
        let query = try Query.parse(request.query, shape: shape)
        let response: PartnerResponse
        switch (route.collection, route.id) {
        case (.events, nil): response = try events(query)
        case (.events, let id?): response = try event(id)
        case (let collection, nil):
            let type = Self.type(of: collection)
            response = try list(type, type == .user ? personStreams(role: query.role) : streams(type), query)
        case (let collection, let id?):
            let type = Self.type(of: collection)
            guard let parent = try find(type, id) else { throw .notFound(type.rawValue) }
            response = try related(parent, of: type, query)
        }
        sent.report(to: request.disclosures)
        return response
    }

    /// The parameters this route takes.
    private var shape: Query.Shape {
        if route.collection == .events { return route.id == nil ? .events : .single }
        if route.isSingle { return .single }
        switch (route.collection, route.related) {
        case (.users, nil): return .list(role: ["student", "teacher", "staff", "district_admin", "contact"], primary: false)
        case (.schools, "users"?): return .list(role: ["student", "teacher", "staff"], primary: true)
        case (.sections, "users"?): return .list(role: ["student", "teacher"], primary: false)
        case (.users, "schools"?): return .list(role: nil, primary: true)
        default: return .list(role: nil, primary: false)
        }
    }

    static func type(of collection: Route.Collection) -> ObjectType {
        switch collection {
        case .districts: return .district
        case .schools: return .school
        case .users, .events: return .user
        case .sections: return .section
        case .terms: return .term
        case .courses: return .course
        }
    }

    // MARK: Related objects

    /// `/{collection}/{id}` and what hangs under it.
    private func related(_ parent: SharedViewRecord, of type: ObjectType, _ query: Query) throws(CleverError) -> PartnerResponse {
        let fields = RecordFields(parent.fields)
        switch (type, route.related) {
        case (_, nil): return try single(parent, as: type)
        case (_, "district"?):
            guard let district = try district() else { throw .notFound("district") }
            return try single(district, as: .district)
        case (.school, "users"?):
            let kinds = Self.personKinds(role: query.role)
            try requireField("school", of: kinds)
            // Read among the school's members only; `primary` keeps those whose first it is.
            let id = parent.id
            return try list(.user, kinds.map { kind in
                Stream.records(kind, of: view, school: id, keep: query.primary ? { RecordFields($0.fields).list("school").first == id } : nil)
            }, query)
        case (.school, "sections"?): return try list(.section, [try holding(parent.id, in: "school", of: .section)], query)
        case (.school, "courses"?): return try list(.course, [try holding(parent.id, in: "org", of: .course)], query)
        case (.school, "terms"?), (.term, "schools"?):
            // Sessions are the district's: every term is a term of each of its schools.
            return try list(type == .school ? .term : .school, streams(type == .school ? .term : .school), query)
        case (.user, "schools"?):
            let schools = fields.list("school")
            let ids = query.primary ? Array(schools.prefix(1)) : schools
            var via: Via = [:]
            for id in ids { via[id, default: []].append((parent.id, ["school"])) }
            return try list(.school, [.fixed(try records(ids, .school))], query, via: via)
        case (.user, "sections"?):
            let (ids, via) = try sections(of: parent)
            return try list(.section, [.fixed(try records(ids, .section))], query, via: via)
        case (.user, "mystudents"?):
            guard parent.kind == .teacher else { return try list(.user, [.fixed([])], query) }
            let (sections, reached) = try self.sections(of: parent)
            let index = try enrollments(sections: sections)
            var via: Via = [:]
            for section in sections {
                for link in index.students[section] ?? [] {
                    via[link.person, default: []] += (reached[section] ?? []) + [(link.enrollment, index.fields)]
                }
            }
            return try list(.user, [.fixed(try records(Array(via.keys), .user))], query, via: via)
        case (.user, "myteachers"?):
            guard parent.kind == .student else { return try list(.user, [.fixed([])], query) }
            let (sections, reached) = try self.sections(of: parent)
            var via: Via = [:]
            for section in try records(sections, .section) {
                for (teacher, path) in try teachers(of: section) { via[teacher, default: []] += (reached[section.id] ?? []) + path }
            }
            return try list(.user, [.fixed(try records(Array(via.keys), .user))], query, via: via)
        case (.user, "mycontacts"?):
            // Guardians are fields of a student's record here, not users of their own.
            return try list(.user, [.fixed([])], query)
        case (.section, "users"?):
            var via: Via = [:]
            if query.role != "teacher" {
                let index = try enrollments(sections: [parent.id])
                for link in index.students[parent.id] ?? [] { via[link.person, default: []].append((link.enrollment, index.fields)) }
            }
            if query.role != "student" {
                for (teacher, path) in try teachers(of: parent) { via[teacher, default: []] += path }
            }
            return try list(.user, [.fixed(try records(Array(via.keys), .user))], query, via: via)
        case (.section, let name?) where ["course", "term", "school"].contains(name):
            let (field, target): (String, ObjectType) = name == "course" ? ("course", .course) : name == "term" ? ("terms", .term) : ("school", .school)
            guard let id = fields.text(field), let record = try find(target, id) else { throw .notFound(name) }
            sent.add(parent.id, [field])
            return try single(record, as: target)
        case (.term, "sections"?): return try list(.section, [try holding(parent.id, in: "terms", of: .section)], query)
        case (.course, "sections"?): return try list(.section, [try holding(parent.id, in: "course", of: .section)], query)
        case (.course, "schools"?):
            var via: Via = [:]
            for section in try Stream.records(.section, of: view).forward(after: nil, count: .max)
            where RecordFields(section.fields).list("course").contains(parent.id) {
                for school in RecordFields(section.fields).list("school") { via[school, default: []].append((section.id, ["course", "school"])) }
            }
            if let org = fields.text("org") { via[org, default: []].append((parent.id, ["org"])) }
            return try list(.school, [.fixed(try records(Array(via.keys), .school))], query, via: via)
        default:
            throw .notFound("endpoint")
        }
    }

    /// The sections a person is in: its `sections` field and its enrollments, each with what
    /// revealed it.
    private func sections(of person: SharedViewRecord) throws(CleverError) -> ([String], Via) {
        var via: Via = [:]
        for section in RecordFields(person.fields).list("sections") { via[section, default: []].append((person.id, ["sections"])) }
        let index = try enrollments(persons: [person.id])
        for link in index.sections[person.id] ?? [] { via[link.section, default: []].append((link.enrollment, index.fields)) }
        return (via.keys.sorted(by: precedes), via)
    }

    /// A section's teachers: its `teachers` field and the enrollments of teachers in it.
    private func teachers(of section: SharedViewRecord) throws(CleverError) -> [(String, [(id: String, fields: Set<String>)])] {
        var via: Via = [:]
        for teacher in RecordFields(section.fields).list("teachers") { via[teacher, default: []].append((section.id, ["teachers"])) }
        let index = try enrollments(sections: [section.id])
        for link in index.teachers[section.id] ?? [] { via[link.person, default: []].append((link.enrollment, index.fields)) }
        return via.map { ($0.key, $0.value) }
    }

    // MARK: Reading

    /// Every object of `type` in the view.
    private func streams(_ type: ObjectType) -> [Stream<SharedViewRecord>] {
        let keep: ((SharedViewRecord) -> Bool)? = type.types == nil ? nil : { type.holds($0) }
        return type.kinds.map { Stream.records($0, of: view, keep: keep) }
    }

    private func personStreams(role: String?) -> [Stream<SharedViewRecord>] {
        Self.personKinds(role: role).map { Stream.records($0, of: view) }
    }

    /// The person kinds a `role=` names. Steward holds no district admins or contacts.
    static func personKinds(role: String?) -> [SharedRecordKind] {
        switch role {
        case nil: return ObjectType.personKinds
        case "student"?: return [.student]
        case "teacher"?: return [.teacher]
        case "staff"?: return [.administrator, .aide]
        default: return []
        }
    }

    /// Records of `type` whose field `field` (text or list) holds `id`: by `school`, read among
    /// that school's members only.
    private func holding(_ id: String, in field: String, of type: ObjectType) throws(CleverError) -> Stream<SharedViewRecord> {
        try requireField(field, of: type.kinds)
        if field == "school" { return Stream.records(type.kinds[0], of: view, school: id) }
        return Stream.records(type.kinds[0], of: view, keep: { RecordFields($0.fields).list(field).contains(id) })
    }

    /// A collection chosen by a field needs that field in the view: a school's students are not
    /// listed to a partner whose grant withholds `school`, since that would tell it the value.
    func requireField(_ field: String, of kinds: [SharedRecordKind]) throws(CleverError) {
        guard !kinds.isEmpty, !kinds.contains(where: { view.fields(of: $0).contains(field) }) else { return }
        throw .forbidden("this partner's grant does not include \(field)")
    }

    /// The object of `type` with `id`, or nil when the view does not hold one.
    func find(_ type: ObjectType, _ id: String) throws(CleverError) -> SharedViewRecord? {
        for kind in type.kinds {
            guard let record = try CleverError.reading({ () throws(SharedViewError) in try view.record(kind, id: id) }) else { continue }
            return type.holds(record) ? record : nil
        }
        return nil
    }

    /// The objects of `type` with these ids that the view holds.
    private func records(_ ids: [String], _ type: ObjectType) throws(CleverError) -> [SharedViewRecord] {
        var found: [SharedViewRecord] = []
        for id in ids { if let record = try find(type, id) { found.append(record) } }
        return found
    }

    private func district() throws(CleverError) -> SharedViewRecord? {
        try CleverError.reading { () throws(SharedViewError) in try facts.district(of: view) }
    }

    /// The enrollments of `sections` and of `persons`, read from the view once per answer.
    private func enrollments(sections: [String] = [], persons: [String] = []) throws(CleverError) -> EnrollmentIndex {
        try CleverError.reading { () throws(SharedViewError) in try links.index(of: view, sections: sections, persons: persons) }
    }

    // MARK: Building

    /// How records become objects in this request: the district they name, and when the records
    /// were last changed.
    func mapping() throws(CleverError) -> Mapping {
        Mapping(district: try district()?.id) { [view] version in view.appliedAt(version: version) }
    }

    /// `record`'s object, recorded as sent. A section lists its students from the enrollments.
    func build(_ record: SharedViewRecord, as type: ObjectType, with mapping: Mapping) throws(CleverError) -> Built {
        var students: [String]?
        if type == .section {
            let index = try enrollments(sections: [record.id])
            if index.isAvailable {
                let links = index.students[record.id] ?? []
                students = links.map(\.person)
                for link in links { sent.add(link.enrollment, index.fields) }
            }
        }
        let built = mapping.build(record, as: type, students: students)
        sent.add(record.id, built.fields)
        if let district = mapping.district, type != .district { sent.add(district, []) }
        return built
    }

    private func single(_ record: SharedViewRecord, as type: ObjectType) throws(CleverError) -> PartnerResponse {
        let object = try build(record, as: type, with: try mapping()).object
        return Self.json(["data": .object(object), "links": .array([Query.link("self", selfURI)])])
    }

    /// A page of objects of `type` cut from `streams`.
    private func list(_ type: ObjectType, _ streams: [Stream<SharedViewRecord>], _ query: Query, via: Via = [:]) throws(CleverError) -> PartnerResponse {
        let page = try Page(streams, after: query.after, before: query.before, limit: query.limit)
        let mapping = try mapping()
        // A page of sections lists their students: their enrollments are read in one go.
        if type == .section { _ = try enrollments(sections: page.items.map(\.id)) }
        var data: [JSONValue] = []
        for record in page.items {
            data.append(.object(["data": .object(try build(record, as: type, with: mapping).object)]))
            for (id, fields) in via[record.id] ?? [] { sent.add(id, fields) }
        }
        var envelope: [String: JSONValue] = [
            "data": .array(data),
            "links": Query.links(path: request.path, pairs: request.query, first: page.items.first?.id, last: page.items.last?.id,
                                 hasMoreAfter: page.hasMoreAfter, hasMoreBefore: page.hasMoreBefore),
        ]
        if query.count {
            var total = 0
            for stream in streams { total += try stream.total() }
            envelope["count"] = .number(total)
        }
        return Self.json(envelope)
    }

    var selfURI: String {
        request.query.isEmpty ? request.path
            : request.path + "?" + request.query.map { Query.escape($0.name) + "=" + Query.escape($0.value) }.joined(separator: "&")
    }

    static func json(_ object: [String: JSONValue]) -> PartnerResponse {
        PartnerResponse(status: 200, headers: [("Content-Type", "application/json")], body: JSONValue.encode(object))
    }
}

/// The enrollment index of one answer, filled as it needs the members of sections and the
/// classes of persons: each section or person is read from the view once.
final class LinkReader {
    private var index: EnrollmentIndex?

    func index(of view: any SharedView, sections: [String], persons: [String]) throws(SharedViewError) -> EnrollmentIndex {
        var index = self.index ?? EnrollmentIndex(fields: view.fields(of: .enrollment))
        let newSections = sections.filter { !index.readSections.contains($0) }
        let newPersons = persons.filter { !index.readPersons.contains($0) }
        if index.isAvailable, !newSections.isEmpty || !newPersons.isEmpty {
            index.add(try view.enrollments(ofSections: newSections, ofPersons: newPersons))
            index.readSections.formUnion(newSections)
            index.readPersons.formUnion(newPersons)
        }
        self.index = index
        return index
    }
}

/// What one answer sent: record ids by the set of fields sent for them. Reported to the daemon
/// only once the whole answer is built, so nothing is recorded for an answer that fails.
final class AnswerDisclosures {
    private var groups: [Set<String>: Set<String>] = [:]

    func add(_ id: String, _ fields: Set<String>) { groups[fields, default: []].insert(id) }

    /// Each record once per set of fields: a record sent twice in one answer is one disclosure.
    func report(to recorder: any DisclosureRecorder) {
        var reported: [String: Set<String>] = [:]
        for (fields, ids) in groups { for id in ids { reported[id, default: []].formUnion(fields) } }
        var byFields: [Set<String>: [String]] = [:]
        for (id, fields) in reported { byFields[fields, default: []].append(id) }
        for (fields, ids) in byFields { recorder.sent(ids.sorted(by: precedes), fields: fields) }
    }
}

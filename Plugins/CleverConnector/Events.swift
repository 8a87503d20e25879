import ConnectorKit

/// The Events API: the view's changes as Clever events, `<record_type>.<created|updated|deleted>`.
///
/// An updated event carries `previous_attributes`: the record before the import and now are
/// rendered the same way, and the top-level properties that differ are sent with their previous
/// values (null for one the record did not have). A section whose enrollments changed comes as
/// `sections.updated` without `previous_attributes`: its `students` and `teachers` are rendered
/// from the current enrollments. A deleted record holds its id (and, for an org or a session,
/// its type), so a deleted district is a `districts.deleted` and a deleted school year is no
/// term event at all.
extension Responder {
    /// `/v3.0/events`: a page of events, oldest first, of the `record_type`s asked for, and with
    /// `school=`, of that school's records.
    func events(_ query: Query) throws(CleverError) -> PartnerResponse {
        let wanted = Set((query.recordTypes.isEmpty ? RecordType.allCases : query.recordTypes.compactMap(RecordType.init(rawValue:)))
            .map(\.object))
        let kinds = Set(wanted.flatMap(\.kinds))
        if let school = query.school {
            // Filtering on a withheld field would tell the partner its values; a school outside
            // the view is not found, as on `/schools/{id}`.
            try requireField("school", of: ObjectType.personKinds + [.section])
            guard try find(.school, school) != nil else { throw .notFound("school") }
        }
        let stream = Stream<SharedViewChange>(read: { [view] after, before, limit throws(CleverError) in
            let page = try CleverError.reading { () throws(SharedViewError) in
                try view.changes(SharedViewChangeRequest(after: after, before: before, limit: limit,
                                                         kinds: query.recordTypes.isEmpty ? nil : kinds))
            }
            return .init(items: page.changes, hasMoreAfter: page.hasMoreAfter, hasMoreBefore: page.hasMoreBefore, total: nil)
        }, id: \.id, keep: { change in
            (Self.objectType(of: change).map(wanted.contains) ?? false) && (query.school.map { Self.change(change, concerns: $0) } ?? true)
        })
        let page = try Page([stream], after: query.after, before: query.before, limit: query.limit)
        let mapping = try mapping()
        var data: [JSONValue] = []
        for change in page.items { data.append(.object(["data": .object(try event(change, mapping))])) }
        return Self.json([
            "data": .array(data),
            "links": Query.links(path: request.path, pairs: request.query, first: page.items.first?.id, last: page.items.last?.id,
                                 hasMoreAfter: page.hasMoreAfter, hasMoreBefore: page.hasMoreBefore),
        ])
    }

    /// `/v3.0/events/{id}`.
    func event(_ id: String) throws(CleverError) -> PartnerResponse {
        guard let change = try CleverError.reading({ () throws(SharedViewError) in try view.change(id: id) }),
              Self.objectType(of: change) != nil else { throw .notFound("event") }
        let object = try event(change, try mapping())
        return Self.json(["data": .object(object), "links": .array([Query.link("self", selfURI)])])
    }

    /// Whether `change` is an event of school `school`: of the school itself, or of a person,
    /// section or course of it, before or after the change. The district's own records (the
    /// district, terms, its courses) belong to no one school. A deletion carries only the
    /// record's id, and a partner must hear of every record it held that left its view: every
    /// deletion is kept.
    static func change(_ change: SharedViewChange, concerns school: String) -> Bool {
        guard change.action != .deleted else { return true }
        return ([change.record] + (change.previous.map { [$0] } ?? [])).contains { record in
            let fields = RecordFields(record.fields)
            switch record.kind {
            case .org: return record.id == school
            case .course: return fields.text("org") == school
            case .student, .teacher, .administrator, .aide, .section: return fields.list("school").contains(school)
            case .academicSession, .enrollment: return false
            }
        }
    }

    /// The Clever object type a change is an event of; nil for a change that is no event here.
    static func objectType(of change: SharedViewChange) -> ObjectType? {
        if let type = ObjectType.of(change.record) ?? change.previous.flatMap(ObjectType.of) { return type }
        // A deleted record whose type is unknown is taken for the usual one of its kind.
        guard change.action == .deleted, change.record.fields["type"] == nil else { return nil }
        switch change.record.kind {
        case .org: return .school
        case .academicSession: return .term
        default: return nil
        }
    }

    private func event(_ change: SharedViewChange, _ mapping: Mapping) throws(CleverError) -> [String: JSONValue] {
        guard let type = Self.objectType(of: change) else { throw .notFound("event") }
        let now = try build(change.record, as: type, with: mapping)
        var event: [String: JSONValue] = [
            "id": .string(change.id), "type": .string("\(RecordType(type).rawValue).\(change.action.rawValue)"),
            "created": .string(change.at), "data": .object(["object": .object(now.object)]),
        ]
        if change.action == .updated, let previous = change.previous {
            var before = mapping.build(previous, as: type)
            // A section's students are today's either way: they are not part of the change.
            if let current = now.object["students"] { before.object["students"] = current }
            var attributes: [String: JSONValue] = [:]
            for key in Set(before.object.keys).union(now.object.keys) where before.object[key] != now.object[key] {
                attributes[key] = before.object[key] ?? .null
            }
            event["previous_attributes"] = .object(attributes)
            sent.add(previous.id, before.fields)
        }
        return event
    }
}

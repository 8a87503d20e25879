import StewardCore

/// The records one request's view handed to its connector, with the sourcedId behind each id:
/// what the connector reports it sent is turned into persons through them.
///
/// They are kept page by page as they were read, not hashed one by one: a connector reports a
/// page's ids in the page's order, so each is found at the place after the one before it. An
/// index by id is built only when an id turns up anywhere else.
struct IssuedRecords {
    /// One read's records (the district's own records left out: they name no person).
    struct Handout {
        var ids: [String]
        var sources: [String]
        var kinds: [SharedRecord.Kind]
    }

    private var handouts: [Handout] = []
    /// Where each id of `handouts[..<indexed]` was handed out (the latest place).
    private var index: [String: (handout: Int, position: Int)] = [:]
    private var indexed = 0

    mutating func add(_ records: [SharedRecord], sources: [String]) {
        if sources.count == records.count, !records.contains(where: \.kind.isOrganization) {
            guard !records.isEmpty else { return }
            handouts.append(Handout(ids: records.map(\.id), sources: sources, kinds: records.map(\.kind)))
        } else {
            let kept = zip(records, sources).filter { !$0.0.kind.isOrganization }
            guard !kept.isEmpty else { return }
            handouts.append(Handout(ids: kept.map(\.0.id), sources: kept.map(\.1), kinds: kept.map(\.0.kind)))
        }
    }

    /// How far past the expected place an id is looked for in the same page: a connector that
    /// groups a page's records by the fields it sent reports each group in the page's order,
    /// skipping the others' ids.
    static let lookAhead = 64

    /// `id`'s position in `ids` at or a little after `start`.
    private static func position(of id: String, in ids: [String], from start: Int) -> Int? {
        let end = min(ids.count, start + lookAhead)
        var position = start
        while position < end {
            if ids[position] == id { return position }
            position += 1
        }
        return nil
    }

    /// Where `id` was last handed out.
    mutating func place(of id: String) -> (handout: Int, position: Int)? {
        while indexed < handouts.count {
            for (position, id) in handouts[indexed].ids.enumerated() { index[id] = (indexed, position) }
            indexed += 1
        }
        return index[id]
    }

    /// The sourcedId and kind behind `id`, if it was handed out.
    mutating func behind(_ id: String) -> (sourcedId: String, kind: SharedRecord.Kind)? {
        place(of: id).map { (handouts[$0.handout].sources[$0.position], handouts[$0.handout].kinds[$0.position]) }
    }

    /// The persons behind what a connector reports it sent (`sent`: ids and the fields sent with
    /// them), each once with every field sent of them; the enrollments sent (sourcedIds), whose
    /// persons were sent their `sections`; and how many distinct records were sent (the
    /// district's own records included). Ids not handed out name no person: a connector reports
    /// only ids its request read.
    mutating func sentPersons(_ sent: [(ids: [String], fields: Set<String>)]) -> (persons: SentPersons, enrollments: [String], records: Int) {
        // Each id's place, looked for first right after the previous id's.
        var places: [(handout: Int, position: Int, entry: Int)] = []
        var unknown = Set<String>()
        for (entry, report) in sent.enumerated() {
            places.reserveCapacity(places.count + report.ids.count)
            // A report starts with the latest page, usually the one it is about.
            var next: (handout: Int, position: Int)? = handouts.isEmpty ? nil : (handouts.count - 1, 0)
            for id in report.ids {
                let found: (handout: Int, position: Int)
                if let next, let position = Self.position(of: id, in: handouts[next.handout].ids, from: next.position) {
                    found = (next.handout, position)
                } else if let elsewhere = place(of: id) {
                    found = elsewhere
                } else {
                    unknown.insert(id)
                    next = nil
                    continue
                }
                places.append((found.handout, found.position, entry))
                next = (found.handout, found.position + 1)
            }
        }
        // Usually every place is in one page and none is reported twice: its persons are then
        // distinct, and so are its ids. Otherwise persons and ids are told apart by value.
        var once = places.allSatisfy { $0.handout == places.first?.handout }
        if once, let handout = places.first?.handout {
            var seen = [Bool](repeating: false, count: handouts[handout].ids.count)
            for place in places {
                if seen[place.position] {
                    once = false
                    break
                }
                seen[place.position] = true
            }
        }
        var persons = SentPersons()
        var enrollments: [String] = []
        for place in places {
            let handout = handouts[place.handout]
            let (source, kind) = (handout.sources[place.position], handout.kinds[place.position])
            if kind == .enrollment {
                enrollments.append(source)
            } else if kind.isPerson {
                if once {
                    persons.addNew(source, kind: kind.rawValue, fields: sent[place.entry].fields)
                } else {
                    persons.add(source, kind: kind.rawValue, fields: sent[place.entry].fields)
                }
            }
        }
        let records = once ? places.count + unknown.count : Set(sent.flatMap(\.ids)).count
        return (persons, enrollments, records)
    }
}

/// The persons one answer disclosed, each once, grouped by the fields it sent of them: a page
/// of a sync is usually one group, so a group's persons are written in one statement.
struct SentPersons {
    private var persons: [(sourcedId: String, kind: String, fields: Set<String>)] = []
    /// Where each of `persons[..<indexed]` stands: built only once a person is added who may
    /// have been added before.
    private var indexOf: [String: Int] = [:]
    private var indexed = 0

    /// Adds a person known not to have been added before, sent `fields`.
    mutating func addNew(_ sourcedId: String, kind: String, fields: Set<String>) {
        persons.append((sourcedId, kind, fields))
    }

    /// Adds `fields` to what was sent of the person `sourcedId`.
    mutating func add(_ sourcedId: String, kind: String, fields: Set<String>) {
        while indexed < persons.count {
            indexOf[persons[indexed].sourcedId] = indexed
            indexed += 1
        }
        if let index = indexOf[sourcedId] {
            if !fields.isSubset(of: persons[index].fields) { persons[index].fields.formUnion(fields) }
        } else {
            indexOf[sourcedId] = persons.count
            persons.append((sourcedId, kind, fields))
            indexed = persons.count
        }
    }

    /// The persons by the fields sent of them, in the order they were first sent. Sets of fields
    /// are compared, not hashed: an answer has few of them, most sharing one storage, and a
    /// person's set is first compared with the one before it.
    var groups: [(fields: Set<String>, persons: [(sourcedId: String, kind: String)])] {
        var groups: [(fields: Set<String>, persons: [(sourcedId: String, kind: String)])] = []
        var last = -1
        for person in persons {
            if last < 0 || groups[last].fields != person.fields {
                last = groups.firstIndex { $0.fields == person.fields } ?? {
                    groups.append((person.fields, []))
                    return groups.count - 1
                }()
            }
            groups[last].persons.append((person.sourcedId, person.kind))
        }
        return groups
    }
}

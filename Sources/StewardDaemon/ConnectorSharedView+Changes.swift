import ConnectorKit
import Foundation
import StewardCore
import StewardStore

/// Paging by id and the change feed, for protocols such as Clever's Data and Events APIs.
extension ConnectorSharedView {
    func idPage(_ request: SharedViewIdRequest) throws(SharedViewError) -> SharedViewIdPage {
        try checkServing(limit: request.limit)
        guard let kind = SharedRecord.Kind(rawValue: request.kind.rawValue) else {
            throw SharedViewError(.unavailable, "this daemon does not serve \(request.kind.rawValue) records")
        }
        if let school = request.school { return try idPage(request, kind: kind, school: school) }
        // Paging forward is read ahead as `page` is: the ids of the next page are known from
        // the members in id order, so its records are read while this one is answered.
        let key = ReadAhead.Key(partner: partner, kind: kind, after: request.after, limit: request.limit, changedSince: nil,
                                rosterVersion: rosterVersion, byId: true)
        let ahead = request.before == nil ? taken(key) : nil
        let (page, members, start, end) = try reading { db throws(StewardError) in
            let members = try viewMembers(kind, db: db)
            let start: Int, end: Int
            if let before = request.before {
                end = members.ids.position(of: before, orEqual: false)
                start = max(0, end - request.limit)
            } else {
                start = request.after.map { members.ids.position(of: $0, orEqual: true) } ?? 0
                end = min(members.ids.count, start + request.limit)
            }
            if let ahead { return (ahead, members, start, end) }
            return (try Self.readIdPage(kind, sources: Array(members.sources[start..<end]), view: view, db: db), members, start, end)
        }
        if request.before == nil, end < members.ids.count, end > start {
            var following = key
            following.after = members.ids[end - 1]
            let sources = Array(members.sources[end..<min(members.ids.count, end + request.limit)])
            startReadAhead(following) { [view] db throws(StewardError) in try Self.readIdPage(kind, sources: sources, view: view, db: db) }
        }
        remember(page.records, sources: page.sources)
        return SharedViewIdPage(records: page.records.map(Self.convert), hasMoreAfter: end < members.ids.count,
                                hasMoreBefore: start > 0, total: members.ids.count)
    }

    /// A page in id order of the members whose `school` holds `school`, found among the
    /// members in memory; only their records are read.
    private func idPage(_ request: SharedViewIdRequest, kind: SharedRecord.Kind, school: String) throws(SharedViewError) -> SharedViewIdPage {
        let (page, found) = try reading { db throws(StewardError) in
            let members = try viewMembers(kind, db: db)
            let found = request.before.map { members.positions(of: school, from: members.ids.position(of: $0, orEqual: false), forward: false,
                                                                limit: request.limit) }
                ?? members.positions(of: school, from: request.after.map { members.ids.position(of: $0, orEqual: true) } ?? 0,
                                     forward: true, limit: request.limit)
            return (try Self.readIdPage(kind, sources: found.positions.map { members.sources[$0] }, view: view, db: db), found)
        }
        remember(page.records, sources: page.sources)
        return SharedViewIdPage(records: page.records.map(Self.convert), hasMoreAfter: found.hasMoreAfter, hasMoreBefore: found.hasMoreBefore,
                                total: found.total)
    }

    /// The view's members of `kind` in id order, built once per roster version and scope.
    func viewMembers(_ kind: SharedRecord.Kind, db: Database) throws(StewardError) -> ViewIndexes.Members {
        try indexes.members(partner: partner, kind: kind, rosterVersion: rosterVersion, policy: view.policy) { () throws(StewardError) in
            try view.members(kind, from: RosterViewReader(db: db, scopeOf: view.policy))
        }
    }

    /// The records of the members `sources` (sourcedIds, in the members' id order).
    private static func readIdPage(_ kind: SharedRecord.Kind, sources: [String], view: StewardCore.SharedView,
                                   db: Database) throws(StewardError) -> StewardCore.SharedView.Page {
        let found = try view.records(kind, sourcedIds: sources, from: RosterViewReader(db: db, fields: view.policy.fields))
        return StewardCore.SharedView.Page(records: found.map(\.record), sources: found.map(\.source), next: nil)
    }

    func enrollments(ofSections sections: [String], ofPersons persons: [String]) throws(SharedViewError) -> [SharedViewRecord] {
        try checkSharing()
        return try reading { db throws(StewardError) in
            // Ids this request read resolve at once; others through the view's members in id order.
            func sources(_ ids: [String], _ kinds: [SharedRecord.Kind]) throws(StewardError) -> Set<String> {
                var found: Set<String> = []
                for id in ids {
                    if let known = issued(id), kinds.contains(known.kind) { found.insert(known.sourcedId); continue }
                    for kind in kinds { if let source = try member(kind, id: id, db: db) { found.insert(source); break } }
                }
                return found
            }
            let found = try view.enrollments(ofSections: try sources(sections, [.section]),
                                             ofPersons: try sources(persons, SharedRecord.Kind.allCases.filter(\.isPerson)),
                                             from: RosterViewReader(db: db, fields: view.policy.fields))
            remember(found.map(\.record), sources: found.map(\.source))
            return found.map { Self.convert($0.record) }
        }
    }

    func changes(_ request: SharedViewChangeRequest) throws(SharedViewError) -> SharedViewChangePage {
        try checkServing(limit: request.limit)
        for id in [request.after, request.before].compactMap({ $0 }) where ViewIndexes.importId(ofChange: id) == nil {
            throw SharedViewError(.invalidCursor, "\(id.prefix(64)) is not a change id")
        }
        let kinds = request.kinds.map { Set($0.compactMap { SharedRecord.Kind(rawValue: $0.rawValue) }) }
        return try reading { db throws(StewardError) in
            let imports = try feedImports(db)
            var found: [SharedViewChange] = []
            var more = false
            let backward = request.before != nil
            // Walk the imports (newest first when paging backward) and their changes in id order,
            // judging a batch at a time, until the page is full and one more change is known.
            walk: for applied in backward ? imports.reversed() : imports {
                let boundary = request.before ?? request.after
                if let boundary, let boundaryImport = ViewIndexes.importId(ofChange: boundary),
                   backward ? applied.id > boundaryImport : applied.id < boundaryImport { continue }
                let all = try order(of: applied, db: db)
                // The changes past the boundary, found by binary search (ids ascend).
                var range = all.indices
                if let boundary {
                    let cut = Self.firstIndex(in: all, notBelow: boundary, orEqual: !backward)
                    range = backward ? all.startIndex..<cut : cut..<all.endIndex
                }
                // Changes judged no event before are not judged again: a partner polling after a
                // large import that hardly concerns it does not pay for all of it every time.
                let silent = indexes.silent(partner: partner, importId: applied.id, rosterVersion: rosterVersion, policy: view.policy)
                var ordered = all[range]
                if !silent.isEmpty { ordered = ArraySlice(ordered.filter { !silent.contains($0.id) }) }
                if backward { ordered = ArraySlice(ordered.reversed()) }
                var start = ordered.startIndex
                while start < ordered.endIndex {
                    let batch = Array(ordered[start..<min(ordered.endIndex, start + 256)])
                    start += batch.count
                    let judged = try judge(batch, at: applied, db: db)
                    indexes.addSilent(Set(batch.map(\.id)).subtracting(judged.map(\.id)), partner: partner, importId: applied.id,
                                      rosterVersion: rosterVersion, policy: view.policy)
                    for change in judged where kinds?.contains(change.kind) ?? true {
                        if found.count == request.limit { more = true; break walk }
                        found.append(Self.convert(change))
                    }
                }
            }
            if backward { found.reverse() }
            let earlier = found.first.map { first in imports.contains { $0.id < ViewIndexes.importId(ofChange: first.id)! } } ?? false
            return SharedViewChangePage(changes: found, hasMoreAfter: backward ? request.before != nil : more,
                                        hasMoreBefore: backward ? more : (request.after != nil || earlier))
        }
    }

    func change(id: String) throws(SharedViewError) -> SharedViewChange? {
        try checkSharing()
        guard let importId = ViewIndexes.importId(ofChange: id) else { return nil }
        return try reading { db throws(StewardError) in
            guard let applied = try feedImports(db).first(where: { $0.id == importId }) else { return nil }
            let ordered = try order(of: applied, db: db)
            let position = Self.firstIndex(in: ordered, notBelow: id, orEqual: false)
            guard position < ordered.count, ordered[position].id == id else { return nil }
            return try judge([ordered[position]], at: applied, db: db).first.map(Self.convert)
        }
    }

    /// The first position in `ordered` whose id is not below `id` (`orEqual`: above it).
    static func firstIndex(in ordered: [(id: String, entry: ChangeRecords.Entry)], notBelow id: String, orEqual: Bool) -> Int {
        var low = 0, high = ordered.count
        while low < high {
            let middle = (low + high) / 2
            if orEqual ? ordered[middle].id <= id : ordered[middle].id < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: - Judging changes against the view

    /// A change as the view sees it, before conversion to ConnectorKit's types.
    struct ViewChange {
        var id: String
        var action: SharedViewChange.Action
        var record: SharedRecord
        var previous: SharedRecord?
        var at: String
        var kind: SharedRecord.Kind { record.kind }
    }

    /// The imports a feed reports: those applied after the roster version the partner was
    /// first sent anything from (what came before, it receives through the data API, not as
    /// changes), within the retention window.
    private func feedImports(_ db: Database) throws(StewardError) -> [ChangeRecords.AppliedImport] {
        guard let first = try DisclosureRecords.firstVersion(sentTo: partner, db: db) else { return [] }
        let window = Timestamp.string(Date().addingTimeInterval(-Double(ChangeRecords.retentionDays) * 86_400))
        return try ChangeRecords.appliedImports(db: db).filter { $0.rosterVersion > first && $0.finishedAt > window }
    }

    private func order(of applied: ChangeRecords.AppliedImport, db: Database) throws(StewardError) -> [(id: String, entry: ChangeRecords.Entry)] {
        let entries = try indexes.entries(ofImport: applied.id, rosterVersion: rosterVersion) { () throws(StewardError) in
            try ChangeRecords.entries(ofImport: applied.id, db: db)
        }
        return indexes.order(partner: partner, importId: applied.id, rosterVersion: rosterVersion, entries: entries, secret: secret)
    }

    /// Which of `batch` change this view, and how.
    ///
    /// A person is judged as they were just before the import (columns, demographics, classes)
    /// and as they are now, through the view, and by what the partner was sent (by roster
    /// version): one who entered the view is *created*; one who left it is *deleted* if the
    /// partner was ever sent them; one in it before and after is *updated*, with the values
    /// before of the fields the partner was sent from the version the import changed, or, when
    /// it was not sent that version, *created* again if a field it may receive changed. So a
    /// partner never learns a value it was not given, and a change to a withheld field is no
    /// change. Sections and the district's records (no student data) are judged by the view
    /// before and after the import.
    private func judge(_ batch: [(id: String, entry: ChangeRecords.Entry)], at applied: ChangeRecords.AppliedImport,
                       db: Database) throws(StewardError) -> [ViewChange] {
        let reader = RosterViewReader(db: db, fields: view.policy.fields)
        let byEntity = Dictionary(grouping: batch.map(\.entry), by: \.entity)
        var now: [String: SharedRecord] = [:]
        var before: [String: SharedRecord] = [:]
        var sources: [String: String] = [:]
        func key(_ entry: ChangeRecords.Entry) -> String { entry.entity.rawValue + "\u{0}" + entry.sourcedId }
        for (entity, entries) in byEntity {
            switch entity {
            case .users:
                let ids = entries.map(\.sourcedId)
                let persons = Dictionary(try reader.people(ids: ids, scopeOnly: false).map { ($0.sourcedId, $0) },
                                         uniquingKeysWith: { first, _ in first })
                let known = try DisclosureRecords.knowledge(of: ids, by: partner, before: applied.rosterVersion,
                                                            previous: applied.previousRosterVersion, db: db)
                // The classes the import took persons out of, as they are (or were) placed.
                let left = Set(entries.flatMap(\.sectionsRemoved))
                let places = Dictionary(try reader.sections(ids: left, after: nil, limit: max(left.count, 1), modifiedSince: nil)
                    .map { ($0.sourcedId, RosterPerson.SectionRef(sourcedId: $0.sourcedId, school: $0.school, grades: $0.grades)) },
                    uniquingKeysWith: { first, _ in first })
                for entry in entries {
                    let current = persons[entry.sourcedId]
                    let record = current.flatMap(view.record(for:))
                    now[key(entry)] = record
                    // The person before the import: their columns, demographics and classes then.
                    var previous = entry.action == .added ? nil
                        : current.map { $0.overlaying(users: entry.previous ?? [:]) }
                            ?? entry.previous.map { RosterPerson.removed(sourcedId: entry.sourcedId, users: $0) }
                    if let demographics = entry.previousDemographics { previous = previous?.overlaying(demographics: demographics) }
                    if var person = previous, !entry.sectionsAdded.isEmpty || !entry.sectionsRemoved.isEmpty {
                        person.sections.removeAll { entry.sectionsAdded.contains($0.sourcedId) }
                        person.sections += entry.sectionsRemoved.sorted().map { places[$0] ?? RosterPerson.SectionRef(sourcedId: $0, school: "") }
                        previous = person
                    }
                    let earlier = previous.flatMap(view.record(for:))
                    let knowledge = known[entry.sourcedId] ?? DisclosureRecords.Knowledge()
                    switch (earlier, record) {
                    case (let earlier?, nil):
                        // Left the view: news only to a partner that holds them.
                        if knowledge.held { before[key(entry)] = SharedRecord(id: earlier.id, kind: earlier.kind, fields: [:]) }
                    case (let earlier?, let record?) where knowledge.held && knowledge.current:
                        // The fields the partner was sent from the version before, as they were
                        // then; the others as they are now: it learns no value it was not given.
                        var shown = record
                        for field in knowledge.fields { shown.setField(field, earlier.field(field)) }
                        before[key(entry)] = shown
                    case (let earlier?, let record?):
                        // Not sent the state the import changed: told only if a field it may
                        // receive changed, and then as a record it did not have.
                        if earlier.sameFields(as: record) && earlier.kind == record.kind { now[key(entry)] = nil }
                    case (nil, _):
                        // Entered the view (or is new): created.
                        break
                    }
                }
            case .classes:
                let sections = Dictionary(try reader.sections(ids: Set(entries.map(\.sourcedId)), after: nil, limit: entries.count,
                                                              modifiedSince: nil).map { ($0.sourcedId, $0) }, uniquingKeysWith: { first, _ in first })
                // Members whose enrollments changed, and whether the view holds any of them now:
                // a section's changed membership is news to a partner only through them.
                let members = Set(entries.flatMap(\.members))
                let held = try DisclosureRecords.knowledge(of: Array(members), by: partner, before: applied.rosterVersion,
                                                           previous: applied.previousRosterVersion, db: db).filter(\.value.held).keys
                let seen = Set(try reader.people(ids: Array(members), scopeOnly: true).filter { view.policy.includes($0) }.map(\.sourcedId))
                    .union(held)
                for entry in entries {
                    let current = sections[entry.sourcedId]
                    now[key(entry)] = current.flatMap(view.record(for:))
                    guard entry.action != .added else { continue }
                    guard let previous = entry.previous else {
                        // Only its enrollments changed: its members did, which the protocols show
                        // on it, if one of those members is in the view.
                        if entry.members.isDisjoint(with: seen) { now[key(entry)] = nil } else { before[key(entry)] = now[key(entry)] }
                        continue
                    }
                    let old = current.map { $0.overlaying(classes: previous) } ?? RosterSection.removed(sourcedId: entry.sourcedId, classes: previous)
                    before[key(entry)] = view.record(for: old)
                }
            case .orgs, .academicSessions, .courses:
                let rows = Dictionary(try reader.rows(entity, ids: entries.map(\.sourcedId)).map { ($0.sourcedId, $0) },
                                      uniquingKeysWith: { first, _ in first })
                for entry in entries {
                    let current = rows[entry.sourcedId]
                    now[key(entry)] = current.flatMap { view.record(for: $0, of: entity) }
                    guard entry.action != .added, let previous = entry.previous else { continue }
                    let old = current.map { $0.overlaying(previous) } ?? RosterRow(sourcedId: entry.sourcedId, values: previous)
                    before[key(entry)] = view.record(for: old, of: entity)
                }
            default:
                continue
            }
        }
        var changes: [ViewChange] = []
        for (id, entry) in batch {
            let current = now[key(entry)], previous = before[key(entry)]
            switch (current, previous) {
            case (let current?, nil):
                changes.append(ViewChange(id: id, action: .created, record: current, at: applied.at))
            case (let current?, let previous?):
                let membership = entry.entity == .classes && entry.previous == nil
                guard membership || !current.sameFields(as: previous) || current.kind != previous.kind else { continue }
                let shown = membership || previous.fieldNames.isEmpty ? nil : previous
                changes.append(ViewChange(id: id, action: .updated, record: current, previous: shown, at: applied.at))
            case (nil, let previous?):
                // The id, and what tells which collection it left (an org's or a session's type).
                let type = previous.field("type").map { ["type": $0] } ?? [:]
                changes.append(ViewChange(id: id, action: .deleted, record: SharedRecord(id: previous.id, kind: previous.kind, fields: type),
                                          at: applied.at))
            case (nil, nil):
                continue
            }
            if changes.last?.id == id, changes.last?.action != .deleted { sources[id] = entry.sourcedId }
        }
        let shown = changes.filter { sources[$0.id] != nil }
        remember(shown.map(\.record), sources: shown.map { sources[$0.id]! })
        return changes
    }

    private static func convert(_ change: ViewChange) -> SharedViewChange {
        SharedViewChange(id: change.id, action: change.action, record: convert(change.record), previous: change.previous.map(convert),
                         at: change.at)
    }

    // MARK: - Shared checks

    func checkSharing() throws(SharedViewError) {
        guard view.policy.isSharing else {
            throw SharedViewError(.notSharing, "partner \(partner) is not sharing now (its state, or sharing paused)")
        }
    }

    func checkServing(limit: Int) throws(SharedViewError) {
        guard (1...10_000).contains(limit) else {
            throw SharedViewError(.invalidLimit, "a page holds 1 to 10,000 records; \(limit) was asked for")
        }
        try checkSharing()
    }

    /// Runs `body` in a store read; a store failure is `unavailable`.
    func reading<T>(_ body: (Database) throws(StewardError) -> T) throws(SharedViewError) -> T {
        do {
            return try store.read { db throws(StewardError) in
                let result = try body(db)
                let version = try Self.newestVersion(db)
                versionRead.withLock { $0 = max($0, version) }
                return result
            }
        } catch {
            throw SharedViewError(.unavailable, "the roster cannot be read now: \(error.code.rawValue)")
        }
    }
}

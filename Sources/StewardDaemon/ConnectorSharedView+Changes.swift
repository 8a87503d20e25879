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
        return try reading { db throws(StewardError) in
            let members = try indexes.members(partner: partner, kind: kind, rosterVersion: rosterVersion, policy: view.policy) { () throws(StewardError) in
                try view.members(kind, from: RosterViewReader(db: db, scopeOf: view.policy))
            }
            let start: Int, end: Int
            if let before = request.before {
                end = members.position(of: before, orEqual: false)
                start = max(0, end - request.limit)
            } else {
                start = request.after.map { members.position(of: $0, orEqual: true) } ?? 0
                end = min(members.ids.count, start + request.limit)
            }
            let found = try view.records(kind, sourcedIds: Array(members.sources[start..<end]),
                                         from: RosterViewReader(db: db, fields: view.policy.fields))
            remember(found.map(\.record), sources: found.map(\.source))
            return SharedViewIdPage(records: found.map { Self.convert($0.record) }, hasMoreAfter: end < members.ids.count,
                                    hasMoreBefore: start > 0, total: members.ids.count)
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
                var ordered = order(of: applied, db: db)
                if let boundary { ordered = ordered.filter { backward ? $0.id < boundary : $0.id > boundary } }
                if backward { ordered.reverse() }
                var start = 0
                while start < ordered.count {
                    let batch = Array(ordered[start..<min(ordered.count, start + 256)])
                    start += batch.count
                    for change in try judge(batch, at: applied.at, db: db) where kinds?.contains(change.kind) ?? true {
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
        guard view.policy.isSharing else { throw notSharing }
        guard let importId = ViewIndexes.importId(ofChange: id) else { return nil }
        return try reading { db throws(StewardError) in
            guard let applied = try feedImports(db).first(where: { $0.id == importId }) else { return nil }
            let matching = order(of: applied, db: db).filter { $0.id == id }
            return try judge(matching, at: applied.at, db: db).first.map(Self.convert)
        }
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

    /// The imports a feed reports: every applied import after the roster's first load, which
    /// partners receive through the data API, not as a change per record.
    private func feedImports(_ db: Database) throws(StewardError) -> [ChangeRecords.AppliedImport] {
        Array(try ChangeRecords.appliedImports(db: db).dropFirst())
    }

    private func order(of applied: ChangeRecords.AppliedImport, db: Database) -> [(id: String, entry: ChangeRecords.Entry)] {
        let entries = (try? indexes.entries(ofImport: applied.id) { () throws(StewardError) in
            try ChangeRecords.entries(ofImport: applied.id, db: db)
        }) ?? []
        return indexes.order(partner: partner, importId: applied.id, entries: entries, secret: secret)
    }

    /// Which of `batch` change this view, and how: a record that entered it was created, one
    /// that left it deleted, one whose granted fields changed updated. A change to fields the
    /// grant withholds, or to a record outside the scope before and after, is no change to it.
    private func judge(_ batch: [(id: String, entry: ChangeRecords.Entry)], at: String, db: Database) throws(StewardError) -> [ViewChange] {
        let reader = RosterViewReader(db: db, fields: view.policy.fields)
        let byEntity = Dictionary(grouping: batch.map(\.entry), by: \.entity)
        var now: [String: SharedRecord] = [:]
        var before: [String: SharedRecord] = [:]
        var departed: [String: SharedRecord] = [:]
        func key(_ entry: ChangeRecords.Entry) -> String { entry.entity.rawValue + "\u{0}" + entry.sourcedId }
        for (entity, entries) in byEntity {
            switch entity {
            case .users:
                let persons = Dictionary(try reader.people(ids: entries.map(\.sourcedId), scopeOnly: false).map { ($0.sourcedId, $0) },
                                         uniquingKeysWith: { first, _ in first })
                for entry in entries {
                    let current = persons[entry.sourcedId]
                    now[key(entry)] = current.flatMap(view.record(for:))
                    guard entry.action != .added else { continue }
                    var previous = current.map { $0.overlaying(users: entry.previous ?? [:]) }
                        ?? entry.previous.map { RosterPerson.removed(sourcedId: entry.sourcedId, users: $0) }
                    if let demographics = entry.previousDemographics { previous = previous?.overlaying(demographics: demographics) }
                    before[key(entry)] = previous.flatMap(view.record(for:))
                    // A person the scope no longer describes (a Library app's, whose scope is the
                    // classes they left) was still held if the partner was sent them.
                    if current == nil, before[key(entry)] == nil, let previous, let kind = SharedRecord.Kind(rawValue: previous.role), kind.isPerson,
                       try DisclosureRecords.wasDisclosed(person: entry.sourcedId, to: partner, db: db) {
                        departed[key(entry)] = SharedRecord(id: view.viewId(of: entry.sourcedId, kind: kind), kind: kind, fields: [:])
                    }
                }
            case .classes:
                let sections = Dictionary(try reader.sections(ids: Set(entries.map(\.sourcedId)), after: nil, limit: entries.count,
                                                              modifiedSince: nil).map { ($0.sourcedId, $0) }, uniquingKeysWith: { first, _ in first })
                for entry in entries {
                    let current = sections[entry.sourcedId]
                    now[key(entry)] = current.flatMap(view.record(for:))
                    guard entry.action != .added else { continue }
                    // Only its enrollments changed: its members did, which the protocols show on it.
                    guard let previous = entry.previous else { before[key(entry)] = now[key(entry)]; continue }
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
                changes.append(ViewChange(id: id, action: .created, record: current, at: at))
            case (let current?, let previous?):
                let membership = entry.entity == .classes && entry.previous == nil
                guard membership || current.fields != previous.fields || current.kind != previous.kind else { continue }
                changes.append(ViewChange(id: id, action: .updated, record: current, previous: membership ? nil : previous, at: at))
            case (nil, let previous?):
                changes.append(ViewChange(id: id, action: .deleted, record: SharedRecord(id: previous.id, kind: previous.kind, fields: [:]), at: at))
            case (nil, nil):
                if let departed = departed[key(entry)] {
                    changes.append(ViewChange(id: id, action: .deleted, record: departed, at: at))
                }
            }
        }
        let shown = changes.filter { $0.action != .deleted }
        remember(shown.map(\.record), sources: shown.map { change in batch.first { $0.id == change.id }!.entry.sourcedId })
        return changes
    }

    private static func convert(_ change: ViewChange) -> SharedViewChange {
        SharedViewChange(id: change.id, action: change.action, record: convert(change.record), previous: change.previous.map(convert),
                         at: change.at)
    }

    // MARK: - Shared checks

    private var notSharing: SharedViewError {
        SharedViewError(.notSharing, "partner \(partner) is not sharing now (its state, or sharing paused)")
    }

    private func checkServing(limit: Int) throws(SharedViewError) {
        guard (1...10_000).contains(limit) else {
            throw SharedViewError(.invalidLimit, "a page holds 1 to 10,000 records; \(limit) was asked for")
        }
        guard view.policy.isSharing else { throw notSharing }
    }

    /// Runs `body` in a store read; a store failure is `unavailable`.
    private func reading<T>(_ body: (Database) throws(StewardError) -> T) throws(SharedViewError) -> T {
        do {
            return try store.read { db throws(StewardError) in try body(db) }
        } catch {
            throw SharedViewError(.unavailable, "the roster cannot be read now: \(error.code.rawValue)")
        }
    }
}

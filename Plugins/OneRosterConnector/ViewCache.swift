import ConnectorKit
import Foundation

/// What the connector remembers between requests, per partner and roster version, so that
/// paging through a collection by `offset` reads one page of the view per request, not every
/// page before it.
///
/// - A *census* of each kind of record: how many the view holds (for `X-Total-Count` and the
///   `last` link) and the fields its records may carry (which OneRoster properties the partner
///   is served), as the view reports them. Kept for ten minutes per roster version, so counting
///   a large view is not repeated for every page of a sync. A reload that narrows a grant is
///   safe meanwhile: a withheld field's values are gone from the view, so a filter on it can
///   only say that no record has a value (`!=` matches them all); one that widens it is served
///   once the census is taken again.
/// - The view cursor at each offset a page ended on, bounded in number: the next request, at
///   that offset, starts reading there.
///
/// A view's cursors are sealed and bound to its partner and kind; a kept one that no longer
/// opens is dropped and the kind is read from its start.
final class ViewCache: @unchecked Sendable {
    // Sound: every stored property is read and written only while `lock` is held.
    private let lock = NSLock()

    struct Census: Sendable {
        var count: Int
        var fields: Set<String>
        var taken: Date
    }

    private struct Key: Hashable {
        var partner: String
        var kind: SharedRecordKind
        var rosterVersion: Int64
    }

    private var censuses: [Key: Census] = [:]
    private var cursors: [Key: [Int: SharedViewCursor]] = [:]
    private var remembered: [(key: Key, offset: Int)] = []
    private let capacity: Int
    private let censusLifetime: TimeInterval

    init(capacity: Int = 20_000, censusLifetime: TimeInterval = 600) {
        self.capacity = capacity
        self.censusLifetime = censusLifetime
    }

    /// The largest page of the view a read asks for.
    static let readLimit = 10_000

    /// How many records of `kind` `view` holds, and the fields they carry.
    func census(_ kind: SharedRecordKind, of view: any SharedView, now: Date = Date()) throws(SharedViewError) -> Census {
        let key = Key(partner: view.partner, kind: kind, rosterVersion: view.rosterVersion)
        if let census = lock.withLock({ censuses[key] }), now.timeIntervalSince(census.taken) < censusLifetime { return census }
        let census = Census(count: try view.count(kind), fields: view.fields(of: kind), taken: now)
        lock.withLock {
            censuses = censuses.filter { now.timeIntervalSince($0.value.taken) < censusLifetime }
            censuses[key] = census
        }
        return census
    }

    /// Every record of `kind` in `view`, in the view's order.
    static func all(_ kind: SharedRecordKind, of view: any SharedView) throws(SharedViewError) -> [SharedViewRecord] {
        var records: [SharedViewRecord] = []
        var cursor: SharedViewCursor?
        repeat {
            let page = try view.page(SharedViewRequest(kind: kind, cursor: cursor, limit: readLimit))
            records += page.records
            cursor = page.next
        } while cursor != nil
        return records
    }

    /// Up to `count` records of `kind` from position `offset` of the view's order, starting
    /// from the nearest kept cursor at or before `offset`; their persons carry only `fields`
    /// (all when nil).
    func records(_ kind: SharedRecordKind, of view: any SharedView, offset: Int, count: Int,
                 fields: Set<String>? = nil) throws(SharedViewError) -> [SharedViewRecord] {
        let key = Key(partner: view.partner, kind: kind, rosterVersion: view.rosterVersion)
        do throws(SharedViewError) {
            return try read(key, view: view, offset: offset, count: count, fields: fields, useKept: true)
        } catch {
            guard error.code == .invalidCursor else { throw error }
            lock.withLock { cursors[key] = nil }
            return try read(key, view: view, offset: offset, count: count, fields: fields, useKept: false)
        }
    }

    private func read(_ key: Key, view: any SharedView, offset: Int, count: Int, fields: Set<String>?,
                      useKept: Bool) throws(SharedViewError) -> [SharedViewRecord] {
        var (position, cursor) = useKept ? nearest(key, atOrBefore: offset) : (0, nil)
        while position < offset {
            // Only the page's end is needed of the records passed over.
            let page = try view.page(SharedViewRequest(kind: key.kind, cursor: cursor, limit: min(Self.readLimit, offset - position),
                                                       fields: []))
            position += page.records.count
            guard let next = page.next else { return [] }
            cursor = next
            remember(key, offset: position, cursor: next)
        }
        let page = try view.page(SharedViewRequest(kind: key.kind, cursor: cursor, limit: count, fields: fields))
        if let next = page.next { remember(key, offset: offset + page.records.count, cursor: next) }
        return page.records
    }

    private func nearest(_ key: Key, atOrBefore offset: Int) -> (Int, SharedViewCursor?) {
        lock.withLock {
            guard let kept = cursors[key], let best = kept.keys.filter({ $0 <= offset }).max() else { return (0, nil) }
            return (best, kept[best])
        }
    }

    private func remember(_ key: Key, offset: Int, cursor: SharedViewCursor) {
        lock.withLock {
            guard cursors[key, default: [:]].updateValue(cursor, forKey: offset) == nil else { return }
            remembered.append((key, offset))
            guard remembered.count > capacity else { return }
            // Forget the oldest tenth at once, so eviction costs O(1) per cursor kept.
            let dropped = remembered.prefix(capacity / 10 + 1)
            for (oldKey, oldOffset) in dropped { cursors[oldKey]?[oldOffset] = nil }
            remembered.removeFirst(dropped.count)
        }
    }

    /// How many cursors are kept now (for tests).
    var keptCursors: Int { lock.withLock { cursors.values.reduce(0) { $0 + $1.count } } }
}

import ConnectorKit

/// One source of items in ascending id order that a page can be cut from: a kind of record of
/// the view (perhaps only those a predicate keeps), a set of records already in hand, or the
/// view's changes.
struct Stream<Item> {
    /// What one read returns: up to `limit` items, ascending, and whether there are more on
    /// either side of them.
    struct Read {
        var items: [Item]
        var hasMoreAfter: Bool
        var hasMoreBefore: Bool
        var total: Int?
    }

    /// Up to `limit` items after `after`, or with `before`, the last `limit` before it.
    let read: (_ after: String?, _ before: String?, _ limit: Int) throws(CleverError) -> Read
    let id: (Item) -> String
    /// Only the items this keeps count; nil keeps all.
    let keep: ((Item) -> Bool)?

    /// The largest read asked of the view.
    static var readLimit: Int { 10_000 }

    /// Up to `count` kept items after `after`, ascending.
    func forward(after: String?, count: Int) throws(CleverError) -> [Item] {
        var kept: [Item] = []
        var cursor = after
        while kept.count < count {
            let page = try read(cursor, nil, chunk(count - kept.count))
            kept += keep.map { page.items.filter($0) } ?? page.items
            guard page.hasMoreAfter, let last = page.items.last else { break }
            cursor = id(last)
        }
        return Array(kept.prefix(count))
    }

    /// The last `count` kept items before `before`, ascending.
    func backward(before: String, count: Int) throws(CleverError) -> [Item] {
        var kept: [Item] = []
        var cursor = before
        while kept.count < count {
            let page = try read(nil, cursor, chunk(count - kept.count))
            kept = (keep.map { page.items.filter($0) } ?? page.items) + kept
            guard page.hasMoreBefore, let first = page.items.first else { break }
            cursor = id(first)
        }
        return Array(kept.suffix(count))
    }

    /// How many kept items there are in all: the view's total when all are kept, else a scan.
    func total() throws(CleverError) -> Int {
        if keep == nil, let total = try read(nil, nil, 1).total { return total }
        return try forward(after: nil, count: .max).count
    }

    /// A filtered read asks for more than it needs, since the predicate drops some.
    private func chunk(_ needed: Int) -> Int {
        min(Self.readLimit, keep == nil ? needed : max(needed, 1_000))
    }
}

extension Stream where Item == SharedViewRecord {
    /// Records of `kind` in the view, in id order, those `keep` keeps; with `school`, read only
    /// among those whose `school` holds it.
    static func records(_ kind: SharedRecordKind, of view: any SharedView, school: String? = nil,
                        keep: ((SharedViewRecord) -> Bool)? = nil) -> Stream {
        Stream(read: { after, before, limit throws(CleverError) in
            let page = try CleverError.reading { () throws(SharedViewError) in
                try view.idPage(SharedViewIdRequest(kind: kind, after: after, before: before, limit: limit, school: school))
            }
            return Read(items: page.records, hasMoreAfter: page.hasMoreAfter, hasMoreBefore: page.hasMoreBefore, total: page.total)
        }, id: \.id, keep: keep)
    }

    /// Records already in hand, put in id order.
    static func fixed(_ records: [SharedViewRecord]) -> Stream {
        var seen: Set<String> = []
        let sorted = records.filter { seen.insert($0.id).inserted }.sorted { precedes($0.id, $1.id) }
        return Stream(read: { after, before, limit in
            let (slice, moreAfter, moreBefore) = window(sorted, after: after, before: before, limit: limit)
            return Read(items: slice, hasMoreAfter: moreAfter, hasMoreBefore: moreBefore, total: sorted.count)
        }, id: \.id, keep: nil)
    }
}

/// Whether id `left` comes before `right`: their UTF-8 bytes compared, as the view orders ids.
func precedes(_ left: String, _ right: String) -> Bool {
    left.utf8.lexicographicallyPrecedes(right.utf8)
}

/// The records of `sorted` after `after`, or the last `limit` before `before`, and whether
/// there are more after and before them.
func window(_ sorted: [SharedViewRecord], after: String?, before: String?, limit: Int) -> ([SharedViewRecord], Bool, Bool) {
    if let before {
        let end = sorted.firstIndex { !precedes($0.id, before) } ?? sorted.count
        let start = max(0, end - limit)
        return (Array(sorted[start..<end]), end < sorted.count, start > 0)
    }
    let start = after.map { after in sorted.firstIndex { precedes(after, $0.id) } ?? sorted.count } ?? 0
    let end = min(sorted.count, start + limit)
    return (Array(sorted[start..<end]), end < sorted.count, start > 0)
}

/// One page cut from one or more streams merged in id order, and whether there is more on
/// either side of it.
struct Page<Item> {
    var items: [Item]
    var hasMoreAfter: Bool
    var hasMoreBefore: Bool

    /// The `limit` items after `after`, or the last `limit` before `before`. With more than one
    /// stream, items are merged by their ids' bytes; each stream is read only as far as the page
    /// needs, plus one item to tell whether there is more.
    init(_ streams: [Stream<Item>], after: String?, before: String?, limit: Int) throws(CleverError) {
        let merged = streams.count > 1
        func merge(_ parts: [[Item]]) -> [Item] {
            guard merged, let id = streams.first?.id else { return parts.flatMap { $0 } }
            return parts.flatMap { $0 }.sorted { precedes(id($0), id($1)) }
        }
        if let before {
            var parts: [[Item]] = []
            for stream in streams { parts.append(try stream.backward(before: before, count: limit + 1)) }
            let candidates = merge(parts)
            items = Array(candidates.suffix(limit))
            hasMoreBefore = candidates.count > limit
            hasMoreAfter = false
            if let last = items.last, let id = streams.first?.id {
                let last = id(last)
                for stream in streams where try !stream.forward(after: last, count: 1).isEmpty {
                    hasMoreAfter = true
                    break
                }
            }
        } else {
            var parts: [[Item]] = []
            for stream in streams { parts.append(try stream.forward(after: after, count: limit + 1)) }
            let candidates = merge(parts)
            items = Array(candidates.prefix(limit))
            hasMoreAfter = candidates.count > limit
            hasMoreBefore = false
            if let first = items.first, let id = streams.first?.id {
                let first = id(first)
                for stream in streams where try !stream.backward(before: first, count: 1).isEmpty {
                    hasMoreBefore = true
                    break
                }
            }
        }
    }
}

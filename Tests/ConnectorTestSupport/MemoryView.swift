#if canImport(Glibc)
import Glibc
#endif
import ConnectorKit
import Foundation

// Shared by the connector modules' unit tests (Tests/StewardDaemonTests/OneRosterUnitTests.swift,
// Tests/CleverConnectorTests): a view and a disclosure recorder held in memory.

/// A view held in memory: records of each kind in a fixed order, cursors that are offsets.
/// Counts the pages read, so a test can see how much a request cost.
public final class MemoryView: SharedView, @unchecked Sendable {
    // Sound: `records` never changes after init; `pagesRead` is touched only under `lock`.
    public let partner = "mathfacts"
    public let rosterVersion: Int64 = 7
    public let records: [SharedRecordKind: [SharedViewRecord]]
    private let lock = NSLock()
    private var reads: [SharedViewRequest] = []

    public init(_ records: [SharedViewRecord]) {
        self.records = Dictionary(grouping: records, by: \.kind)
    }

    public var pagesRead: [SharedViewRequest] { lock.withLock { reads } }

    public func page(_ request: SharedViewRequest) throws(SharedViewError) -> SharedViewPage {
        lock.withLock { reads.append(request) }
        guard (1...10_000).contains(request.limit) else { throw SharedViewError(.invalidLimit, "limit") }
        let all = records[request.kind] ?? []
        let start = request.cursor.map { Int($0.token) ?? -1 } ?? 0
        guard (0...all.count).contains(start) else { throw SharedViewError(.invalidCursor, "cursor") }
        let end = min(all.count, start + request.limit)
        return SharedViewPage(records: Array(all[start..<end]), next: end < all.count ? SharedViewCursor(token: String(end)) : nil)
    }

    public func record(_ kind: SharedRecordKind, id: String) throws(SharedViewError) -> SharedViewRecord? {
        records[kind]?.first { $0.id == id }
    }

    public func count(_ kind: SharedRecordKind) throws(SharedViewError) -> Int { records[kind]?.count ?? 0 }

    /// No import times: the epoch rule applies.
    public func appliedAt(version: Int64) -> String? { nil }

    /// As the daemon's view would say from a grant: here, the fields its records carry.
    public func fields(of kind: SharedRecordKind) -> Set<String> {
        (records[kind] ?? []).reduce(into: Set<String>()) { $0.formUnion($1.fields.keys) }
    }

    /// Changes a test sets, in id order.
    public var changeLog: [SharedViewChange] = []

    public func idPage(_ request: SharedViewIdRequest) throws(SharedViewError) -> SharedViewIdPage {
        guard (1...10_000).contains(request.limit) else { throw SharedViewError(.invalidLimit, "limit") }
        let all = (records[request.kind] ?? []).sorted { Array($0.id.utf8).lexicographicallyPrecedes(Array($1.id.utf8)) }
            .filter { record in request.school.map { RecordFields(record.fields).list("school").contains($0) } ?? true }
        let (slice, after, before) = Self.window(all, id: \.id, after: request.after, before: request.before, limit: request.limit)
        return SharedViewIdPage(records: slice, hasMoreAfter: after, hasMoreBefore: before, total: all.count)
    }

    public func changes(_ request: SharedViewChangeRequest) throws(SharedViewError) -> SharedViewChangePage {
        let all = changeLog.filter { request.kinds?.contains($0.record.kind) ?? true }
        let (slice, after, before) = Self.window(all, id: \.id, after: request.after, before: request.before, limit: request.limit)
        return SharedViewChangePage(changes: slice, hasMoreAfter: after, hasMoreBefore: before)
    }

    public func change(id: String) throws(SharedViewError) -> SharedViewChange? { changeLog.first { $0.id == id } }

    public func enrollments(ofSections sections: [String], ofPersons persons: [String]) throws(SharedViewError) -> [SharedViewRecord] {
        let sections = Set(sections), persons = Set(persons)
        return (records[.enrollment] ?? []).filter { record in
            func text(_ name: String) -> String? {
                if case .text(let value)? = record.fields[name] { return value }
                return nil
            }
            return text("section").map(sections.contains) == true || text("user").map(persons.contains) == true
        }
    }

    /// The page of `all` (ascending by `id`) after `after`, or the last `limit` before `before`.
    public static func window<T>(_ all: [T], id: (T) -> String, after: String?, before: String?, limit: Int) -> ([T], Bool, Bool) {
        func less(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }
        if let before {
            let end = all.firstIndex { !less(id($0), before) } ?? all.count
            let start = max(0, end - limit)
            return (Array(all[start..<end]), end < all.count, start > 0)
        }
        let start = after.map { after in all.firstIndex { less(after, id($0)) } ?? all.count } ?? 0
        let end = min(all.count, start + limit)
        return (Array(all[start..<end]), end < all.count, start > 0)
    }
}

/// Records every disclosure a request reports.
public final class DisclosureLog: DisclosureRecorder, @unchecked Sendable {
    // Sound: `entries` is touched only under `lock`.
    private let lock = NSLock()
    private var entries: [(ids: [String], fields: Set<String>)] = []

    public init() {}

    public func sent(_ ids: [String], fields: Set<String>) { lock.withLock { entries.append((ids, fields)) } }
    public var all: [(ids: [String], fields: Set<String>)] { lock.withLock { entries } }
}


/// A module folder with copies of built libraries under the names given.
public func moduleFolder(_ files: [String: String]) throws -> String {
    let folder = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-modules-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    chmod(folder, 0o755)
    for (name, source) in files {
        try FileManager.default.copyItem(atPath: source, toPath: folder + "/" + name)
        chmod(folder + "/" + name, 0o644)
    }
    return folder
}


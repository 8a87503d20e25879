import Foundation
import StewardCore
import StewardCrypto
import StewardStore
import Synchronization

/// What paging by id and change feeds need, kept between a partner's requests:
///
/// - A view's *members* in id order: every record of a kind as (view id, sourcedId), sorted by
///   the id's UTF-8 bytes. Pseudonyms are keyed hashes, so their order is not the roster's;
///   a protocol that pages by id (Clever's `starting_after`) needs them sorted once per roster
///   version and scope, not per page; they also say what an id the partner holds stands for.
///   Built from the partner's scope alone (no demographics read); rebuilt when the partner asks
///   under a newer roster version or another scope, and an older roster version's lists of the
///   partner are dropped then.
/// - Each applied import's change entries (the same for every partner), a partner's order of
///   them, and the changes judged no event for it: change ids are the import (8 hex digits)
///   then a keyed hash of the record (16 hex digits), so they ascend with time, are stable,
///   and name no sourcedId.
final class ViewIndexes: Sendable {
    struct Members: Sendable {
        var policy: SharingPolicy
        /// View ids, ascending by UTF-8 bytes.
        var ids: SortedIds
        /// The sourcedId behind each id.
        var sources: [String]
        /// Each member's schools (its record's `school`), kept small: member `i`'s are
        /// `schoolNames` at `schoolOf[schoolStart[i]..<schoolStart[i + 1]]`.
        private var schoolNames: [String] = []
        private var schoolStart: [UInt32] = [0]
        private var schoolOf: [UInt32] = []
        var built: Date

        /// `read` (a view's members in any order) put in id order.
        init(policy: SharingPolicy, read: [(id: String, source: String, schools: [String])], built: Date = Date()) {
            self.policy = policy
            self.built = built
            let sorted = SortedIds.sorting(read.map(\.id), with: Array(read.indices))
            ids = sorted.ids
            sources = sorted.payload.map { read[$0].source }
            var codes: [String: UInt32] = [:]
            schoolStart.reserveCapacity(read.count + 1)
            schoolOf.reserveCapacity(read.count)
            for index in sorted.payload {
                for school in read[index].schools {
                    let code = codes[school] ?? {
                        schoolNames.append(school)
                        codes[school] = UInt32(schoolNames.count - 1)
                        return UInt32(schoolNames.count - 1)
                    }()
                    // A school listed twice counts once.
                    if !schoolOf[Int(schoolStart[schoolStart.count - 1])...].contains(code) { schoolOf.append(code) }
                }
                schoolStart.append(UInt32(schoolOf.count))
            }
        }

        /// The positions, in id order, of up to `limit` members of `school` from `start` on
        /// (`forward`), or before `start` (the last `limit` of them, still ascending); whether
        /// members of it lie beyond those on either side, and how many it has in all. Members
        /// are walked in memory: no record outside the school is read.
        func positions(of school: String, from start: Int, forward: Bool, limit: Int)
            -> (positions: [Int], hasMoreAfter: Bool, hasMoreBefore: Bool, total: Int) {
            guard let code = schoolNames.firstIndex(of: school).map(UInt32.init) else { return ([], false, false, 0) }
            func holds(_ position: Int) -> Bool {
                schoolOf[Int(schoolStart[position])..<Int(schoolStart[position + 1])].contains(code)
            }
            var positions: [Int] = []
            var position = forward ? start : start - 1
            while positions.count < limit, position >= 0, position < ids.count {
                if holds(position) { positions.append(position) }
                position += forward ? 1 : -1
            }
            if !forward { positions.reverse() }
            let first = positions.first ?? start, last = positions.last ?? start - 1
            let hasMoreAfter = (last + 1 < ids.count) && (last + 1..<ids.count).contains(where: holds)
            let hasMoreBefore = first > 0 && (0..<first).contains(where: holds)
            let total = schoolOf.lazy.filter { $0 == code }.count
            return (positions, hasMoreAfter, hasMoreBefore, total)
        }
    }

    /// A view's ids in ascending order of their UTF-8 bytes, kept small: when every id is a
    /// pseudonym (32 lowercase hex digits, 128 bits), each is kept as its two 64-bit halves,
    /// 16 bytes instead of a string of about 80, and sorted as numbers, which is the same order;
    /// otherwise (real ids) as the strings they are.
    struct SortedIds: Sendable {
        private var halves: [UInt64] = []
        private var texts: [String] = []
        let count: Int

        /// `ids` sorted, with `payload`'s items in the same order.
        static func sorting<Payload>(_ ids: [String], with payload: [Payload]) -> (ids: SortedIds, payload: [Payload]) {
            var packed: [(high: UInt64, low: UInt64, index: Int)] = []
            packed.reserveCapacity(ids.count)
            for (index, id) in ids.enumerated() {
                guard let (high, low) = Self.pseudonym(id) else {
                    let order = ids.indices.sorted { ids[$0].utf8.lexicographicallyPrecedes(ids[$1].utf8) }
                    return (SortedIds(texts: order.map { ids[$0] }), order.map { payload[$0] })
                }
                packed.append((high, low, index))
            }
            packed.sort { ($0.high, $0.low) < ($1.high, $1.low) }
            var halves: [UInt64] = []
            halves.reserveCapacity(packed.count * 2)
            for id in packed {
                halves.append(id.high)
                halves.append(id.low)
            }
            return (SortedIds(halves: halves), packed.map { payload[$0.index] })
        }

        private init(halves: [UInt64]) {
            self.halves = halves
            count = halves.count / 2
        }

        private init(texts: [String]) {
            self.texts = texts
            count = texts.count
        }

        /// The first position whose id is not below `id` (`orEqual`: not at or below it).
        func position(of id: String, orEqual: Bool) -> Int {
            let key = Array(id.utf8)
            var low = 0, high = count
            while low < high {
                let middle = (low + high) / 2
                let here = Array(self[middle].utf8)
                let before = orEqual ? !key.lexicographicallyPrecedes(here) : here.lexicographicallyPrecedes(key)
                if before { low = middle + 1 } else { high = middle }
            }
            return low
        }

        subscript(position: Int) -> String {
            if !texts.isEmpty { return texts[position] }
            return Self.hex(halves[2 * position]) + Self.hex(halves[2 * position + 1])
        }

        /// A pseudonym's two halves; nil for any other id.
        static func pseudonym(_ id: String) -> (UInt64, UInt64)? {
            let digits = Array(id.utf8)
            guard digits.count == 32 else { return nil }
            var halves: (UInt64, UInt64) = (0, 0)
            for (index, digit) in digits.enumerated() {
                let value: UInt8
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
                default: return nil
                }
                if index < 16 { halves.0 = halves.0 << 4 | UInt64(value) } else { halves.1 = halves.1 << 4 | UInt64(value) }
            }
            return halves
        }

        private static func hex(_ half: UInt64) -> String {
            let text = String(half, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
    }

    private struct MemberKey: Hashable {
        var partner: String
        var kind: SharedRecord.Kind
        var rosterVersion: Int64
    }

    private let members = Mutex<[MemberKey: Members]>([:])
    /// Each import's change entries, each partner's order of them and the changes judged no
    /// event, for one roster version: dropped at the first request under a new roster version or
    /// ten minutes after they were first kept, so what the retention purge forgot does not
    /// stay here long.
    private struct ChangeCache {
        var rosterVersion: Int64 = 0
        var taken = Date()
        var entries: [Int64: [ChangeRecords.Entry]] = [:]
        var orders: [String: [(id: String, entry: ChangeRecords.Entry)]] = [:]
        /// By partner and import: the changes judged to be no event for the partner's policy.
        var silent: [String: (policy: SharingPolicy, ids: Set<String>)] = [:]
    }
    private let changes = Mutex(ChangeCache())
    static let changeCacheLifetime: TimeInterval = 600

    /// Member lists kept at once (a partner and kind each); change orders likewise.
    private let capacity: Int

    init(capacity: Int = 32) { self.capacity = capacity }

    /// `view`'s members of `kind` in id order, built with `build` when none are kept for this
    /// roster version and policy.
    func members(partner: String, kind: SharedRecord.Kind, rosterVersion: Int64, policy: SharingPolicy,
                 build: () throws(StewardError) -> [(id: String, source: String, schools: [String])]) throws(StewardError) -> Members {
        let key = MemberKey(partner: partner, kind: kind, rosterVersion: rosterVersion)
        // Who is in a view, their ids and the schools kept with them depend on no field a token
        // may read but `sections` (whether sections are shared), `sis_id` (real ids) and
        // `school`: two tokens of one partner otherwise share one list.
        let scope = Self.scope(of: policy)
        if let kept = members.withLock({ $0[key] }), kept.policy == scope { return kept }
        let built = Members(policy: scope, read: try build())
        members.withLock { kept in
            // Older roster versions of this partner are of no further use; past capacity, the
            // list built longest ago goes.
            kept = kept.filter { $0.key.partner != partner || $0.key.rosterVersion >= rosterVersion }
            if kept.count >= capacity, let oldest = kept.min(by: { $0.value.built < $1.value.built })?.key { kept[oldest] = nil }
            kept[key] = built
        }
        return built
    }

    /// The change entries of import `id`, read once per roster version (and ten minutes). A read
    /// that fails is not kept.
    func entries(ofImport id: Int64, rosterVersion: Int64,
                 read: () throws(StewardError) -> [ChangeRecords.Entry]) throws(StewardError) -> [ChangeRecords.Entry] {
        if let kept = changes.withLock({ cache in Self.current(&cache, rosterVersion).entries[id] }) { return kept }
        let read = try read()
        changes.withLock { cache in
            if Self.current(&cache, rosterVersion).entries.count >= capacity { cache.entries.removeAll() }
            cache.entries[id] = read
        }
        return read
    }

    /// `partner`'s change ids for `entries` of import `importId`, ascending.
    func order(partner: String, importId: Int64, rosterVersion: Int64, entries: [ChangeRecords.Entry],
               secret: DistrictSecret) -> [(id: String, entry: ChangeRecords.Entry)] {
        let key = "\(partner)\u{0}\(importId)"
        if let kept = changes.withLock({ cache in Self.current(&cache, rosterVersion).orders[key] }) { return kept }
        let prefix = Self.hex8(importId)
        let ordered = entries.map { entry in
            (id: prefix + secret.pseudonym(partner: partner, sourcedId: "change\u{0}\(entry.entity.rawValue)\u{0}\(entry.sourcedId)").prefix(16),
             entry: entry)
        }.sorted { $0.id < $1.id }
        changes.withLock { cache in
            if Self.current(&cache, rosterVersion).orders.count >= capacity * 4 { cache.orders.removeAll() }
            cache.orders[key] = ordered
        }
        return ordered
    }

    /// The changes of import `importId` already judged to be no event for `partner` under
    /// `policy`. A verdict is fixed for a roster version: it rests on the roster now, the import's
    /// change set and what the partner was sent before the import, none of which can change.
    func silent(partner: String, importId: Int64, rosterVersion: Int64, policy: SharingPolicy) -> Set<String> {
        changes.withLock { cache in
            guard let kept = Self.current(&cache, rosterVersion).silent["\(partner)\u{0}\(importId)"], kept.policy == policy else { return [] }
            return kept.ids
        }
    }

    func addSilent(_ ids: Set<String>, partner: String, importId: Int64, rosterVersion: Int64, policy: SharingPolicy) {
        guard !ids.isEmpty else { return }
        changes.withLock { cache in
            let key = "\(partner)\u{0}\(importId)"
            var kept = Self.current(&cache, rosterVersion).silent[key]
            if kept?.policy != policy { kept = (policy, []) }
            kept?.ids.formUnion(ids)
            if cache.silent.count >= capacity * 4 { cache.silent.removeAll() }
            cache.silent[key] = kept
        }
    }

    /// `cache`, emptied first when it is of another roster version or too old.
    private static func current(_ cache: inout ChangeCache, _ rosterVersion: Int64, now: Date = Date()) -> ChangeCache {
        if cache.rosterVersion != rosterVersion || now.timeIntervalSince(cache.taken) > changeCacheLifetime {
            cache = ChangeCache(rosterVersion: rosterVersion, taken: now)
        }
        return cache
    }

    /// `policy` without the fields that decide nothing about who is in the view, their ids or
    /// the schools members keep (`school`).
    static func scope(of policy: SharingPolicy) -> SharingPolicy {
        var scope = policy
        scope.fields = scope.fields.filter { ["sections", "sis_id", "school"].contains($0.name) }
        return scope
    }

    static func hex8(_ value: Int64) -> String {
        let hex = String(UInt32(truncatingIfNeeded: value), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The import a change id names, or nil when `id` is not a change id (24 lowercase hex digits).
    static func importId(ofChange id: String) -> Int64? {
        guard id.utf8.count == 24, id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return Int64(id.prefix(8), radix: 16)
    }
}

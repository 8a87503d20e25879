import ConnectorKit
import Foundation
import StewardCore
import StewardCrypto
import StewardStore
import Synchronization

/// A partner's view as a connector receives it through ConnectorKit: pages read from the store
/// through the partner's `SharingPolicy`, cursors sealed with AES-256-GCM under a key derived
/// from the district secret. A cursor names the partner and the kind it was made for, so one
/// partner's cursor never reads another's view, and a connector cannot learn a sourcedId from it.
final class ConnectorSharedView: ConnectorKit.SharedView {
    let partner: String
    let rosterVersion: Int64
    let view: StewardCore.SharedView
    let store: Store
    let secret: DistrictSecret
    let indexes: ViewIndexes
    private let sealing: SealingKey
    /// Every person id this view handed out, with the sourcedId and kind behind it: a connector
    /// reports what it sent by id, and the daemon records it by person.
    private let issued = Mutex(IssuedRecords())
    /// The newest roster version this view's reads saw: what its answer's disclosures are
    /// recorded under (the newest, so a read that spans an import is never taken for one
    /// from before it).
    let versionRead = Mutex<Int64>(0)
    /// Import times by roster version, read once per request when first asked.
    private let appliedTimes = Mutex<[Int64: String]?>(nil)

    /// Pages read ahead for partners paging in order; nil reads every page when asked.
    let readAhead: ReadAhead?

    init(view: StewardCore.SharedView, store: Store, secret: DistrictSecret, rosterVersion: Int64, indexes: ViewIndexes = ViewIndexes(),
         readAhead: ReadAhead? = nil) {
        partner = view.policy.partner
        self.view = view
        self.store = store
        self.secret = secret
        self.indexes = indexes
        self.readAhead = readAhead
        self.rosterVersion = rosterVersion
        sealing = secret.sealingKey(purpose: "view-cursor")
    }

    func page(_ request: SharedViewRequest) throws(SharedViewError) -> SharedViewPage {
        try checkServing(limit: request.limit)
        let after = try request.cursor.map { cursor throws(SharedViewError) in try open(cursor, kind: request.kind) }
        guard let kind = SharedRecord.Kind(rawValue: request.kind.rawValue) else {
            throw SharedViewError(.unavailable, "this daemon does not serve \(request.kind.rawValue) records")
        }
        let key = ReadAhead.Key(partner: partner, kind: kind, after: after, limit: request.limit, changedSince: request.changedSince,
                                rosterVersion: rosterVersion, fields: request.fields)
        let page: StewardCore.SharedView.Page
        if let ahead = taken(key) {
            page = ahead
        } else {
            page = try reading { db throws(StewardError) in try Self.readPage(key, view: view, db: db) }
        }
        if let next = page.next {
            var following = key
            following.after = next
            startReadAhead(following) { [view, following] db throws(StewardError) in try Self.readPage(following, view: view, db: db) }
        }
        remember(page.records, sources: page.sources)
        return SharedViewPage(records: page.records.map(Self.convert), next: page.next.map { seal($0, kind: request.kind) })
    }

    /// The page read ahead for `key`, if there is one for this view's policy: the roster version
    /// its read saw counts as read by this request, and the page is handed back to its reader.
    func taken(_ key: ReadAhead.Key) -> StewardCore.SharedView.Page? {
        guard let readAhead, let ahead = readAhead.take(key, policy: view.policy) else { return nil }
        versionRead.withLock { $0 = max($0, ahead.versionRead) }
        readAhead.retire(ahead, of: partner)
        return ahead.page
    }

    /// Starts reading `key` ahead with `read`, in a store read of its own that also notes the
    /// newest roster version it saw; a read that fails leaves nothing kept.
    func startReadAhead(_ key: ReadAhead.Key,
                        _ read: @escaping @Sendable (Database) throws(StewardError) -> StewardCore.SharedView.Page) {
        readAhead?.start(key, policy: view.policy) { [store] in
            guard let (page, version) = try? store.read({ db throws(StewardError) in (try read(db), try Self.newestVersion(db)) }) else {
                return nil
            }
            return ReadAhead.Page(page: page, versionRead: version)
        }
    }

    /// A page of the view, narrowed to the fields the request names: a field no one uses is
    /// neither read nor built.
    private static func readPage(_ key: ReadAhead.Key, view: StewardCore.SharedView, db: Database) throws(StewardError) -> StewardCore.SharedView.Page {
        let (narrowed, fields) = key.fields.map { (view.narrowed(toFields: $0), view.grantedFields(among: $0)) } ?? (view, view.policy.fields)
        return try narrowed.page(key.kind, from: RosterViewReader(db: db, fields: fields, scopeOf: view.policy), after: key.after,
                                 limit: key.limit, changedSince: key.changedSince)
    }

    /// The newest applied roster version, as a read transaction sees it.
    static func newestVersion(_ db: Database) throws(StewardError) -> Int64 {
        try db.scalarInt("SELECT coalesce(max(roster_version), 0) FROM imports WHERE verdict = 'applied'") ?? 0
    }

    func record(_ kind: SharedRecordKind, id: String) throws(SharedViewError) -> SharedViewRecord? {
        try checkSharing()
        guard let coreKind = SharedRecord.Kind(rawValue: kind.rawValue) else { return nil }
        let realIds = coreKind.isOrganization || (view.policy.kind == .district && view.policy.grants("sis_id"))
        return try reading { db throws(StewardError) -> SharedViewRecord? in
            var sourcedId = id
            if !realIds {
                if let known = issued(id), known.kind == coreKind {
                    sourcedId = known.sourcedId
                } else if let member = try member(coreKind, id: id, db: db) {
                    // A keyed hash cannot be reversed: the view's members in id order say what
                    // an id the partner holds stands for.
                    sourcedId = member
                } else {
                    return nil
                }
            }
            let reader = RosterViewReader(db: db, fields: view.policy.fields)
            guard let record = try view.record(coreKind, sourcedId: sourcedId, from: reader), record.id == id else { return nil }
            remember([record], sources: [sourcedId])
            return Self.convert(record)
        }
    }

    /// The sourcedId behind `id` among the view's members of `kind`, built once per roster
    /// version and policy (see ``ViewIndexes``).
    func member(_ kind: SharedRecord.Kind, id: String, db: Database) throws(StewardError) -> String? {
        let members = try viewMembers(kind, db: db)
        let position = members.ids.position(of: id, orEqual: false)
        return position < members.ids.count && members.ids[position] == id ? members.sources[position] : nil
    }

    func count(_ kind: SharedRecordKind) throws(SharedViewError) -> Int {
        guard let coreKind = SharedRecord.Kind(rawValue: kind.rawValue) else { return 0 }
        return try reading { db throws(StewardError) in try view.count(coreKind, from: RosterViewReader(db: db, scopeOf: view.policy)) }
    }

    func fields(of kind: SharedRecordKind) -> Set<String> {
        SharedRecord.Kind(rawValue: kind.rawValue).map(view.fieldNames(of:)) ?? []
    }

    func appliedAt(version: Int64) -> String? {
        let times = appliedTimes.withLock { cached in
            if let cached { return cached }
            let read = (try? store.read { db throws(StewardError) in try Self.importTimes(db) }) ?? [:]
            cached = read
            return read
        }
        return times[version]
    }

    /// Each applied import's time, to the second (`2026-11-29T15:31:29Z`), by import id: the
    /// version a record carries is the import that last changed it.
    static func importTimes(_ db: Database) throws(StewardError) -> [Int64: String] {
        Dictionary(try ChangeRecords.appliedImports(db: db).map { ($0.id, $0.at) }, uniquingKeysWith: { first, _ in first })
    }

    func remember(_ records: [SharedRecord], sources: [String]) {
        issued.withLock { $0.add(records, sources: sources) }
    }

    /// The persons behind what a connector reports it sent, the enrollments sent and how many
    /// distinct records were sent (see ``IssuedRecords/sentPersons(_:)``).
    func sentPersons(_ sent: [(ids: [String], fields: Set<String>)]) -> (persons: SentPersons, enrollments: [String], records: Int) {
        issued.withLock { $0.sentPersons(sent) }
    }

    /// What `id` stands for, if this view handed it out.
    func issued(_ id: String) -> (sourcedId: String, kind: SharedRecord.Kind)? { issued.withLock { $0.behind(id) } }

    private func context(_ kind: SharedRecordKind) -> String { "\(partner)\u{0}\(kind.rawValue)\u{0}" }

    private func seal(_ sourcedId: String, kind: SharedRecordKind) -> SharedViewCursor {
        SharedViewCursor(token: Base64URL.encode(sealing.seal(Array((context(kind) + sourcedId).utf8))))
    }

    private func open(_ cursor: SharedViewCursor, kind: SharedRecordKind) throws(SharedViewError) -> String {
        guard let sealed = Base64URL.decode(cursor.token), let plain = sealing.open(sealed),
              let value = String(bytes: plain, encoding: .utf8), value.hasPrefix(context(kind)) else {
            throw SharedViewError(.invalidCursor, "the cursor was not made by \(partner)'s \(kind.rawValue) view; start again without one")
        }
        return String(value.dropFirst(context(kind).count))
    }

    /// Core's record as ConnectorKit's: the two kinds enums share their raw values, and the
    /// list of field names is handed on as it is (a page's records share one).
    static func convert(_ record: SharedRecord) -> SharedViewRecord {
        SharedViewRecord(id: record.id, kind: SharedRecordKind(rawValue: record.kind.rawValue)!,
                         fields: SharedFields(names: record.fieldNames, values: record.fieldValues.map {
                             switch $0 {
                             case .text(let text): return .text(text)
                             case .list(let list): return .list(list)
                             }
                         }), version: record.version)
    }
}

/// What a connector is handed for one partner: that partner's view of the roster, and nothing
/// else. The daemon builds it from the partner's grant and agreement before the connector runs,
/// so a connector can never see a person outside the scope or a field outside the grant. Ids
/// are the partner's pseudonymous ones unless its grant names `sis_id`.
public protocol SharedView: Sendable {
    /// The partner this view belongs to.
    var partner: String { get }
    /// The roster version (import id) the view reads.
    var rosterVersion: Int64 { get }
    /// One page of records of one kind, in a stable order. Pass the returned `next` cursor to
    /// read on; `changedSince` (a roster version) keeps only records changed by later imports.
    ///
    /// `changedSince` returns records that changed and are still in the view. A person removed
    /// from the roster, or moved out of the partner's scope, is not in any page: deletions are
    /// delivered from the record of what the partner was sent (issue 6's disclosures), since
    /// only that says which ids the partner holds.
    func page(_ request: SharedViewRequest) throws(SharedViewError) -> SharedViewPage
    /// The record of `kind` with `id`, or nil when the view does not hold it now, exactly as if
    /// it did not exist. `id` is the partner's (for orgs, academic sessions and courses, the
    /// district's own id).
    func record(_ kind: SharedRecordKind, id: String) throws(SharedViewError) -> SharedViewRecord?
    /// How many records of `kind` the view holds now.
    func count(_ kind: SharedRecordKind) throws(SharedViewError) -> Int
    /// The field names a record of `kind` may carry in this view, decided by the partner's
    /// grant and agreement (empty when the view holds no record of `kind`). A connector answers
    /// a filter or a selection only on these: anything else would tell which records match a
    /// value the partner may not see.
    func fields(of kind: SharedRecordKind) -> Set<String>
    /// When import `version` (a record's `version`) was applied, as ISO 8601 UTC
    /// (`2026-11-29T15:31:29Z`); nil for an import this daemon did not apply.
    func appliedAt(version: Int64) -> String?
    /// Up to `limit` records of `kind` in ascending id order (the ids' UTF-8 bytes compared):
    /// those after `request.after`, or with `request.before`, the last `limit` before it, still
    /// in ascending order. For protocols that page by id, such as Clever's `starting_after` and
    /// `ending_before`. Ids are stable across imports, so a partner that re-syncs sees no churn.
    func idPage(_ request: SharedViewIdRequest) throws(SharedViewError) -> SharedViewIdPage
    /// The view's enrollments in one of `sections` or of one of `persons` (ids of this view):
    /// a page of sections' members, or a person's classes, without reading every enrollment.
    func enrollments(ofSections sections: [String], ofPersons persons: [String]) throws(SharedViewError) -> [SharedViewRecord]
    /// The view's changes, oldest first: what the imports since the partner's first sync
    /// created, updated or deleted in its view. See ``SharedViewChange``.
    func changes(_ request: SharedViewChangeRequest) throws(SharedViewError) -> SharedViewChangePage
    /// The change with `id`, or nil when the view has none with it (now).
    func change(id: String) throws(SharedViewError) -> SharedViewChange?
}

/// A request for records in id order.
public struct SharedViewIdRequest: Sendable, Hashable {
    public var kind: SharedRecordKind
    /// Only ids greater than this one.
    public var after: String?
    /// Only ids less than this one; the page is then the last `limit` of them.
    public var before: String?
    /// 1 to 10,000.
    public var limit: Int
    /// Only records whose `school` field holds this id (a person's schools, a section's
    /// school): the records, in the order, that filtering every page would keep, without
    /// reading the others; the page's `total` counts them. Nothing when the view withholds
    /// `school`.
    public var school: String?

    public init(kind: SharedRecordKind, after: String? = nil, before: String? = nil, limit: Int = 100, school: String? = nil) {
        self.kind = kind
        self.after = after
        self.before = before
        self.limit = limit
        self.school = school
    }
}

/// Records in id order, and whether the view holds more on either side of them.
public struct SharedViewIdPage: Sendable, Hashable {
    public var records: [SharedViewRecord]
    /// Whether there are records after the last one returned.
    public var hasMoreAfter: Bool
    /// Whether there are records before the first one returned.
    public var hasMoreBefore: Bool
    /// How many records of the kind the view holds in all.
    public var total: Int

    public init(records: [SharedViewRecord], hasMoreAfter: Bool, hasMoreBefore: Bool, total: Int) {
        self.records = records
        self.hasMoreAfter = hasMoreAfter
        self.hasMoreBefore = hasMoreBefore
        self.total = total
    }
}

/// One change to a partner's view, made by one import. A partner's feed starts with the first
/// import after it was first sent anything, and reaches back 30 days at most.
///
/// Persons are judged as they were just before the import and as they are now, and by what
/// the partner was sent (the record of disclosures, by roster version):
/// - `created`: the person entered the view; or a field the partner may receive changed, and
///   it was not sent the state the import changed. No previous values.
/// - `updated`: the partner was sent the person from the roster version the import changed,
///   and a field it was sent changed; `previous` is the record with those fields as they were
///   before the import and the others as they are now. A field the grant withholds, or one the
///   partner was not sent, is never a change it is told of.
/// - `deleted`: the person left the view (removed from the roster, out of scope, out of an
///   adopted class) and the partner was sent them at some time: `record` holds the id only.
/// Sections and the district's records are judged by the view before and after the import; a
/// section whose enrollments changed is `updated` without `previous`. A deleted org or session
/// keeps its `type`.
///
/// A change is judged when it is read, against the view and the record of disclosures then:
/// `record` is the record as the view holds it now, and a change that no longer concerns the
/// view (the record changed back, or left it) is no longer listed. Ids do not change.
public struct SharedViewChange: Sendable, Hashable {
    public enum Action: String, Sendable { case created, updated, deleted }
    /// Ascending across the view's changes: the import, then a keyed hash of the record. The
    /// same for every read; opaque to the partner, and safe to hand it (it names no sourcedId).
    public var id: String
    public var action: Action
    public var record: SharedViewRecord
    /// For `updated`: the record as the view showed it before the import.
    public var previous: SharedViewRecord?
    /// When the import was applied, as ISO 8601 UTC.
    public var at: String

    public init(id: String, action: Action, record: SharedViewRecord, previous: SharedViewRecord? = nil, at: String) {
        self.id = id
        self.action = action
        self.record = record
        self.previous = previous
        self.at = at
    }
}

/// A request for a page of changes, in the order of their ids.
public struct SharedViewChangeRequest: Sendable, Hashable {
    /// Only changes after this change id.
    public var after: String?
    /// Only changes before this change id; the page is then the last `limit` of them.
    public var before: String?
    /// 1 to 10,000.
    public var limit: Int
    /// Only changes to records of these kinds (all kinds when nil).
    public var kinds: Set<SharedRecordKind>?

    public init(after: String? = nil, before: String? = nil, limit: Int = 100, kinds: Set<SharedRecordKind>? = nil) {
        self.after = after
        self.before = before
        self.limit = limit
        self.kinds = kinds
    }
}

public struct SharedViewChangePage: Sendable, Hashable {
    public var changes: [SharedViewChange]
    public var hasMoreAfter: Bool
    public var hasMoreBefore: Bool

    public init(changes: [SharedViewChange], hasMoreAfter: Bool, hasMoreBefore: Bool) {
        self.changes = changes
        self.hasMoreAfter = hasMoreAfter
        self.hasMoreBefore = hasMoreBefore
    }
}

/// The kinds of record a view holds: persons, sections, the district's orgs, academic
/// sessions and courses, and enrollments (a person in a section).
public enum SharedRecordKind: String, Sendable, CaseIterable {
    case student, teacher, administrator, aide, section
    case org, academicSession, course, enrollment
}

/// A request for one page of a view.
public struct SharedViewRequest: Sendable, Hashable {
    public var kind: SharedRecordKind
    public var cursor: SharedViewCursor?
    /// 1 to 10,000.
    public var limit: Int
    public var changedSince: Int64?
    /// The fields the connector will use (the field catalogue's names for persons): a person's
    /// record then carries only those of them the view holds, and the daemon does not read or
    /// build the others. Nil for every field the view holds. Which records a page holds, and
    /// their order, never depend on it.
    public var fields: Set<String>?

    public init(kind: SharedRecordKind, cursor: SharedViewCursor? = nil, limit: Int = 100, changedSince: Int64? = nil,
                fields: Set<String>? = nil) {
        self.kind = kind
        self.cursor = cursor
        self.limit = limit
        self.changedSince = changedSince
        self.fields = fields
    }
}

/// Where the next page starts. Opaque and sealed by the daemon: a connector may hand it to its
/// partner (as a paging token) and back, but cannot read or forge it.
public struct SharedViewCursor: Sendable, Hashable {
    public let token: String
    public init(token: String) { self.token = token }
}

/// A value of a field: one text, or a list.
public enum SharedFieldValue: Sendable, Hashable {
    case text(String)
    case list([String])
}

/// One record as the partner may receive it.
public struct SharedViewRecord: Sendable, Hashable {
    public var id: String
    public var kind: SharedRecordKind
    /// Only the granted fields, by the field catalogue's names (see the README); for the
    /// other kinds, the names the README lists for each.
    public var fields: SharedFields
    /// The roster version (import id) that last changed the record.
    public var version: Int64

    public init(id: String, kind: SharedRecordKind, fields: SharedFields, version: Int64 = 0) {
        self.id = id
        self.kind = kind
        self.fields = fields
        self.version = version
    }

    public init(id: String, kind: SharedRecordKind, fields: [String: SharedFieldValue], version: Int64 = 0) {
        self.init(id: id, kind: kind, fields: SharedFields(fields), version: version)
    }
}

/// A record's fields by name, as a dictionary reads them (`fields["email"]`, `keys`, equality
/// whatever the order), but kept as a short list: a record holds a handful, so a name is found
/// by comparing names rather than by hashing it, and no table is built per record. A page's
/// records list their fields in the same order.
public struct SharedFields: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: SharedFieldValue)

    public private(set) var names: [String]
    public private(set) var values: [SharedFieldValue]

    /// `names[i]` holds `values[i]`; each name at most once.
    public init(names: [String], values: [SharedFieldValue]) {
        precondition(names.count == values.count, "a field list needs one value per name")
        self.names = names
        self.values = values
    }

    public init(_ dictionary: [String: SharedFieldValue]) {
        names = Array(dictionary.keys)
        values = names.map { dictionary[$0]! }
    }

    public init(dictionaryLiteral elements: (String, SharedFieldValue)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public subscript(name: String) -> SharedFieldValue? {
        get { names.firstIndex(of: name).map { values[$0] } }
        set {
            switch (names.firstIndex(of: name), newValue) {
            case (let index?, let value?): values[index] = value
            case (let index?, nil):
                names.remove(at: index)
                values.remove(at: index)
            case (nil, let value?):
                names.append(name)
                values.append(value)
            case (nil, nil): break
            }
        }
    }

    public var keys: [String] { names }
    public var count: Int { names.count }
    public var isEmpty: Bool { names.isEmpty }

    public func makeIterator() -> some IteratorProtocol<Element> {
        zip(names, values).lazy.map { (key: $0, value: $1) }.makeIterator()
    }

    /// The fields `isIncluded` keeps, in their order.
    public func filter(_ isIncluded: (Element) throws -> Bool) rethrows -> SharedFields {
        var kept = SharedFields(names: [], values: [])
        for (name, value) in zip(names, values) where try isIncluded((name, value)) {
            kept.names.append(name)
            kept.values.append(value)
        }
        return kept
    }

    /// As a dictionary.
    public var dictionary: [String: SharedFieldValue] {
        Dictionary(zip(names, values), uniquingKeysWith: { _, last in last })
    }

    /// The same names with the same values, in any order.
    public static func == (lhs: SharedFields, rhs: SharedFields) -> Bool {
        guard lhs.names.count == rhs.names.count else { return false }
        if lhs.names == rhs.names { return lhs.values == rhs.values }
        return zip(lhs.names, lhs.values).allSatisfy { rhs[$0] == $1 }
    }

    public func hash(into hasher: inout Hasher) {
        // Whatever the order: the pairs' own hashes, summed.
        hasher.combine(names.count)
        var sum = 0
        for (name, value) in zip(names, values) {
            var pair = Hasher()
            pair.combine(name)
            pair.combine(value)
            sum &+= pair.finalize()
        }
        hasher.combine(sum)
    }
}

public struct SharedViewPage: Sendable, Hashable {
    public var records: [SharedViewRecord]
    /// nil on the last page.
    public var next: SharedViewCursor?

    public init(records: [SharedViewRecord], next: SharedViewCursor?) {
        self.records = records
        self.next = next
    }
}

/// Why a page cannot be read: a cursor that was not made by this view, a limit out of range,
/// a partner whose sharing stopped, or a store that failed.
public struct SharedViewError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidCursor, invalidLimit, notSharing, unavailable
    }
    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

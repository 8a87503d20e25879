import ConnectorKit
import Foundation

/// Who is in which section, from the view's enrollments: a section's `students`, a student's
/// teachers, a teacher's students. Each link keeps the enrollment it came from, so what a
/// response reveals through it is recorded as a disclosure of that enrollment.
struct EnrollmentIndex: Sendable {
    struct Link: Sendable, Hashable {
        var person: String
        var section: String
        var enrollment: String
    }

    /// Students by section, in id order.
    var students: [String: [Link]] = [:]
    /// Teachers by section, in id order.
    var teachers: [String: [Link]] = [:]
    /// Sections by person, for any role.
    var sections: [String: [Link]] = [:]
    /// The enrollment fields a link discloses: `user`, `section` and `role`, as far as the view
    /// carries them.
    var fields: Set<String> = []
    /// Whether the view holds enrollments at all: without them a section has no `students`.
    var isAvailable = false

    init() {}

    init(_ enrollments: [SharedViewRecord], fields viewFields: Set<String>) {
        isAvailable = !viewFields.isEmpty
        fields = viewFields.intersection(["user", "section", "role"])
        for record in enrollments {
            let values = RecordFields(record.fields)
            guard let person = values.text("user"), let section = values.text("section") else { continue }
            let link = Link(person: person, section: section, enrollment: record.id)
            sections[person, default: []].append(link)
            switch values.text("role") {
            case "student"?: students[section, default: []].append(link)
            case "teacher"?: teachers[section, default: []].append(link)
            default: break
            }
        }
        students = students.mapValues { $0.sorted { precedes($0.person, $1.person) } }
        teachers = teachers.mapValues { $0.sorted { precedes($0.person, $1.person) } }
    }
}

/// What the connector remembers per partner and roster version, for a minute: the view's
/// district (every object names it) and its enrollment index (every section lists its
/// students). Both are read whole once, not for every page of a sync. Kept a minute only: a
/// reload that narrows a partner's scope keeps the roster version, and a kept index would go on
/// listing a student who left the view until it is read again.
final class ViewFacts: @unchecked Sendable {
    // Sound: `entries` is read and written only while `lock` is held.
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private let lifetime: TimeInterval

    private struct Key: Hashable {
        var partner: String
        var rosterVersion: Int64
    }

    private struct Entry {
        var district: SharedViewRecord??
        var enrollments: EnrollmentIndex?
        var taken: Date
    }

    init(lifetime: TimeInterval = 60) {
        self.lifetime = lifetime
    }

    /// The view's district: the first org of type `district` in id order, or nil.
    func district(of view: any SharedView, now: Date = Date()) throws(SharedViewError) -> SharedViewRecord? {
        if let kept = entry(view, now)?.district { return kept }
        var found: SharedViewRecord?
        var after: String?
        scan: while true {
            let page = try view.idPage(SharedViewIdRequest(kind: .org, after: after, limit: 10_000))
            if let district = page.records.first(where: ObjectType.district.holds) {
                found = district
                break scan
            }
            guard page.hasMoreAfter, let last = page.records.last else { break }
            after = last.id
        }
        update(view, now) { $0.district = .some(found) }
        return found
    }

    /// The view's enrollment index (empty when the view holds no enrollments).
    func enrollments(of view: any SharedView, now: Date = Date()) throws(SharedViewError) -> EnrollmentIndex {
        if let kept = entry(view, now)?.enrollments { return kept }
        let fields = view.fields(of: .enrollment)
        var records: [SharedViewRecord] = []
        if !fields.isEmpty {
            var after: String?
            while true {
                let page = try view.idPage(SharedViewIdRequest(kind: .enrollment, after: after, limit: 10_000))
                records += page.records
                guard page.hasMoreAfter, let last = page.records.last else { break }
                after = last.id
            }
        }
        let index = EnrollmentIndex(records, fields: fields)
        update(view, now) { $0.enrollments = index }
        return index
    }

    private func entry(_ view: any SharedView, _ now: Date) -> Entry? {
        lock.withLock {
            guard let entry = entries[Key(partner: view.partner, rosterVersion: view.rosterVersion)],
                  now.timeIntervalSince(entry.taken) < lifetime else { return nil }
            return entry
        }
    }

    private func update(_ view: any SharedView, _ now: Date, _ change: (inout Entry) -> Void) {
        let key = Key(partner: view.partner, rosterVersion: view.rosterVersion)
        lock.withLock {
            entries = entries.filter { now.timeIntervalSince($0.value.taken) < lifetime }
            var entry = entries[key] ?? Entry(taken: now)
            change(&entry)
            entries[key] = entry
        }
    }
}

import ConnectorKit
import Foundation
import Synchronization

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

    init(fields viewFields: Set<String>) {
        isAvailable = !viewFields.isEmpty
        fields = viewFields.intersection(["user", "section", "role"])
    }

    /// Adds `enrollments` (each once: a record already added is skipped).
    mutating func add(_ enrollments: [SharedViewRecord]) {
        for record in enrollments where seen.insert(record.id).inserted {
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

    /// The enrollments added so far.
    private var seen: Set<String> = []
    /// The sections and persons whose enrollments were read.
    var readSections: Set<String> = []
    var readPersons: Set<String> = []
}

/// What the connector remembers per partner and roster version, for a minute: the view's
/// district, which every object names. Kept a minute only: a reload that changes a partner's
/// scope keeps the roster version. Who is in which section is read per answer, for the sections
/// and persons it shows (``EnrollmentIndex``), never the whole view's enrollments.
final class ViewFacts: Sendable {
    private let entries = Mutex<[Key: (district: SharedViewRecord?, taken: Date)]>([:])
    private let lifetime: TimeInterval

    private struct Key: Hashable {
        var partner: String
        var rosterVersion: Int64
    }

    init(lifetime: TimeInterval = 60) {
        self.lifetime = lifetime
    }

    /// The view's district: the first org of type `district` in id order, or nil.
    func district(of view: any SharedView, now: Date = Date()) throws(SharedViewError) -> SharedViewRecord? {
        let key = Key(partner: view.partner, rosterVersion: view.rosterVersion)
        if let kept = entries.withLock({ $0[key] }), now.timeIntervalSince(kept.taken) < lifetime { return kept.district }
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
        entries.withLock { kept in
            kept = kept.filter { now.timeIntervalSince($0.value.taken) < lifetime }
            kept[key] = (found, now)
        }
        return found
    }
}

import Foundation
import StewardCore

/// What each applied import changed, read back for partners' change feeds (Clever's events):
/// the records it added (still in the roster, by `created_import`), and those it changed or
/// removed (from `import_changes`, with their columns before the import).
public enum ChangeRecords {
    /// How long a change keeps the record's columns before the import, and how far back a
    /// change feed reaches: the days partners are given to poll, after which the previous
    /// values of a changed or removed record are forgotten.
    public static let retentionDays = 30

    /// An applied import: its id (the import id records carry as their version) and when it
    /// finished, as stored (`2026-11-29T17:24:45.561Z`) and to the second.
    public struct AppliedImport: Sendable, Equatable {
        public var id: Int64
        public var finishedAt: String
        /// The roster version it made, and the one it changed (0 for the first).
        public var rosterVersion: Int64
        public var previousRosterVersion: Int64
        public var at: String { finishedAt.count >= 19 ? String(finishedAt.prefix(19)) + "Z" : finishedAt }
    }

    /// Every applied import, oldest first.
    public static func appliedImports(db: Database) throws(StewardError) -> [AppliedImport] {
        let query = try db.prepare("SELECT id, finished_at, roster_version FROM imports WHERE verdict = 'applied' ORDER BY id")
        var imports: [AppliedImport] = []
        while try query.step() {
            imports.append(AppliedImport(id: query.int(0), finishedAt: query.text(1) ?? "", rosterVersion: query.int(2),
                                         previousRosterVersion: imports.last?.rosterVersion ?? 0))
        }
        return imports
    }

    /// Forgets the previous columns of changes made by imports that finished before `cutoff`
    /// (a stored timestamp): a removed student's record does not outlive the feed's window.
    public static func forgetPrevious(before cutoff: String, db: Database) throws(StewardError) {
        try db.prepare("""
            UPDATE import_changes SET previous = '' WHERE previous <> ''
            AND import_id IN (SELECT id FROM imports WHERE finished_at < ?)
            """).run([.text(cutoff)])
    }

    /// One record an import touched, as a change feed sees it: persons (`users`, with their
    /// demographics), sections (`classes`, with their enrollments), orgs, academic sessions and
    /// courses.
    public struct Entry: Sendable, Equatable {
        public enum Action: String, Sendable { case added, changed, removed }
        /// `users`, `classes`, `orgs`, `academicSessions` or `courses`.
        public var entity: RosterEntity
        public var sourcedId: String
        public var action: Action
        /// The record's own columns before the import (changed and removed records).
        public var previous: [String: String]?
        /// For persons: their demographics row before the import, when the import changed it
        /// (empty when they had none).
        public var previousDemographics: [String: String]?
        /// For a section whose enrollments changed: the persons whose enrollments in it changed.
        public var members: Set<String> = []
        /// For a person: the sections the import enrolled them in, and those it took them out of.
        public var sectionsAdded: Set<String> = []
        public var sectionsRemoved: Set<String> = []
    }

    /// The entities whose records a change feed reports; demographics are reported as changes
    /// to their person, enrollments as changes to their person and their section.
    static let reported: [RosterEntity] = [.orgs, .academicSessions, .courses, .classes, .users]

    /// The records import `id` touched, one entry per record.
    public static func entries(ofImport id: Int64, db: Database) throws(StewardError) -> [Entry] {
        var entries: [String: Entry] = [:]
        func key(_ entity: RosterEntity, _ sourcedId: String) -> String { entity.rawValue + "\u{0}" + sourcedId }
        func merge(_ entry: Entry) {
            let key = key(entry.entity, entry.sourcedId)
            guard var existing = entries[key] else { entries[key] = entry; return }
            existing.previousDemographics = existing.previousDemographics ?? entry.previousDemographics
            existing.members.formUnion(entry.members)
            existing.sectionsAdded.formUnion(entry.sectionsAdded)
            existing.sectionsRemoved.formUnion(entry.sectionsRemoved)
            entries[key] = existing
        }
        // Records this import added and the roster still holds.
        for entity in reported {
            let query = try db.prepare("SELECT \"sourcedId\" FROM \(RosterTables.table(entity)) WHERE created_import = ?")
            try query.bind([.int(id)])
            while try query.step() { merge(Entry(entity: entity, sourcedId: query.text(0) ?? "", action: .added)) }
        }
        // Records it changed or removed, and the persons and sections whose demographics or
        // enrollments it touched.
        let query = try db.prepare("SELECT entity, sourced_id, kind, previous FROM import_changes WHERE import_id = ? ORDER BY entity, sourced_id")
        try query.bind([.int(id)])
        var enrollmentSections: [String: Set<String>] = [:]
        var added: [String: Set<String>] = [:], removed: [String: Set<String>] = [:]
        var demographicPersons: [String: [String: String]] = [:]
        while try query.step() {
            guard let entity = RosterEntity(rawValue: query.text(0) ?? ""), let action = Entry.Action(rawValue: query.text(2) ?? "") else { continue }
            let sourcedId = query.text(1) ?? ""
            let previous = decode(query.text(3) ?? "")
            switch entity {
            case .demographics:
                demographicPersons[sourcedId] = previous ?? [:]
            case .enrollments:
                // A changed enrollment may have moved to another class: the one it named before
                // is left (the one it names now is read below, as changed by this import).
                if let section = previous?["classSourcedId"], let person = previous?["userSourcedId"] {
                    enrollmentSections[section, default: []].insert(person)
                    removed[person, default: []].insert(section)
                }
            default:
                if reported.contains(entity) { merge(Entry(entity: entity, sourcedId: sourcedId, action: action, previous: previous)) }
            }
        }
        // Demographics or enrollments this import added or changed.
        let demographics = try db.prepare("SELECT \"sourcedId\" FROM roster_demographics WHERE created_import = ?1 OR modified_import = ?1")
        try demographics.bind([.int(id)])
        while try demographics.step() {
            let person = demographics.text(0) ?? ""
            if demographicPersons[person] == nil { demographicPersons[person] = [:] }
        }
        let enrollments = try db.prepare("""
            SELECT "classSourcedId", "userSourcedId" FROM roster_enrollments WHERE created_import = ?1 OR modified_import = ?1
            """)
        try enrollments.bind([.int(id)])
        while try enrollments.step() {
            let section = enrollments.text(0) ?? "", person = enrollments.text(1) ?? ""
            enrollmentSections[section, default: []].insert(person)
            // In the class now: if the import removed it from the same class, nothing changed.
            if removed[person]?.remove(section) == nil { added[person, default: []].insert(section) }
        }
        for (person, previous) in demographicPersons {
            merge(Entry(entity: .users, sourcedId: person, action: .changed, previousDemographics: previous))
        }
        // A person whose enrollments changed may have entered or left a view scoped by sections.
        for person in Set(added.keys).union(removed.keys) {
            merge(Entry(entity: .users, sourcedId: person, action: .changed, sectionsAdded: added[person] ?? [],
                        sectionsRemoved: removed[person] ?? []))
        }
        for (section, members) in enrollmentSections {
            merge(Entry(entity: .classes, sourcedId: section, action: .changed, members: members))
        }
        return Array(entries.values)
    }

    /// A `previous` column: a JSON object of text values; nil when empty.
    static func decode(_ text: String) -> [String: String]? {
        guard !text.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return object.compactMapValues { $0 as? String }
    }
}

import Foundation
import StewardCore

/// What each applied import changed, read back for partners' change feeds (Clever's events):
/// the records it added (still in the roster, by `created_import`), and those it changed or
/// removed (from `import_changes`, with their columns before the import).
public enum ChangeRecords {
    /// An applied import: its id (the roster version it made) and when it finished, as
    /// ISO 8601 UTC to the second.
    public struct AppliedImport: Sendable, Equatable {
        public var id: Int64
        public var at: String
    }

    /// Every applied import, oldest first.
    public static func appliedImports(db: Database) throws(StewardError) -> [AppliedImport] {
        let query = try db.prepare("SELECT id, finished_at FROM imports WHERE verdict = 'applied' ORDER BY id")
        var imports: [AppliedImport] = []
        while try query.step() {
            let text = query.text(1) ?? ""
            imports.append(AppliedImport(id: query.int(0), at: text.count >= 19 ? String(text.prefix(19)) + "Z" : text))
        }
        return imports
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
    }

    /// The entities whose records a change feed reports; demographics and enrollments are
    /// reported as changes to their person and section.
    static let reported: [RosterEntity] = [.orgs, .academicSessions, .courses, .classes, .users]

    /// The records import `id` touched, one entry per record.
    public static func entries(ofImport id: Int64, db: Database) throws(StewardError) -> [Entry] {
        var entries: [String: Entry] = [:]
        func key(_ entity: RosterEntity, _ sourcedId: String) -> String { entity.rawValue + "\u{0}" + sourcedId }
        func merge(_ entry: Entry) {
            let key = key(entry.entity, entry.sourcedId)
            guard var existing = entries[key] else { entries[key] = entry; return }
            existing.previousDemographics = existing.previousDemographics ?? entry.previousDemographics
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
        var enrollmentSections: Set<String> = []
        var demographicPersons: [String: [String: String]] = [:]
        while try query.step() {
            guard let entity = RosterEntity(rawValue: query.text(0) ?? ""), let action = Entry.Action(rawValue: query.text(2) ?? "") else { continue }
            let sourcedId = query.text(1) ?? ""
            let previous = decode(query.text(3) ?? "")
            switch entity {
            case .demographics:
                demographicPersons[sourcedId] = previous ?? [:]
            case .enrollments:
                if let section = previous?["classSourcedId"] { enrollmentSections.insert(section) }
            default:
                if reported.contains(entity) { merge(Entry(entity: entity, sourcedId: sourcedId, action: action, previous: previous)) }
            }
        }
        // Demographics or enrollments this import added.
        for (table, column) in [("roster_demographics", "sourcedId"), ("roster_enrollments", "classSourcedId")] {
            let added = try db.prepare("SELECT DISTINCT \"\(column)\" FROM \(table) WHERE created_import = ?1 OR modified_import = ?1")
            try added.bind([.int(id)])
            while try added.step() {
                let sourcedId = added.text(0) ?? ""
                if table == "roster_demographics" { if demographicPersons[sourcedId] == nil { demographicPersons[sourcedId] = [:] } }
                else { enrollmentSections.insert(sourcedId) }
            }
        }
        for (person, previous) in demographicPersons {
            merge(Entry(entity: .users, sourcedId: person, action: .changed, previousDemographics: previous))
        }
        for section in enrollmentSections { merge(Entry(entity: .classes, sourcedId: section, action: .changed)) }
        return Array(entries.values)
    }

    /// A `previous` column: a JSON object of text values; nil when empty.
    static func decode(_ text: String) -> [String: String]? {
        guard !text.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return object.compactMapValues { $0 as? String }
    }
}

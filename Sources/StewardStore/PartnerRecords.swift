import Foundation
import StewardCore

/// Partners' recorded states and Library adoptions: every change is written in the same
/// transaction as its audit entry.
public enum PartnerRecords {
    /// Every partner's last recorded state.
    public static func states(_ db: Database) throws(StewardError) -> [String: (state: String, since: String)] {
        let query = try db.prepare("SELECT partner, state, since FROM partner_states")
        var states: [String: (state: String, since: String)] = [:]
        while try query.step() { states[query.text(0) ?? ""] = (query.text(1) ?? "", query.text(2) ?? "") }
        return states
    }

    /// Records `state` for `partner` with its audit entry; a removed partner's row is deleted.
    public static func record(_ partner: String, state: String?, audit event: AuditEvent, db: Database) throws(StewardError) {
        if let state {
            try db.prepare("""
                INSERT INTO partner_states (partner, state, since) VALUES (?, ?, ?)
                ON CONFLICT (partner) DO UPDATE SET state = excluded.state, since = excluded.since
                """).run([.text(partner), .text(state), .text(Timestamp.string(Date()))])
        } else {
            try db.prepare("DELETE FROM partner_states WHERE partner = ?").run([.text(partner)])
        }
        _ = try AuditLog.append(event, in: db)
    }

    /// The adoptions of `partner`, or of every partner when nil, by partner and section.
    public static func adoptions(partner: String?, db: Database) throws(StewardError) -> [LibraryAdoption] {
        let query = try db.prepare("""
            SELECT partner, section, teacher, adopted_at, adopted_by FROM library_adoptions
            WHERE ?1 IS NULL OR partner = ?1 ORDER BY partner, section, teacher
            """)
        try query.bind([.optional(partner)])
        var adoptions: [LibraryAdoption] = []
        while try query.step() {
            adoptions.append(LibraryAdoption(partner: query.text(0) ?? "", section: query.text(1) ?? "", teacher: query.text(2) ?? "",
                                             adoptedAt: query.text(3) ?? "", adoptedBy: query.optionalInt(4)))
        }
        return adoptions
    }

    /// The sections a Library partner's view holds: those adopted by a teacher who still teaches
    /// the section in the current roster. A teacher who leaves takes their adoptions with them.
    public static func adoptedSections(partner: String, db: Database) throws(StewardError) -> Set<String> {
        let query = try db.prepare("""
            SELECT DISTINCT a.section FROM library_adoptions a JOIN roster_enrollments e
              ON e."classSourcedId" = a.section AND e."userSourcedId" = a.teacher AND e."role" = 'teacher'
            WHERE a.partner = ?
            """)
        try query.bind([.text(partner)])
        var sections = Set<String>()
        while try query.step() { sections.insert(query.text(0) ?? "") }
        return sections
    }

    /// Adds (or, with `adopt` false, removes) an adoption, with its audit entry. Returns whether
    /// anything changed.
    @discardableResult
    public static func setAdoption(_ adoption: LibraryAdoption, adopt: Bool, audit event: AuditEvent,
                                   db: Database) throws(StewardError) -> Bool {
        if adopt {
            try db.prepare("""
                INSERT INTO library_adoptions (partner, section, teacher, adopted_at, adopted_by) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (partner, section, teacher) DO NOTHING
                """).run([.text(adoption.partner), .text(adoption.section), .text(adoption.teacher), .text(adoption.adoptedAt),
                          .optional(adoption.adoptedBy)])
        } else {
            // A teacher removes their own adoption; a co-teacher's stays.
            try db.prepare("DELETE FROM library_adoptions WHERE partner = ? AND section = ? AND teacher = ?")
                .run([.text(adoption.partner), .text(adoption.section), .text(adoption.teacher)])
        }
        let changed = db.changes
        _ = try AuditLog.append(event, in: db)
        return changed > 0
    }

    /// Whether `teacher` teaches `section` in the roster: (teacher exists, section exists, teaches it).
    public static func teaching(teacher: String, section: String, db: Database) throws(StewardError) -> (teacher: Bool, section: Bool, teaches: Bool) {
        let teacherExists = try db.prepare("SELECT 1 FROM roster_users WHERE \"sourcedId\" = ? AND \"role\" = 'teacher'")
            .bind([.text(teacher)]).step()
        let sectionExists = try db.prepare("SELECT 1 FROM roster_classes WHERE \"sourcedId\" = ?").bind([.text(section)]).step()
        let teaches = try db.prepare("""
            SELECT 1 FROM roster_enrollments WHERE "userSourcedId" = ? AND "classSourcedId" = ? AND "role" = 'teacher'
            """).bind([.text(teacher), .text(section)]).step()
        return (teacherExists, sectionExists, teaches)
    }
}

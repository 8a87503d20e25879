import Foundation
import StewardCore
import StewardStore

/// The history of imports in the store: one row per import with its report, its findings, and
/// (for an applied import) its change set.
public enum ImportRecords {
    static func insert(_ report: ImportReport, db: Database) throws(StewardError) -> Int64 {
        try db.prepare("""
            INSERT INTO imports(started_at, finished_at, source, oneroster, verdict, roster_version, errors, warnings, report)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}')
            """).run([.text(report.startedAt), .text(report.finishedAt), .text(report.source), .text(report.oneRosterVersion),
                      .text(report.verdict.rawValue), .int(report.rosterVersion), .int(Int64(report.errors)),
                      .int(Int64(report.warnings))])
        return db.lastInsertRowID
    }

    /// Stores the final report and findings of import `report.importId`.
    static func finalize(_ report: ImportReport, findings: [Finding], db: Database) throws(StewardError) {
        guard let id = report.importId else { return }
        try db.prepare("UPDATE imports SET finished_at = ?, errors = ?, warnings = ?, report = ? WHERE id = ?")
            .run([.text(report.finishedAt), .int(Int64(report.errors)), .int(Int64(report.warnings)), .text(encode(report)), .int(id)])
        let insert = try db.prepare("""
            INSERT INTO import_findings(import_id, seq, severity, code, file, line, col, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (seq, finding) in findings.enumerated() {
            try insert.run([.int(id), .int(Int64(seq)), .text(finding.severity.rawValue), .text(finding.code.rawValue),
                            .text(finding.file), .int(Int64(finding.line)), .int(Int64(finding.column)), .text(finding.message)])
        }
    }

    static func setVerdict(_ verdict: ImportReport.Verdict, of id: Int64, db: Database) throws(StewardError) {
        guard var report = try load(id, db: db) else { return }
        report.verdict = verdict
        try db.prepare("UPDATE imports SET verdict = ?, report = ? WHERE id = ?")
            .run([.text(verdict.rawValue), .text(encode(report)), .int(id)])
    }

    static func setHeldCopy(_ path: String, of id: Int64, db: Database) throws(StewardError) {
        try db.prepare("UPDATE imports SET held_copy = ? WHERE id = ?").run([.text(path), .int(id)])
    }

    /// The report of import `id`.
    public static func load(_ id: Int64, db: Database) throws(StewardError) -> ImportReport? {
        let statement = try db.prepare("SELECT report FROM imports WHERE id = ?")
        try statement.bind([.int(id)])
        guard try statement.step(), let text = statement.text(0) else { return nil }
        return try? JSONDecoder().decode(ImportReport.self, from: Data(text.utf8))
    }

    /// The held copy kept for import `id`, when it is held.
    public static func heldCopy(_ id: Int64, db: Database) throws(StewardError) -> (verdict: String, path: String?)? {
        let statement = try db.prepare("SELECT verdict, held_copy FROM imports WHERE id = ?")
        try statement.bind([.int(id)])
        guard try statement.step() else { return nil }
        return (statement.text(0) ?? "", statement.text(1))
    }

    /// The last `limit` imports, newest first.
    public static func history(limit: Int, db: Database) throws(StewardError) -> [ImportReport] {
        let statement = try db.prepare("SELECT report FROM imports ORDER BY id DESC LIMIT ?")
        try statement.bind([.int(Int64(limit))])
        var reports: [ImportReport] = []
        while try statement.step() {
            if let text = statement.text(0), let report = try? JSONDecoder().decode(ImportReport.self, from: Data(text.utf8)) {
                reports.append(report)
            }
        }
        return reports
    }

    /// Marks a held import discarded and forgets its copy, inside the caller's transaction.
    public static func discard(_ id: Int64, audit: AuditEvent, db: Database) throws(StewardError) {
        try setVerdict(.discarded, of: id, db: db)
        try db.prepare("UPDATE imports SET held_copy = NULL WHERE id = ?").run([.int(id)])
        try AuditLog.append(audit, in: db)
    }

    static func encode(_ report: ImportReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension RosterCounts {
    /// Counts the stored roster.
    public static func read(_ db: Database) throws(StewardError) -> RosterCounts {
        func count(_ sql: String) throws(StewardError) -> Int { Int(try db.scalarInt(sql) ?? 0) }
        let roles = "SELECT count(*) FROM roster_users WHERE \"role\""
        return RosterCounts(
            version: try ImportRun.rosterVersion(db),
            schools: try count("SELECT count(*) FROM roster_orgs WHERE \"type\" = 'school'"),
            terms: try count("SELECT count(*) FROM roster_academicSessions WHERE \"type\" IN ('term', 'semester')"),
            courses: try count("SELECT count(*) FROM roster_courses"),
            sections: try count("SELECT count(*) FROM roster_classes"),
            students: try count("\(roles) = 'student'"),
            teachers: try count("\(roles) = 'teacher'"),
            otherStaff: try count("\(roles) IN ('administrator', 'aide', 'proctor', 'counselor', 'principal', 'districtAdministrator', 'siteAdministrator', 'systemAdministrator')"),
            guardians: try count("\(roles) IN ('guardian', 'parent', 'relative')"),
            enrollments: try count("SELECT count(*) FROM roster_enrollments"))
    }
}

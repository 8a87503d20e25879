/// What happened to one drop: the verdict, what was read, what changed and what was found.
/// Shared by the importer, the control socket and `stewardctl`, and kept with the import record.
public struct ImportReport: Sendable, Codable, Equatable {
    public enum Verdict: String, Sendable, Codable {
        /// Applied; the roster has a new version.
        case applied
        /// Valid, and identical to the stored roster: nothing to apply, no new version.
        case unchanged
        /// At least one error: nothing applied; the stored roster is untouched.
        case rejected
        /// Stopped by the mass-change guard; a steward releases or discards it.
        case held
        /// A held import that a steward released (the release is an import of its own).
        case released
        /// A held import that a steward discarded.
        case discarded
    }

    /// One rostering file read.
    public struct FileSummary: Sendable, Codable, Equatable {
        public var file: String
        public var mode: String
        public var rows: Int
        public init(file: String, mode: String, rows: Int) {
            self.file = file
            self.mode = mode
            self.rows = rows
        }
    }

    /// What a drop adds, changes and removes in one file's records.
    public struct Changes: Sendable, Codable, Equatable {
        public var added = 0
        public var changed = 0
        public var removed = 0
        public init(added: Int = 0, changed: Int = 0, removed: Int = 0) {
            self.added = added
            self.changed = changed
            self.removed = removed
        }
        public var isEmpty: Bool { added == 0 && changed == 0 && removed == 0 }
    }

    /// The mass-change guard's arithmetic, when a bulk drop removes records.
    public struct GuardCheck: Sendable, Codable, Equatable {
        public var currentStudents: Int
        public var removedStudents: Int
        public var currentSections: Int
        public var removedSections: Int
        /// The largest share of current students or sections a drop may remove (0.10 = 10%).
        public var limit: Double
        public var tripped: Bool
        public init(currentStudents: Int, removedStudents: Int, currentSections: Int, removedSections: Int, limit: Double, tripped: Bool) {
            self.currentStudents = currentStudents
            self.removedStudents = removedStudents
            self.currentSections = currentSections
            self.removedSections = removedSections
            self.limit = limit
            self.tripped = tripped
        }
    }

    public var importId: Int64?
    public var verdict: Verdict
    /// True when nothing was written: the verdict says what a real import would have done.
    public var dryRun: Bool
    public var source: String
    public var oneRosterVersion: String
    public var startedAt: String
    public var finishedAt: String
    public var files: [FileSummary]
    /// Keyed by file name (`users.csv`).
    public var changes: [String: Changes]
    /// The findings, at most a few of each kind per file; `errors` and `warnings` count them all.
    public var findings: [Finding]
    public var errors: Int
    public var warnings: Int
    /// The roster's version after this import.
    public var rosterVersion: Int64
    public var massChangeGuard: GuardCheck?
    /// For a release: the held import it applies.
    public var releaseOf: Int64?

    public init(importId: Int64?, verdict: Verdict, dryRun: Bool, source: String, oneRosterVersion: String,
                startedAt: String, finishedAt: String, files: [FileSummary], changes: [String: Changes],
                findings: [Finding], errors: Int, warnings: Int, rosterVersion: Int64,
                massChangeGuard: GuardCheck?, releaseOf: Int64?) {
        self.importId = importId
        self.verdict = verdict
        self.dryRun = dryRun
        self.source = source
        self.oneRosterVersion = oneRosterVersion
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.files = files
        self.changes = changes
        self.findings = findings
        self.errors = errors
        self.warnings = warnings
        self.rosterVersion = rosterVersion
        self.massChangeGuard = massChangeGuard
        self.releaseOf = releaseOf
    }
}

extension ImportReport {
    /// What changed, per file, as `users.csv +3 ~1 -2` (added, changed, removed): counts only,
    /// for log lines and audit entries.
    public var changeSummary: [String] {
        changes.keys.sorted().compactMap { file in
            guard let change = changes[file], !change.isEmpty else { return nil }
            return "\(file) +\(change.added) ~\(change.changed) -\(change.removed)"
        }
    }
}

/// Progress of an import under way, streamed to `stewardctl import` on a terminal.
public struct ImportProgress: Sendable, Codable, Equatable {
    public var phase: String
    public var file: String
    public var rows: Int
    public var rowsPerSecond: Int
    public init(phase: String, file: String, rows: Int, rowsPerSecond: Int) {
        self.phase = phase
        self.file = file
        self.rows = rows
        self.rowsPerSecond = rowsPerSecond
    }
}

/// `steward.Roster.Summary`: what the stored roster holds.
public struct RosterCounts: Sendable, Codable, Equatable {
    public var version: Int64
    public var schools: Int
    public var terms: Int
    public var courses: Int
    public var sections: Int
    public var students: Int
    public var teachers: Int
    public var otherStaff: Int
    public var guardians: Int
    public var enrollments: Int

    public init(version: Int64, schools: Int, terms: Int, courses: Int, sections: Int, students: Int, teachers: Int,
                otherStaff: Int, guardians: Int, enrollments: Int) {
        self.version = version
        self.schools = schools
        self.terms = terms
        self.courses = courses
        self.sections = sections
        self.students = students
        self.teachers = teachers
        self.otherStaff = otherStaff
        self.guardians = guardians
        self.enrollments = enrollments
    }
}

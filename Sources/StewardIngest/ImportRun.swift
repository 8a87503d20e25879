import Foundation
import StewardCore
import StewardStore

/// One import under way: its findings, counts and staging, from the manifest to the verdict.
struct ImportRun {
    let options: ImportOptions
    let startedAt: String
    let progress: @Sendable (ImportProgress) -> Void
    /// Whether the daemon is stopping; checked between records and before applying.
    let isCancelled: @Sendable () -> Bool
    var findings = FindingLog()
    var version: OneRosterVersion = .v1_1
    /// Whether a manifest gave the version (a drop that could not be read has none).
    var versionKnown = false
    var modes: [RosterEntity: Manifest.Mode] = [:]
    var files: [ImportReport.FileSummary] = []
    var changes: [String: ImportReport.Changes] = [:]
    var guardCheck: ImportReport.GuardCheck?
    var rosterVersion: Int64 = 0
    /// Per file, where each binding column sits in its header (for findings' column numbers).
    var headerPositions: [RosterEntity: [Int?]] = [:]
    /// The sourcedIds of each bulk file read so far that others refer to: references to them are
    /// checked while reading, not by SQL afterwards.
    var bulkIds: [RosterEntity: Set<String>] = [:]

    init(options: ImportOptions, startedAt: String, progress: @escaping @Sendable (ImportProgress) -> Void,
         isCancelled: @escaping @Sendable () -> Bool) {
        self.isCancelled = isCancelled
        self.options = options
        self.startedAt = startedAt
        self.progress = progress
    }

    /// The whole import on the import connection; returns the report of what it did.
    mutating func perform(drop: any DropSource, db: Database) throws(StewardError) -> ImportReport {
        rosterVersion = try Self.rosterVersion(db)
        let names: [String]
        do { names = try drop.fileNames() } catch {
            findings.error(.unreadableDrop, drop.location, "\(error)")
            return try recordOutcome(.rejected, db: db)
        }
        guard let manifest = readManifest(drop, names: names) else { return try recordOutcome(.rejected, db: db) }
        version = manifest.version
        versionKnown = true
        checkFileList(names, manifest: manifest)
        // The staging tables stay until RosterImporter.discardStaging(), which the daemon calls
        // once the report is sent: dropping a large drop's tables overwrites them (secure_delete)
        // and the operator need not wait for that.
        try Staging.create(db, entities: RosterEntity.dependencyOrder)
        if let report = try importIntoEmptyRoster(drop: drop, names: names, manifest: manifest, db: db) { return report }
        // Staging and checking run in one read transaction: TEMP writes batch up instead of
        // committing row by row, and every check sees one snapshot of the stored roster. It takes
        // no write lock; the verdict's own transaction follows it.
        try db.execute("BEGIN")
        let verdict: ImportReport.Verdict
        do throws(StewardError) {
            verdict = try stageAndCheck(drop: drop, names: names, manifest: manifest, db: db)
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
        return try finish(verdict, db: db, drop: drop)
    }

    /// Reads every file into staging, checks it, works out the change set and the guard; returns
    /// the verdict the import deserves.
    private mutating func stageAndCheck(drop: any DropSource, names: [String], manifest: Manifest,
                                        db: Database) throws(StewardError) -> ImportReport.Verdict {
        for entity in RosterEntity.dependencyOrder where entity.exists(in: version) {
            let mode = manifest.mode(of: entity)
            guard mode != .absent, names.contains(entity.fileName) else { continue }
            modes[entity] = mode
            try stage(entity, mode: mode, drop: drop, db: db)
        }
        if version == .v1_2 && modes[.users] != nil { try Staging.fillRolesFromRoleRecords(db, rolesStaged: modes[.roles] != nil) }
        progress(ImportProgress(phase: "checking references", file: "", rows: 0, rowsPerSecond: 0))
        try checkReferences(db)
        guard !findings.hasErrors else { return .rejected }
        progress(ImportProgress(phase: "computing changes", file: "", rows: 0, rowsPerSecond: 0))
        changes = try Staging.computeChanges(db, modes: modes)
        for (entity, mode) in modes where mode == .delta {
            for (line, id) in try Staging.deletionsOfUnknown(db, entity: entity) {
                findings.warning(.deleteOfUnknown, entity.fileName, line: line, column: 1,
                                 "deletes \(id), which the roster does not hold; nothing to delete")
            }
        }
        try checkStoredDependents(db)
        guard !findings.hasErrors else { return .rejected }
        guardCheck = try massChangeGuard(db)
        if guardCheck?.tripped == true && options.releaseOf == nil { return .held }
        return changes.values.allSatisfy(\.isEmpty) ? .unchanged : .applied
    }

    // MARK: Manifest and file list

    private mutating func readManifest(_ drop: any DropSource, names: [String]) -> Manifest? {
        guard names.contains(OneRosterSchema.manifestFileName) else {
            findings.error(.missingFile, OneRosterSchema.manifestFileName, "the drop has no manifest.csv; OneRoster drops start with one")
            return nil
        }
        var records: [CSVRecord] = []
        var parser = CSVParser()
        var problems: [CSVProblem] = []
        do {
            try drop.read(OneRosterSchema.manifestFileName) { chunk in
                parser.feed(chunk, record: { records.append($0) }, problem: { problems.append($0) })
            }
            parser.finish(record: { records.append($0) }, problem: { problems.append($0) })
        } catch {
            findings.error(.unreadableDrop, OneRosterSchema.manifestFileName, "\(error)")
            return nil
        }
        for problem in problems { report(problem, file: OneRosterSchema.manifestFileName) }
        return Manifest.read(records, findings: &findings)
    }

    private mutating func checkFileList(_ names: [String], manifest: Manifest) {
        let rostering = Set(RosterEntity.allCases.filter { $0.exists(in: manifest.version) }.map(\.fileName))
        for name in names.sorted() where name != OneRosterSchema.manifestFileName {
            let base = name.hasSuffix(".csv") ? String(name.dropLast(4)) : name
            if OneRosterSchema.nonRosteringFiles.contains(base) {
                findings.warning(.skippedFile, name, "not a rostering file; skipped")
            } else if !rostering.contains(name) {
                findings.warning(.skippedFile, name, "not a OneRoster \(manifest.version.rawValue) rostering file; skipped")
            } else if let entity = RosterEntity(rawValue: base), manifest.mode(of: entity) == .absent {
                findings.warning(.skippedFile, name, "the manifest marks file.\(base) absent (or does not name it); skipped")
            }
        }
        for entity in RosterEntity.allCases where entity.exists(in: manifest.version) {
            if manifest.mode(of: entity) != .absent && !names.contains(entity.fileName) {
                findings.error(.missingFile, OneRosterSchema.manifestFileName,
                               "the manifest says file.\(entity.rawValue) is \(manifest.mode(of: entity).rawValue), but the drop has no \(entity.fileName)")
            }
        }
    }

    // MARK: Staging one file

    private mutating func stage(_ entity: RosterEntity, mode: Manifest.Mode, drop: any DropSource, db: Database) throws(StewardError) {
        let writer = try Staging.Writer(db, entity: entity, bindingColumns: OneRosterSchema.columns(entity, version))
        _ = try read(entity, mode: mode, drop: drop, into: writer, knownIds: bulkIds)
        for (line, id, first) in try writer.finish() {
            findings.error(.duplicateId, entity.fileName, line: line, column: fileColumn(entity, 0),
                           "sourcedId \(id) is also on line \(first); each record appears once")
        }
    }

    /// Reads, checks and writes one file with `writer`; false when the writer refused a record
    /// (a duplicate in a first import) and the reading stopped there. With `stopsAtFirstError`
    /// the reading stops at the first error too.
    private mutating func read(_ entity: RosterEntity, mode: Manifest.Mode, drop: any DropSource, into writer: Staging.Writer,
                               knownIds: [RosterEntity: Set<String>], stopsAtFirstError: Bool = false) throws(StewardError) -> Bool {
        let file = entity.fileName
        let stager = FileStager(entity: entity, file: file, mode: mode, columns: OneRosterSchema.columns(entity, version),
                                knownIds: knownIds, collectsIds: mode == .bulk && Self.referencedEntities.contains(entity),
                                progress: progress, isCancelled: isCancelled)
        let pipeline = StagingPipeline(drop: drop, file: file, stager: stager, stopsAtFirstError: stopsAtFirstError)
        var isWhole = true
        do throws(StewardError) {
            while isWhole, let batch = pipeline.next() {
                isWhole = try writer.insert(batch)
            }
        } catch {
            pipeline.cancel()
            _ = pipeline.finish()
            throw error
        }
        if !isWhole { pipeline.cancel() }
        let outcome = pipeline.finish()
        findings.absorb(outcome.findings)
        for problem in outcome.problems { report(problem, file: file) }
        if let failure = outcome.failure {
            if isCancelled() { throw StewardError(.storeFailed, failure) }
            findings.error(.unreadableDrop, file, failure)
        }
        if outcome.sawByteOrderMark {
            findings.warning(.byteOrderMark, file, line: 1, column: 1, "starts with a UTF-8 byte-order mark; read past it")
        }
        let header = outcome.stager.header
        if header == nil { findings.error(.missingColumn, file, "the file is empty: not even a header row") }
        if let ids = outcome.stager.ids { bulkIds[entity] = ids }
        headerPositions[entity] = header?.positions
        files.append(ImportReport.FileSummary(file: file, mode: mode.rawValue, rows: outcome.stager.rows))
        return isWhole
    }

    // MARK: A first import

    /// A first import (every roster table empty, every file of the drop bulk) writes each file's
    /// rows straight into its roster table, inside the one transaction that applies the drop,
    /// instead of staging them and copying them over. With nothing stored, every record is an
    /// addition, the guard has nothing to remove, and every reference is checked on the reading
    /// threads (a file the drop lacks names nothing). The price is the write lock, held while
    /// the drop is read, and an empty roster has no readers to keep waiting.
    ///
    /// At the first error the transaction is rolled back and the import starts again through
    /// staging, which names every finding in full (a duplicate's first line, for one). Returns
    /// nil when the drop is not a first import or goes back to staging.
    private mutating func importIntoEmptyRoster(drop: any DropSource, names: [String], manifest: Manifest,
                                                db: Database) throws(StewardError) -> ImportReport? {
        let entities = RosterEntity.dependencyOrder.filter {
            $0.exists(in: version) && manifest.mode(of: $0) != .absent && names.contains($0.fileName)
        }
        guard !options.dryRun, !findings.hasErrors, entities.allSatisfy({ manifest.mode(of: $0) == .bulk }),
              try Staging.rosterIsEmpty(db) else { return nil }
        let start = self
        try db.execute("BEGIN IMMEDIATE")
        do throws(StewardError) {
            // Asked again under the write lock, which the first answer did not hold.
            guard try Staging.rosterIsEmpty(db), let report = try loadIntoEmptyRoster(entities, drop: drop, db: db) else {
                try db.execute("ROLLBACK")
                self = start
                return nil
            }
            try db.execute("COMMIT")
            return report
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// The work of ``importIntoEmptyRoster(drop:names:manifest:db:)`` inside its transaction;
    /// nil to go back to staging.
    private mutating func loadIntoEmptyRoster(_ entities: [RosterEntity], drop: any DropSource,
                                              db: Database) throws(StewardError) -> ImportReport? {
        for entity in entities { modes[entity] = .bulk }
        guardCheck = try massChangeGuard(db)
        let id = try beginApplying(db)
        for entity in entities {
            try Staging.dropIndexes(of: entity, db)
            let writer = try Staging.Writer(db, entity: entity, bindingColumns: OneRosterSchema.columns(entity, version),
                                            target: .roster(importId: id))
            var known = bulkIds
            for absent in RosterEntity.allCases where modes[absent] == nil { known[absent] = [] }
            guard try read(entity, mode: .bulk, drop: drop, into: writer, knownIds: known, stopsAtFirstError: true),
                  !findings.hasErrors else { return nil }
        }
        for file in files { changes[file.file] = ImportReport.Changes(added: file.rows) }
        guard !changes.values.allSatisfy(\.isEmpty) else { return nil }
        if isCancelled() { throw StewardError(.storeFailed, "the import was abandoned: stewardd is stopping") }
        progress(ImportProgress(phase: "applying", file: "", rows: 0, rowsPerSecond: 0))
        if version == .v1_2 && modes[.users] != nil { try Staging.fillRolesOfRoster(db) }
        for entity in entities { try Staging.buildIndexes(of: entity, db) }
        return try recordApplied(id, db: db)
    }

    private mutating func report(_ problem: CSVProblem, file: String) {
        switch problem.kind {
        case .invalidUTF8:
            findings.error(.invalidUTF8, file, line: problem.line, column: problem.column, "the value is not valid UTF-8")
        case .unterminatedQuote:
            findings.error(.malformedCSV, file, line: problem.line, column: problem.column, "a quoted value is never closed")
        case .quoteInUnquotedField:
            findings.error(.malformedCSV, file, line: problem.line, column: problem.column,
                           "a quote inside an unquoted value; quote the whole value and double the quote")
        case .textAfterClosingQuote:
            findings.error(.malformedCSV, file, line: problem.line, column: problem.column,
                           "text after a closing quote; quote the whole value and double any quote inside it")
        case .recordTooLong:
            findings.error(.malformedCSV, file, line: problem.line, column: problem.column,
                           "a record longer than 1 MiB; is a quote left open?")
        }
    }

    // MARK: References

    /// Entities other files refer to.
    static let referencedEntities: Set<RosterEntity> = [.orgs, .academicSessions, .courses, .classes, .users, .userProfiles]

    /// References the reading threads could not check (to a delta or absent file, or within a
    /// delta file), resolved in SQL against the drop and the stored roster.
    private mutating func checkReferences(_ db: Database) throws(StewardError) {
        for entity in RosterEntity.dependencyOrder where modes[entity] != nil {
            for (index, column) in OneRosterSchema.columns(entity, version).enumerated() {
                if let target = column.kind.referencedEntity, bulkIds[target] != nil { continue }
                switch column.kind {
                case .reference(let target):
                    for (line, id, value) in try Staging.unresolvedReferences(db, entity: entity, column: column.name,
                                                                               target: target, targetMode: modes[target]) {
                        findings.error(.unresolvedReference, entity.fileName, line: line, column: fileColumn(entity, index),
                                       "\(column.name) of \(id) names \(target.rawValue) '\(value)', which is neither in this drop nor in the stored roster")
                    }
                case .referenceList(let target):
                    for (line, value) in try Staging.unresolvedListReferences(db, entity: entity, column: column.name,
                                                                               target: target, targetMode: modes[target]) {
                        findings.error(.unresolvedReference, entity.fileName, line: line, column: fileColumn(entity, index),
                                       "\(column.name) names \(target.rawValue) '\(value)', which is neither in this drop nor in the stored roster")
                    }
                default:
                    continue
                }
            }
        }
    }

    /// The 1-based column in `entity`'s file of the binding's column `index`.
    private func fileColumn(_ entity: RosterEntity, _ index: Int) -> Int {
        ((headerPositions[entity]?[index]) ?? index) + 1
    }

    /// Records this drop removes must not be named by stored records it leaves in place.
    private mutating func checkStoredDependents(_ db: Database) throws(StewardError) {
        for entity in RosterEntity.dependencyOrder where modes[entity] != .bulk {
            var checked = Set<String>()
            for spec in OneRosterSchema.columns(entity, .v1_2) + OneRosterSchema.columns(entity, .v1_1)
            where RosterTables.columns(entity).contains(spec.name) && checked.insert(spec.name).inserted {
                guard case .reference(let target) = spec.kind, (changes[target.fileName]?.removed ?? 0) > 0 else { continue }
                if let (count, example) = try Staging.storedRecordsNamingRemoved(db, entity: entity, column: spec.name,
                                                                                  target: target, entityStaged: modes[entity] != nil) {
                    findings.error(.unresolvedReference, entity.fileName,
                                   "\(count) stored \(entity.rawValue) record(s) (for example \(example)) still name \(target.rawValue) that this drop removes; send \(entity.fileName) too, or remove them in a delta")
                }
            }
        }
    }

    // MARK: The guard

    private func massChangeGuard(_ db: Database) throws(StewardError) -> ImportReport.GuardCheck? {
        guard modes[.users] == .bulk || modes[.classes] == .bulk else { return nil }
        let counts = try Staging.guardCounts(db)
        let limit = options.removalLimit
        let studentShare = counts.currentStudents > 0 ? Double(counts.removedStudents) / Double(counts.currentStudents) : 0
        let sectionShare = counts.currentSections > 0 ? Double(counts.removedSections) / Double(counts.currentSections) : 0
        return ImportReport.GuardCheck(
            currentStudents: counts.currentStudents, removedStudents: counts.removedStudents,
            currentSections: counts.currentSections, removedSections: counts.removedSections,
            limit: limit, tripped: studentShare > limit || sectionShare > limit)
    }

    // MARK: Verdicts

    /// Ends the import with `verdict`: applies it, or records why not. A dry run writes nothing.
    private mutating func finish(_ verdict: ImportReport.Verdict, db: Database, drop: any DropSource) throws(StewardError) -> ImportReport {
        if options.dryRun { return report(verdict, importId: nil) }
        if verdict == .applied { return try apply(db) }
        var outcome = try recordOutcome(verdict, db: db)
        if verdict == .held, let id = outcome.importId {
            outcome = try keepHeldCopy(of: drop, importId: id, report: outcome, db: db)
        }
        return outcome
    }

    /// Writes the import record, its findings and its audit entry, changing nothing else.
    mutating func recordOutcome(_ verdict: ImportReport.Verdict, db: Database) throws(StewardError) -> ImportReport {
        if options.dryRun { return report(verdict, importId: nil) }
        return try db.transaction { () throws(StewardError) in
            rosterVersion = try Self.rosterVersion(db)
            let id = try ImportRecords.insert(report(verdict, importId: nil), db: db)
            let final = report(verdict, importId: id)
            try ImportRecords.finalize(final, findings: final.findings, db: db)
            try AuditLog.append(auditEvent(final), in: db)
            return final
        }
    }

    private mutating func apply(_ db: Database) throws(StewardError) -> ImportReport {
        if isCancelled() { throw StewardError(.storeFailed, "the import was abandoned: stewardd is stopping") }
        progress(ImportProgress(phase: "applying", file: "", rows: 0, rowsPerSecond: 0))
        return try db.transaction { () throws(StewardError) in
            let id = try beginApplying(db)
            try Staging.apply(db, modes: modes, importId: id)
            return try recordApplied(id, db: db)
        }
    }

    /// Inside the transaction that applies the drop: the next roster version and the import's
    /// record, whose id the records it adds carry.
    private mutating func beginApplying(_ db: Database) throws(StewardError) -> Int64 {
        rosterVersion = try Self.rosterVersion(db) + 1
        return try ImportRecords.insert(report(.applied, importId: nil), db: db)
    }

    /// Once the roster holds the drop: its new version, the import's final report and findings,
    /// and its audit entry.
    private func recordApplied(_ id: Int64, db: Database) throws(StewardError) -> ImportReport {
        try Self.setRosterVersion(rosterVersion, db: db)
        let final = report(.applied, importId: id)
        try ImportRecords.finalize(final, findings: final.findings, db: db)
        if let held = options.releaseOf { try ImportRecords.setVerdict(.released, of: held, db: db) }
        try AuditLog.append(auditEvent(final), in: db)
        return final
    }

    private func keepHeldCopy(of drop: any DropSource, importId: Int64, report: ImportReport, db: Database) throws(StewardError) -> ImportReport {
        guard let directory = options.heldDirectory else { return report }
        let copy = directory + "/\(importId)-" + (drop.location as NSString).lastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: drop.location, toPath: copy)
        } catch {
            throw StewardError(.storeFailed, "cannot keep a copy of held import \(importId) in \(directory): \(error.localizedDescription)")
        }
        try db.transaction { () throws(StewardError) in try ImportRecords.setHeldCopy(copy, of: importId, db: db) }
        return report
    }

    func report(_ verdict: ImportReport.Verdict, importId: Int64?) -> ImportReport {
        ImportReport(importId: importId, verdict: verdict, dryRun: options.dryRun, source: options.source,
                     oneRosterVersion: versionKnown ? version.rawValue : "", startedAt: startedAt, finishedAt: Timestamp.string(Date()),
                     files: files, changes: changes, findings: findings.report(), errors: findings.errors,
                     warnings: findings.warnings, rosterVersion: rosterVersion, massChangeGuard: guardCheck,
                     releaseOf: options.releaseOf)
    }

    private func auditEvent(_ report: ImportReport) -> AuditEvent {
        var event = options.auditCaller
        event.target = "import \(report.importId.map(String.init) ?? "-")"
        event.outcome = report.verdict.rawValue
        event.detail = (["from \(report.source)", "\(report.errors) error(s), \(report.warnings) warning(s)",
                         "roster version \(report.rosterVersion)"]
            + (report.releaseOf.map { ["release of import \($0)"] } ?? []) + report.changeSummary).joined(separator: "; ")
        return event
    }

    static func rosterVersion(_ db: Database) throws(StewardError) -> Int64 {
        let statement = try db.prepare("SELECT value FROM settings WHERE key = 'roster.version'")
        return try statement.step() ? Int64(statement.text(0) ?? "0") ?? 0 : 0
    }

    static func setRosterVersion(_ version: Int64, db: Database) throws(StewardError) {
        try db.prepare("INSERT INTO settings(key, value) VALUES('roster.version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .run([.text(String(version))])
    }
}

import Foundation
import StewardCore
import StewardStore

/// What an import is asked to do.
public struct ImportOptions: Sendable {
    /// Shown in the history: the path given, or `inbox:NAME`.
    public var source: String
    /// Check and report only; write nothing.
    public var dryRun = false
    /// The mass-change guard: the largest share of current students or sections a bulk drop may
    /// remove before it is held (0.10 = 10%).
    public var removalLimit = 0.10
    /// A steward's release of a held import: the guard does not stop it again.
    public var releaseOf: Int64?
    /// Where a held drop is copied, to be applied when released.
    public var heldDirectory: String?
    /// Who asked, for the audit entry.
    public var auditCaller: AuditEvent

    public init(source: String, auditCaller: AuditEvent) {
        self.source = source
        self.auditCaller = auditCaller
    }
}

/// Reads a OneRoster drop, checks all of it, and applies it to the store in one transaction, or
/// not at all.
///
/// The drop is first staged in TEMP tables on the store's import connection, which takes no lock
/// on the roster: each file is parsed and checked on a reading thread (references to bulk files
/// read earlier checked there, against their id sets) while the connection stages the rows.
/// Duplicates, the remaining references and the change set are then worked out in SQL against
/// the stored roster. Only a drop with no errors, and not stopped by the mass-change guard, is applied, in
/// one `BEGIN IMMEDIATE` transaction that also writes the import record, its change set and its
/// audit entry. A first import (an empty roster, bulk files only) skips staging and writes its
/// rows straight into the roster inside that transaction. A crash at any instant leaves the
/// previous roster whole.
public final class RosterImporter: @unchecked Sendable {
    // Sound because an importer holds only immutable references; the work runs on the store's
    // import queue, one import at a time.
    private let store: Store
    private let progress: @Sendable (ImportProgress) -> Void

    public init(store: Store, progress: @escaping @Sendable (ImportProgress) -> Void = { _ in }) {
        self.store = store
        self.progress = progress
    }

    /// Drops the last import's staging tables, overwriting their pages (they hold student data).
    /// Call it after the report has gone out; the next import would do it first anyway.
    public func discardStaging() {
        try? store.withImportConnection { db throws(StewardError) in Staging.dropAll(db) }
    }

    /// Imports the drop at `path` (a folder or a .zip).
    public func run(path: String, options: ImportOptions) -> ImportReport {
        let started = Timestamp.string(Date())
        var run = ImportRun(options: options, startedAt: started, progress: progress,
                            isCancelled: { [store] in store.isImportCancelled })
        do {
            let drop = try openDrop(at: path)
            return try store.withImportConnection { db throws(StewardError) in
                do throws(StewardError) {
                    return try run.perform(drop: drop, db: db)
                } catch {
                    try? db.execute("ROLLBACK")
                    throw error
                }
            }
        } catch let error as DropError {
            run.findings.error(.unreadableDrop, (path as NSString).lastPathComponent, error.message)
            return (try? store.withImportConnection { db throws(StewardError) in try run.recordOutcome(.rejected, db: db) })
                ?? run.report(.rejected, importId: nil)
        } catch {
            run.findings.error(.unreadableDrop, (path as NSString).lastPathComponent, "the import failed: \(error)")
            return run.report(.rejected, importId: nil)
        }
    }
}

import Dispatch
import Foundation
import StewardControl
import StewardCore
import StewardIngest
import StewardStore

/// The roster methods of the control socket: import (streamed), history, release or discard of a
/// held import, and the roster's counts. Imports run on the daemon's import queue, one at a time,
/// never on the service queue.
extension Daemon {
    func performRoster(_ method: ControlMethod, request: ControlRequest, caller: Caller) throws -> ControlOutcome {
        switch method {
        case .rosterImport:
            let parameters = try Parameters.decode(RosterImportParameters.self, request, method, keys: ["path", "dryRun"])
            guard parameters.path.hasPrefix("/") else {
                throw InvalidParameter(parameter: "path", message: "give the drop's absolute path (stewardctl does this for you)")
            }
            var options = importOptions(source: parameters.path, event: AuditEvent(caller: caller, method: method.rawValue, outcome: ""))
            options.dryRun = parameters.dryRun ?? false
            return runImport(path: parameters.path, options: options, streamProgress: request.more == true)
        case .rosterImports:
            let parameters = try Parameters.decode(AuditListParameters.self, request, method, keys: ["limit"])
            let limit = min(max(parameters.limit ?? 50, 1), 1000)
            let history = try store.read { db throws(StewardError) in try ImportRecords.history(limit: limit, db: db) }
            return .replies([try .ok(ImportHistory(imports: history))])
        case .rosterShowImport:
            let id = try Parameters.decode(ImportIdParameters.self, request, method, keys: ["id"]).id
            guard let report = try store.read({ db throws(StewardError) in try ImportRecords.load(id, db: db) }) else {
                throw InvalidParameter(parameter: "id", message: "there is no import \(id); stewardctl imports lists them")
            }
            return .replies([try .ok(report)])
        case .rosterRelease:
            let id = try Parameters.decode(ImportIdParameters.self, request, method, keys: ["id"]).id
            let copy = try heldCopy(of: id)
            var options = importOptions(source: "release of import \(id)",
                                        event: AuditEvent(caller: caller, method: method.rawValue, outcome: ""))
            options.releaseOf = id
            return runImport(path: copy, options: options, streamProgress: request.more == true) { report in
                if report.verdict == .applied { try? FileManager.default.removeItem(atPath: copy) }
            }
        case .rosterDiscard:
            let id = try Parameters.decode(ImportIdParameters.self, request, method, keys: ["id"]).id
            let copy = try heldCopy(of: id)
            try store.write { db throws(StewardError) in
                try ImportRecords.discard(id, audit: AuditEvent(caller: caller, method: method.rawValue, target: "import \(id)",
                                                                outcome: "ok"), db: db)
            }
            try? FileManager.default.removeItem(atPath: copy)
            Log.info("import \(id) discarded by uid \(caller.peer.uid)")
            let report = try store.read { db throws(StewardError) in try ImportRecords.load(id, db: db) }
            return .replies([try .ok(report)])
        case .rosterSummary:
            try Parameters.none(request, method)
            return .replies([try .ok(store.read { db throws(StewardError) in try RosterCounts.read(db) })])
        default:
            throw InvalidParameter(parameter: "method", message: "not a roster method")
        }
    }

    func importOptions(source: String, event: AuditEvent) -> ImportOptions {
        var options = ImportOptions(source: source, auditCaller: event)
        options.removalLimit = configuration.massChangeLimit
        options.heldDirectory = configuration.stateDirectory + "/held"
        return options
    }

    /// The kept copy of held import `id`; an error when it is not held.
    private func heldCopy(of id: Int64) throws -> String {
        guard let held = try store.read({ db throws(StewardError) in try ImportRecords.heldCopy(id, db: db) }) else {
            throw InvalidParameter(parameter: "id", message: "there is no import \(id); stewardctl imports lists them")
        }
        guard held.verdict == ImportReport.Verdict.held.rawValue, let path = held.path else {
            throw InvalidParameter(parameter: "id", message: "import \(id) is \(held.verdict), not held")
        }
        return path
    }

    /// Runs an import on the import queue and pushes progress (when asked) and the report.
    private func runImport(path: String, options: ImportOptions, streamProgress: Bool,
                           then: @escaping @Sendable (ImportReport) -> Void = { _ in }) -> ControlOutcome {
        .pushed { [self] sink in
            importQueue.async { [self] in
                let importer = RosterImporter(store: store) { progress in
                    guard streamProgress, let reply = try? ControlReply.ok(RosterImportReply(progress: progress), continues: true) else { return }
                    sink.send(reply, isLast: false, droppable: true)
                }
                let report = importer.run(path: path, options: options)
                then(report)
                logImport(report)
                let reply = (try? ControlReply.ok(RosterImportReply(report: report)))
                    ?? .failure(.internalError, "the import report could not be encoded")
                sink.send(reply, isLast: true)
                tidyUp(after: importer)
            }
        }
    }

    /// After the answer is out: publish the partners' views for the new roster, drop the
    /// import's staging tables (overwriting them) and checkpoint the WAL, on the import queue,
    /// so none of it delays the operator.
    func tidyUp(after importer: RosterImporter) {
        // A Library adoption counts only while its teacher teaches the section: publish the
        // views again for the roster as it is now.
        serviceQueue.async { [self] in publishPartnerAccess() }
        importer.discardStaging()
        store.checkpoint()
    }

    /// One log line per import: its id, verdict and counts; never a value from the drop.
    func logImport(_ report: ImportReport) {
        let changes = report.changeSummary.joined(separator: ", ")
        let line = "import \(report.importId.map(String.init) ?? "(dry run)") from \(report.source): \(report.verdict.rawValue)"
            + (report.dryRun ? " (dry run)" : "") + "; \(report.errors) error(s), \(report.warnings) warning(s)"
            + (changes.isEmpty ? "" : "; \(changes)")
        switch report.verdict {
        case .rejected: Log.warning(line)
        case .held: Log.warning(line + "; held by the mass-change guard until a steward releases or discards it")
        default: Log.info(line)
        }
    }
}

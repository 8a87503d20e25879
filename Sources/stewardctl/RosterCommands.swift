#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardCore

extension Invocation {
    /// `import PATH [--dry-run]`: streams progress to a terminal, then prints the report.
    func importDrop(_ path: String) throws -> ExitCode {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let parameters = RosterImportParameters(path: absolute, dryRun: options["--dry-run"] != nil ? true : nil)
        let request = try ControlRequest(method: ControlMethod.rosterImport.rawValue, parameters: parameters, more: true)
        return try runImport(request)
    }

    func releaseImport(_ id: Int64) throws -> ExitCode {
        let request = try ControlRequest(method: ControlMethod.rosterRelease.rawValue, parameters: ImportIdParameters(id: id), more: true)
        return try runImport(request)
    }

    /// Sends an import-like request and prints its streamed progress and final report.
    private func runImport(_ request: ControlRequest) throws -> ExitCode {
        let showProgress = !json && isatty(2) == 1
        var report: ImportReport?
        do {
            try connect().stream(request) { reply in
                try Self.check(reply)
                let body = try reply.decode(RosterImportReply.self)
                if let progress = body.progress, showProgress {
                    let text = progress.file.isEmpty ? progress.phase
                        : "\(progress.phase) \(progress.file): \(progress.rows) rows, \(progress.rowsPerSecond) rows/s"
                    FileHandle.standardError.write(Data("\r\u{1b}[K\(text)".utf8))
                }
                if let final = body.report { report = final }
            }
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(exitCode: .unavailable, message: "\(error)")
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
        guard let report else { throw CommandFailure(exitCode: .software, message: "stewardd sent no report") }
        if json { printJSON(report) } else { print(ImportReportText.render(report), terminator: "") }
        switch report.verdict {
        case .rejected: return .dataError
        case .held: return .tempFail
        default: return .ok
        }
    }

    func importHistory() throws -> ExitCode {
        var parameters: [String: JSONValue] = [:]
        if let limit = options["--limit"], let count = Int(limit), count > 0 { parameters["limit"] = .number(Double(count)) }
        let history = try call(.rosterImports, ImportHistory.self, parameters: .object(parameters))
        if json { printJSON(history); return .ok }
        var table = Table(headers: ["ID", "FINISHED (UTC)", "SOURCE", "VERDICT", "VERSION", "ADDED", "CHANGED", "REMOVED", "ERRORS", "WARNINGS"])
        for report in history.imports {
            let totals = report.changes.values.reduce(into: ImportReport.Changes()) {
                $0.added += $1.added
                $0.changed += $1.changed
                $0.removed += $1.removed
            }
            table.rows.append([report.importId.map(String.init) ?? "-", report.finishedAt, report.source, report.verdict.rawValue,
                               String(report.rosterVersion), String(totals.added), String(totals.changed), String(totals.removed),
                               String(report.errors), String(report.warnings)])
        }
        print(table.render())
        return .ok
    }

    func showImport(_ id: Int64) throws -> ExitCode {
        let report = try call(.rosterShowImport, ImportReport.self, parameters: .object(["id": .number(Double(id))]))
        if json { printJSON(report) } else { print(ImportReportText.render(report), terminator: "") }
        return .ok
    }

    func discardImport(_ id: Int64) throws -> ExitCode {
        let report = try call(.rosterDiscard, ImportReport.self, parameters: .object(["id": .number(Double(id))]))
        if json { printJSON(report) } else { print("Import \(id) discarded; the stored roster is unchanged.") }
        return .ok
    }

    func rosterSummary() throws -> ExitCode {
        let counts = try call(.rosterSummary, RosterCounts.self)
        if json { printJSON(counts); return .ok }
        print("""
            Roster version \(counts.version)
              schools       \(counts.schools)
              terms         \(counts.terms)
              courses       \(counts.courses)
              sections      \(counts.sections)
              students      \(counts.students)
              teachers      \(counts.teachers)
              other staff   \(counts.otherStaff)
              guardians     \(counts.guardians)
              enrollments   \(counts.enrollments)
            """)
        return .ok
    }
}

extension Invocation {
    /// `partners check [FILE…]`: the daemon reads the files (with its loaded connector kinds)
    /// and names every unmet requirement.
    func partnersCheck(_ files: [String]) throws -> ExitCode {
        let absolute = files.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let parameters: JSONValue = absolute.isEmpty ? .object([:]) : .object(["files": .array(absolute.map(JSONValue.string))])
        let result = try call(.partnersCheck, PartnersCheckResult.self, parameters: parameters)
        if json { printJSON(result) }
        else if result.files.isEmpty { print("No partner files to check.") }
        else {
            for file in result.files {
                if file.problems.isEmpty { print("\(file.file): ok (\(file.partner ?? "?") meets the baseline on \(result.today))") }
                for problem in file.problems { print(problem) }
            }
        }
        return result.files.contains { !$0.problems.isEmpty } ? .checkFailed : .ok
    }
}

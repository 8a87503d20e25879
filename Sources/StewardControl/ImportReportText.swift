import StewardCore

/// An import report in words, as `stewardctl import` prints it and the inbox writes it beside
/// each drop.
public enum ImportReportText {
    public static func render(_ report: ImportReport) -> String {
        var lines: [String] = []
        let id = report.importId.map { "Import \($0)" } ?? "Dry run"
        let version = report.oneRosterVersion.isEmpty ? "" : " (OneRoster \(report.oneRosterVersion))"
        lines.append("\(id): \(verdictWords(report)) — \(report.source)\(version)")
        if !report.files.isEmpty {
            lines.append("")
            lines.append(pad("FILE", 22) + pad("MODE", 7) + pad("ROWS", 10) + pad("ADDED", 9) + pad("CHANGED", 9) + "REMOVED")
            for file in report.files {
                let change = report.changes[file.file] ?? ImportReport.Changes()
                lines.append(pad(file.file, 22) + pad(file.mode, 7) + pad(String(file.rows), 10) + pad(String(change.added), 9)
                             + pad(String(change.changed), 9) + String(change.removed))
            }
        }
        if let check = report.massChangeGuard, check.tripped {
            lines.append("")
            lines.append("Mass-change guard: the drop removes \(check.removedStudents) of \(check.currentStudents) students and "
                         + "\(check.removedSections) of \(check.currentSections) sections; the limit is \(Int((check.limit * 100).rounded()))%.")
            if let id = report.importId, !report.dryRun {
                lines.append("A steward releases it with: stewardctl imports release \(id)   (or discards it: stewardctl imports discard \(id))")
            }
        }
        lines.append("")
        lines.append("\(report.errors) error(s), \(report.warnings) warning(s); roster version \(report.rosterVersion)")
        lines += report.findings.map(\.description)
        return lines.joined(separator: "\n") + "\n"
    }

    static func verdictWords(_ report: ImportReport) -> String {
        let words: String
        switch report.verdict {
        case .applied: words = "APPLIED"
        case .unchanged: words = "UNCHANGED (identical to the stored roster; no new version)"
        case .rejected: words = "REJECTED (nothing applied; the stored roster is untouched)"
        case .held: words = "HELD by the mass-change guard (nothing applied yet)"
        case .released: words = "RELEASED"
        case .discarded: words = "DISCARDED"
        }
        return report.dryRun ? "would be " + words : words
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

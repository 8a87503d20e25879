import Foundation

/// What `ingest` measured, as the block of figures it prints, with the targets it holds them to.
struct IngestReport {
    var students: Int
    var oneRosterVersion: String
    /// Rostering files in the drop (the manifest not counted), and their size.
    var files: Int
    var bytes: UInt64
    var generationNanoseconds: UInt64
    var daemon: ImportTimeline
    /// The daemon's RSS just before the import, and its peak RSS just after.
    var daemonIdleBytes: UInt64
    var daemonPeakBytes: UInt64
    var shellNanoseconds: UInt64
    /// The scratch folder, when `--keep` asked to keep it.
    var keptFolder: String?

    /// The daemon should load rows at least this fraction as fast as the sqlite3 shell does.
    static let ratioTarget = 0.7
    /// The daemon's peak RSS should stay under this when it imports `memoryTargetStudents` students.
    static let memoryLimit: UInt64 = 1 << 30
    static let memoryTargetStudents = 1_000_000

    var rows: Int { daemon.rows }
    var daemonRowsPerSecond: Double { Double(rows) / seconds(daemon.elapsed) }
    var shellRowsPerSecond: Double { Double(rows) / seconds(shellNanoseconds) }
    var ratio: Double { daemonRowsPerSecond / shellRowsPerSecond }

    /// Below this many students a projection to `memoryTargetStudents` says too little to judge.
    static let smallestProjected = 100_000

    /// What the import added to the daemon's RSS at its peak.
    var importBytes: UInt64 { daemonPeakBytes - min(daemonIdleBytes, daemonPeakBytes) }

    /// The peak RSS at `memoryTargetStudents`: measured when that is what ran, otherwise the idle
    /// RSS plus what the import added, scaled linearly (a rough guide, and said to be one).
    var projectedPeakBytes: UInt64 {
        daemonIdleBytes + UInt64(Double(importBytes) * Double(Self.memoryTargetStudents) / Double(students))
    }

    var text: String {
        var lines = [
            "steward-bench ingest (N=\(students) students, OneRoster \(oneRosterVersion), \(StartupReport.buildKind))",
            "drop: \(Figure.grouped(rows)) rows in \(files) files, \(String(format: "%.0f", Double(bytes) / 1e6)) MB "
                + "(generated in \(String(format: "%.1f", seconds(generationNanoseconds))) s)",
            "stewardd import:  \(duration(daemon.elapsed))  \(rate(daemonRowsPerSecond)) rows/s  peak RSS \(Figure.mebibytes(daemonPeakBytes))",
            "  " + phaseLine,
            "sqlite3 CLI .import: \(duration(shellNanoseconds))  \(rate(shellRowsPerSecond)) rows/s  "
                + "(shell defaults: rollback journal, synchronous=FULL, one transaction per file, plain text tables)",
            "ratio: \(String(format: "%.2f", ratio))× the CLI (target ≥ \(Self.ratioTarget)×: \(verdict(ratio >= Self.ratioTarget)))   "
                + memoryLine,
        ]
        if let keptFolder { lines.append("kept: \(keptFolder)/drop and \(keptFolder)/sqlite3-shell.db") }
        return lines.joined(separator: "\n")
    }

    /// `reading 5.31 s (users.csv 2.98 s, …, rest 0.12 s)  references 0.76 s  changes 0.71 s  applying 2.88 s`
    private var phaseLine: String {
        daemon.phaseDurations.map { phase, nanoseconds in
            guard let nanoseconds else { return "\(phase.label) (no progress line)" }
            let text = "\(phase.label) \(duration(nanoseconds))"
            return phase == .reading ? text + readingDetail(of: nanoseconds) : text
        }.joined(separator: "  ")
    }

    /// The files that sent progress, longest first, and the rest of the reading phase: files read
    /// in under half a second, opening the drop, the manifest and the staging tables.
    private func readingDetail(of reading: UInt64) -> String {
        guard !daemon.files.isEmpty else { return "" }
        let spans = daemon.files.sorted { $0.nanoseconds > $1.nanoseconds }
        let measured = spans.reduce(0) { $0 + $1.nanoseconds }
        let rest = reading > measured ? reading - measured : 0
        let parts = spans.map { "\($0.file) \(duration($0.nanoseconds))" } + ["rest \(duration(rest))"]
        return " (" + parts.joined(separator: ", ") + ")"
    }

    private var memoryLine: String {
        let target = "peak RSS target < 1 GiB at 1M students:"
        if students == Self.memoryTargetStudents { return "\(target) \(verdict(daemonPeakBytes < Self.memoryLimit))" }
        guard students >= Self.smallestProjected else { return "\(target) not judged below N=\(Self.smallestProjected)" }
        let scale = Double(Self.memoryTargetStudents) / Double(students)
        return "\(target) \(verdict(projectedPeakBytes < Self.memoryLimit)) (projected \(Figure.mebibytes(projectedPeakBytes)): "
            + "idle \(Figure.mebibytes(daemonIdleBytes)) + the import's \(Figure.mebibytes(importBytes)) × \(String(format: "%g", scale)))"
    }

    private func verdict(_ isMet: Bool) -> String { isMet ? "PASS" : "MISS" }

    private func seconds(_ nanoseconds: UInt64) -> Double { max(Double(nanoseconds) / 1e9, 1e-9) }

    private func duration(_ nanoseconds: UInt64) -> String { String(format: "%.2f s", Double(nanoseconds) / 1e9) }

    /// A rate to three significant figures (89,000 rows/s), exact below 1,000.
    private func rate(_ value: Double) -> String {
        guard value >= 1000 else { return Figure.grouped(Int(value.rounded())) }
        let unit = pow(10, floor(log10(value)) - 2)
        return Figure.grouped(Int((value / unit).rounded() * unit))
    }
}

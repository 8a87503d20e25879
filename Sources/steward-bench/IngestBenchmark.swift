import Foundation
import StewardControl
import StewardCore
import StewardHarness

/// `steward-bench ingest`: how fast a fresh `stewardd` imports a synthetic district through the
/// control socket, phase by phase, how much memory it takes to do it, and how that compares with
/// the sqlite3 shell loading the same CSV files into plain tables.
struct IngestBenchmark {
    static let benchmark = Benchmark(
        name: "ingest",
        summary: """
            steward-gen writes a district; a fresh stewardd imports it (steward.Roster.Import): wall
            time, phases, rows/s, peak RSS; then the sqlite3 shell .imports the same CSV files with
            its defaults, the floor for loading those rows into SQLite
            """,
        options: [
            ("--students N", "students in the district (required)"),
            ("--seed S", "steward-gen's seed (default 1)"),
            ("--format F", "oneroster-1.1 (default) or oneroster-1.2"),
            ("--keep", "keep the scratch folder (the drop and the shell's database)"),
        ]
    ) { options in
        let students = try options.integer("--students", default: 0, in: 1...10_000_000)
        guard students > 0 else { throw BenchFailure.usage("ingest needs --students N") }
        let benchmark = IngestBenchmark(
            students: students,
            seed: try options.integer("--seed", default: 1, in: 0...Int.max),
            format: try options.choice("--format", default: "oneroster-1.1", among: ["oneroster-1.1", "oneroster-1.2"]),
            keep: options.flag("--keep"))
        try options.finish()
        print(try benchmark.measure().text)
    }

    var students: Int
    var seed: Int
    var format: String
    var keep: Bool

    func measure() throws -> IngestReport {
        let scratch: Sandbox
        do { scratch = try Sandbox(prefix: "steward-bench-ingest", modules: []) }
        catch { throw BenchFailure("could not make a scratch folder for the drop: \(error)") }
        if !keep { Leftovers.shared.add(scratch) }
        defer { if !keep { Leftovers.shared.remove(scratch) } }

        let drop = try GeneratedDrop.generate(students: students, seed: seed, format: format, into: scratch.root + "/drop")
        let (timeline, peak) = try FreshDaemon.run { daemon, _ in
            let timeline = try ImportTimeline.importDrop(drop.folder, client: try daemon.client())
            let peak = try ProcessStatus(pid: daemon.pid).peakResidentBytes
            try Self.checkApplied(timeline.report, daemonLog: daemon.log)
            return (timeline, peak)
        }
        let files = timeline.report.files.map(\.file)
        let shell = try ShellImport.run(files: files, drop: drop.folder, database: scratch.root + "/sqlite3-shell.db",
                                        expectedRows: timeline.rows)
        return IngestReport(students: students, oneRosterVersion: timeline.report.oneRosterVersion, files: files.count,
                            bytes: try drop.bytes(of: files), generationNanoseconds: drop.generationNanoseconds,
                            daemon: timeline, daemonPeakBytes: peak, shellNanoseconds: shell.nanoseconds,
                            keptFolder: keep ? scratch.root : nil)
    }

    /// A benchmark of an import that did not apply measures nothing: fail with its findings.
    private static func checkApplied(_ report: ImportReport, daemonLog: String) throws {
        if report.verdict == .applied && report.errors == 0 { return }
        throw BenchFailure("stewardd did not apply the generated drop cleanly (verdict \(report.verdict.rawValue), "
            + "\(report.errors) error(s)):\n" + ImportReportText.render(report), daemonLog: daemonLog)
    }
}

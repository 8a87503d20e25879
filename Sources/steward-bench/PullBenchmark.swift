import Foundation
import StewardControl
import StewardCore
import StewardHarness

/// `steward-bench pull`: partners paging through their whole view of a district over the real
/// partner listener, as issue 6 asks. A fresh stewardd with the `oneroster` module imports a
/// synthetic district; one partner, then P partners at once, each with its own token and
/// keep-alive TLS connection, read OneRoster 1.2 `users` with `limit=1000` by the `Link` header.
/// The sqlite3 shell dumping the same rows as JSON is the floor it is compared with.
struct PullBenchmark {
    static let benchmark = Benchmark(
        name: "pull",
        summary: """
            a fresh stewardd with the oneroster module and a synthetic district: one partner, then P
            partners at once, page through OneRoster 1.2 users (limit=1000, keep-alive TLS, Link
            next): records/s, p50 and p99 page latency, stewardd's peak RSS and CPU per record; then
            the sqlite3 shell dumps the same rows as JSON, the floor for reading and formatting them
            """,
        options: [
            ("--students N", "students in the district (required)"),
            ("--partners P", "partners pulling at once in the second round (default 4, at most 32)"),
        ]
    ) { options in
        let students = try options.integer("--students", default: 0, in: 1...10_000_000)
        guard students > 0 else { throw BenchFailure.usage("pull needs --students N") }
        let partners = try options.integer("--partners", default: 4, in: 1...32)
        try options.finish()
        print(try PullBenchmark(students: students, partners: partners).measure().text)
    }

    var students: Int
    var partners: Int

    /// The rows each partner is served, as the sqlite3 shell reads them: every student and
    /// teacher in sourcedId order, with the columns a OneRoster user is written from (names,
    /// grade, school, email) and the version its `dateLastModified` tells, the newest of its
    /// row, enrollments and demographics. A user object has no classes, so neither does this.
    /// Steward also pseudonymizes ids, applies the policy, speaks OneRoster, TLS and HTTP, and
    /// records each disclosure; the shell only reads and prints.
    static let sameRows = """
        SELECT u."sourcedId", u."role", u."givenName", u."familyName", u."grades", u."orgSourcedIds", u."email",
            max(u.modified_import,
                coalesce((SELECT max(e.modified_import) FROM roster_enrollments e WHERE e."userSourcedId" = u."sourcedId"), 0),
                coalesce((SELECT d.modified_import FROM roster_demographics d WHERE d."sourcedId" = u."sourcedId"), 0)) AS "version"
        FROM roster_users u WHERE u."role" IN ('student', 'teacher') ORDER BY u."sourcedId"
        """

    /// What every benchmark partner is granted: the whole district, a directory's fields.
    static func partnerFile(_ name: String) -> String {
        var file = PartnerFileText(name: name, schools: "all", roles: "student teacher",
                                   fields: ["given_name", "family_name", "grade", "school", "sections", "email"])
        file.access = ["RequestsPerMinute=100000"]  // The most a partner file allows: no page waits for the bucket.
        return file.text.replacingOccurrences(of: "Connector=probe", with: "Connector=oneroster-rest")
    }

    /// Waits until `pid` uses under 5% of a core for two samples of 200 ms in a row (at most a
    /// minute); how long that took.
    static func waitUntilIdle(pid: Int32) throws -> UInt64 {
        let start = monotonicNanoseconds()
        var quiet = 0
        var before = try ProcessStatus.cpuNanoseconds(pid: pid)
        while quiet < 2, monotonicNanoseconds() - start < 60_000_000_000 {
            usleep(200_000)
            let now = try ProcessStatus.cpuNanoseconds(pid: pid)
            quiet = now - before < 10_000_000 ? quiet + 1 : 0
            before = now
        }
        return monotonicNanoseconds() - start
    }

    func measure() throws -> PullReport {
        let sandbox: Sandbox
        do { sandbox = try Sandbox(prefix: "steward-bench-pull", modules: ["oneroster"]) }
        catch { throw BenchFailure("could not make a scratch folder for stewardd: \(error)") }
        Leftovers.shared.add(sandbox)
        defer { Leftovers.shared.remove(sandbox) }
        let drop = try GeneratedDrop.generate(students: students, seed: 1, format: "oneroster-1.1", into: sandbox.root + "/drop")
        let certificate = try BenchCertificate(in: sandbox.root)
        // Different partners, so the crowd finds none of the lone partner's counts or cursors kept by the connector.
        let alone = "alone", crowd = (1...partners).map { "crowd-\($0)" }
        for name in [alone] + crowd {
            try sandbox.write(Self.partnerFile(name), to: sandbox.partnerDirectory + "/\(name).conf")
        }
        return try APIDaemon.run(in: sandbox, certificate: certificate, modules: ["oneroster"]) { daemon, port in
            let control = try daemon.client()
            let timeline = try ImportTimeline.importDrop(drop.folder, client: control)
            guard timeline.report.verdict == .applied else { throw BenchFailure("the generated drop was not applied", daemonLog: daemon.log) }
            // The import answers before its tidy-up (its staging tables overwritten, the WAL
            // checkpointed); the rounds start once stewardd is idle again, so they measure paging.
            let settled = try Self.waitUntilIdle(pid: daemon.pid)
            let afterImport = try ProcessStatus(pid: daemon.pid)
            let connect = { (name: String) in try PartnerPuller.connect(name, port: port, caFile: certificate.certificateFile, control: control) }
            let lone = try connect(alone), many = try crowd.map(connect)
            let peakResets = APIDaemon.resetPeakResidentSize(of: daemon.pid)
            let cpuBefore = try ProcessStatus.cpuNanoseconds(pid: daemon.pid)
            var single = try PullRound.run([lone])
            let cpuBetween = try ProcessStatus.cpuNanoseconds(pid: daemon.pid)
            single.daemonCPUNanoseconds = cpuBetween - cpuBefore
            let singlePeak = try ProcessStatus(pid: daemon.pid).peakResidentBytes
            _ = APIDaemon.resetPeakResidentSize(of: daemon.pid)
            let cpuAgain = try ProcessStatus.cpuNanoseconds(pid: daemon.pid)
            var concurrent = try PullRound.run(many)
            concurrent.daemonCPUNanoseconds = try ProcessStatus.cpuNanoseconds(pid: daemon.pid) - cpuAgain
            let concurrentPeak = try ProcessStatus(pid: daemon.pid).peakResidentBytes
            let same = try ViewsBenchmark.shellDump(database: daemon.sandbox.databasePath, sql: Self.sameRows)
            let whole = try ViewsBenchmark.shellDump(database: daemon.sandbox.databasePath)
            return PullReport(students: students, rosterRows: timeline.rows, afterImportBytes: afterImport.residentBytes,
                              peakResets: peakResets, single: single, singlePeakBytes: singlePeak,
                              concurrent: concurrent, concurrentPeakBytes: concurrentPeak,
                              settledNanoseconds: settled, shellRows: same.rows, shellNanoseconds: same.nanoseconds,
                              wholeTableRows: whole.rows, wholeTableNanoseconds: whole.nanoseconds)
        }
    }
}

/// What `pull` measured, as the block of figures it prints, with the target it holds them to.
struct PullReport {
    var students: Int
    var rosterRows: Int
    var afterImportBytes: UInt64
    /// Whether the kernel let the peak RSS start over before each round; if not, each peak also
    /// covers the import and the rounds before it.
    var peakResets: Bool
    var single: PullRound
    var singlePeakBytes: UInt64
    var concurrent: PullRound
    var concurrentPeakBytes: UInt64
    /// The sqlite3 shell dumping the rows the partner is served (see `PullBenchmark.sameRows`).
    /// From the import's answer until stewardd was idle again (its tidy-up after an import).
    var settledNanoseconds: UInt64
    var shellRows: Int
    var shellNanoseconds: UInt64
    /// The sqlite3 shell dumping the whole users table, every column, for reference.
    var wholeTableRows: Int
    var wholeTableNanoseconds: UInt64

    /// One partner should read its view at least this fraction as fast as the shell dumps the rows.
    static let ratioTarget = 0.5

    var shellRowsPerSecond: Double { Double(shellRows) / max(Double(shellNanoseconds) / 1e9, 1e-9) }

    var text: String {
        let view = single.passes.first
        let singleRatio = single.recordsPerSecond / shellRowsPerSecond
        let concurrentRatio = concurrent.recordsPerSecond / shellRowsPerSecond
        let partners = concurrent.passes.count
        let newConnections = (single.passes + concurrent.passes).reduce(0) { $0 + $1.newConnections }
        return [
            "steward-bench pull (N=\(Figure.grouped(students)) students, OneRoster 1.2 users, limit=1000, keep-alive TLS, \(StartupReport.buildKind))",
            "stewardd imported \(Figure.grouped(rosterRows)) roster rows, idle again \(seconds(settledNanoseconds)) after the import answered "
                + "(staging discarded, WAL checkpointed); RSS then \(Figure.mebibytes(afterImportBytes))",
            "each partner's view: \(Figure.grouped(view?.records ?? 0)) users (students and teachers), \(view?.pageNanoseconds.count ?? 0) pages, "
                + String(format: "%.1f MB of JSON", Double(view?.bytes ?? 0) / 1e6),
            Figure.line("1 partner:", 12, roundLine(single, peakBytes: singlePeakBytes)),
            Figure.line("\(partners) partners:", 12, roundLine(concurrent, peakBytes: concurrentPeakBytes)),
            "  (peak RSS is stewardd's \(peakResets ? "during each round" : "since it started: the kernel refused to reset it")"
                + "; \(newConnections) page(s) needed a new connection after the token's)",
            "sqlite3 CLI -json, the same rows (students and teachers, the columns served, their version): \(Figure.grouped(shellRows)) rows in "
                + "\(seconds(shellNanoseconds))  \(Figure.grouped(Int(shellRowsPerSecond))) rows/s",
            "  (for reference, SELECT * FROM roster_users: \(Figure.grouped(wholeTableRows)) rows in \(seconds(wholeTableNanoseconds))  "
                + "\(Figure.grouped(Int(Double(wholeTableRows) / max(Double(wholeTableNanoseconds) / 1e9, 1e-9)))) rows/s)",
            "ratio: \(String(format: "%.2f", singleRatio))× the CLI with 1 partner (target ≥ \(Self.ratioTarget)×: "
                + "\(singleRatio >= Self.ratioTarget ? "PASS" : "MISS")), \(String(format: "%.2f", concurrentRatio))× with \(partners) at once",
        ].joined(separator: "\n")
    }

    private func seconds(_ nanoseconds: UInt64) -> String {
        nanoseconds < 1_000_000_000 ? Figure.milliseconds(Double(nanoseconds)) : String(format: "%.2f s", Double(nanoseconds) / 1e9)
    }

    /// `2,131 records in 417.4 ms  4,923 records/s  1.9 MB/s  page p50 191.6 ms  p99 191.7 ms  peak RSS 68.0 MiB  stewardd CPU 20.1 µs/record`
    private func roundLine(_ round: PullRound, peakBytes: UInt64) -> String {
        let bytes = round.passes.reduce(0) { $0 + $1.bytes }
        let latencies = round.pageLatencies
        return [
            "\(Figure.grouped(round.records)) records in \(seconds(round.nanoseconds))",
            "\(Figure.grouped(Int(round.recordsPerSecond))) records/s",
            String(format: "%.1f MB/s", Double(bytes) / 1e6 / max(Double(round.nanoseconds) / 1e9, 1e-9)),
            "page p50 \(Figure.milliseconds(Double(latencies.percentile(50))))",
            "p99 \(Figure.milliseconds(Double(latencies.percentile(99))))",
            "peak RSS \(Figure.mebibytes(peakBytes))",
            String(format: "stewardd CPU %.1f µs/record", Double(round.daemonCPUNanoseconds) / 1e3 / Double(max(round.records, 1))),
        ].joined(separator: "  ")
    }
}

import Foundation
import StewardControl
import StewardCore
import StewardCrypto
import StewardHarness
import StewardStore

/// `steward-bench views`: what a district's partner dashboard and previews cost on a roster of
/// N students. A fresh stewardd imports a synthetic district, loads four partners (all
/// schools with every directory field, two schools and three grades, demographic and guardian
/// fields, a Library application with 20 adopted sections), then times `steward.Partners.List`
/// (which reads every view in full to count it) and `steward.Partners.Preview`.
struct ViewsBenchmark {
    static let benchmark = Benchmark(
        name: "views",
        summary: """
            a fresh stewardd with a synthetic district and four partners: time of the partner
            dashboard (steward.Partners.List, every view counted in full) and of a preview
            """,
        options: [
            ("--students N", "students in the district (required)"),
            ("--runs R", "dashboard calls to time (default 3); the first counts every view, the rest are served from the kept counts"),
        ]
    ) { options in
        let students = try options.integer("--students", default: 0, in: 1...10_000_000)
        guard students > 0 else { throw BenchFailure.usage("views needs --students N") }
        let runs = try options.integer("--runs", default: 3, in: 1...100)
        try options.finish()
        print(try ViewsBenchmark(students: students, runs: runs).measure())
    }

    var students: Int
    var runs: Int

    /// Reads the whole view of `partner` (students, teachers, sections) through the real
    /// SharedView over a read-only connection to the running daemon's store, page by page, and
    /// encodes each page as JSON, as a connector would.
    static func readWholeView(of partner: (String, String, String, String?, String), sandbox: Sandbox) throws -> (records: Int, nanoseconds: UInt64) {
        let (name, type, schools, grades, fieldList) = partner
        let text = PartnerFileText(name: name, type: type, schools: schools, grades: grades, roles: "student teacher",
                                   fields: fieldList.split(separator: " ").map(String.init)).text
        guard let file = PartnerFile.read(path: "\(name).conf", text: text).0 else { throw BenchFailure("the bench's partner file does not read") }
        let secret = try DistrictSecret.loadOrCreate(in: sandbox.stateDirectory)
        let policy = SharingPolicy(partner: file, standing: PartnerStanding.of(file, unmet: [], library: LibrarySettings()))
        let view = SharedView(policy: policy) { secret.pseudonym(partner: name, sourcedId: $0) }
        let db = try Database(path: sandbox.databasePath, readOnly: true)
        defer { db.close() }
        let reader = RosterViewReader(db: db, fields: policy.fields)
        let encoder = JSONEncoder()
        var records = 0
        let start = monotonicNanoseconds()
        try db.execute("BEGIN")
        for kind in [SharedRecord.Kind.student, .teacher, .section] {
            var cursor: String?
            repeat {
                let page = try view.page(kind, from: reader, after: cursor, limit: 1000)
                _ = try encoder.encode(page.records)
                records += page.records.count
                cursor = page.next
            } while cursor != nil
        }
        try db.execute("COMMIT")
        return (records, monotonicNanoseconds() - start)
    }

    /// The whole users table, every column: what `views` compares with.
    static let wholeUsersTable = "SELECT * FROM roster_users"

    /// The floor for reading and formatting rows: the sqlite3 shell's JSON output of `sql`,
    /// counted by `wc -l` as it comes (one object per line), so the time is the shell's own, not
    /// this process's reading of a large string.
    static func shellDump(database: String, sql: String = wholeUsersTable) throws -> (rows: Int, nanoseconds: UInt64) {
        let start = monotonicNanoseconds()
        let result = try runCommand("/bin/bash", ["-c", "set -o pipefail; /usr/bin/sqlite3 -readonly -json \"$1\" \"$2\" | wc -l",
                                                  "bash", database, sql], timeout: 600)
        let elapsed = monotonicNanoseconds() - start
        guard result.status == 0, let lines = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchFailure("sqlite3 -json failed: \(result.stderr)")
        }
        // `[{…},` … `{…}]`: one line per row (an empty result prints nothing).
        return (lines, elapsed)
    }

    /// The first `count` teacher enrollments: (classSourcedId, userSourcedId) at columns 3 and 5.
    static func teachingRows(_ path: String, count: Int) throws -> [[Substring]] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BenchFailure("cannot read \(path)") }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 1 << 20), as: UTF8.self)
        let rows: [[Substring]] = head.split(separator: "\n").map { line in line.split(separator: ",", omittingEmptySubsequences: false) }
        return Array(rows.filter { $0.count > 6 && $0[6] == "teacher" }.prefix(count))
    }

    func measure() throws -> String {
        let scratch: Sandbox
        do { scratch = try Sandbox(prefix: "steward-bench-views", modules: []) }
        catch { throw BenchFailure("could not make a scratch folder for the drop: \(error)") }
        Leftovers.shared.add(scratch)
        defer { Leftovers.shared.remove(scratch) }
        let drop = try GeneratedDrop.generate(students: students, seed: 1, format: "oneroster-1.1", into: scratch.root + "/drop")
        return try FreshDaemon.run { daemon, _ in
            let partners = [
                ("everyone", "district", "all", nil as String?, "given_name family_name family_initial middle_name preferred_name grade school sections role"),
                ("twoschools", "district", "sch-0001 sch-0002", "3 4 5" as String?, "given_name family_name grade school sections email"),
                ("sensitive", "district", "all", nil, "given_name birth_date sex race hispanic_latino guardian_names guardian_contacts"),
                ("library", "library", "all", nil, "given_name family_initial grade sections"),
            ]
            for (name, type, schools, grades, fields) in partners {
                let fields = fields.split(separator: " ").map(String.init)
                try PartnerFileText(name: name, type: type, schools: schools, grades: grades, roles: "student teacher", fields: fields).text
                    .write(toFile: daemon.sandbox.partnerDirectory + "/\(name).conf", atomically: true, encoding: .utf8)
            }
            let client = try daemon.client()
            let timeline = try ImportTimeline.importDrop(drop.folder, client: client)
            guard timeline.report.verdict == .applied else { throw BenchFailure("the generated drop was not applied", daemonLog: daemon.log) }
            _ = try client.call(ControlRequest(method: ControlMethod.reload.rawValue))
            // Twenty sections adopted by their teachers, from the head of the enrollments file
            // (steward-gen writes the teachers' enrollments first).
            for row in try Self.teachingRows(drop.folder + "/enrollments.csv", count: 20) {
                let reply = try client.call(try ControlRequest(method: ControlMethod.libraryAdopt.rawValue, parameters: LibraryAdoptionParameters(
                    partner: "library", teacher: String(row[5]), section: String(row[3]))))
                guard reply.error == nil else { throw BenchFailure("adoption failed: \(reply.errorMessage ?? "")", daemonLog: daemon.log) }
            }
            var times: [UInt64] = []
            var list: PartnersList?
            for _ in 0..<runs {
                let start = monotonicNanoseconds()
                let reply = try client.call(ControlRequest(method: ControlMethod.partnersList.rawValue))
                times.append(monotonicNanoseconds() - start)
                list = try reply.decode(PartnersList.self)
            }
            let start = monotonicNanoseconds()
            let preview = try client.call(try ControlRequest(method: ControlMethod.partnersPreview.rawValue,
                                                             parameters: PartnerPreviewParameters(name: "sensitive", limit: 1000)))
            let previewTime = monotonicNanoseconds() - start
            let records = try preview.decode(PartnerPreview.self).records.count
            let peak = try ProcessStatus(pid: daemon.pid).peakResidentBytes
            let read = try Self.readWholeView(of: partners[0], sandbox: daemon.sandbox)
            let shell = try Self.shellDump(database: daemon.sandbox.databasePath)
            var lines = ["steward-bench views (N=\(Figure.grouped(students)) students, \(timeline.rows) roster rows, \(runs) run(s))"]
            for partner in list?.partners ?? [] {
                let name = partner.name.padding(toLength: 11, withPad: " ", startingAt: 0)
                let counts = partner.counts
                let students = Figure.grouped(counts.students), teachers = Figure.grouped(counts.teachers)
                lines.append("  \(name) \(partner.state): \(students) students, \(teachers) teachers, \(Figure.grouped(counts.sections)) sections")
            }
            lines.append("partners dashboard, first call (4 views counted in full): \(Figure.milliseconds(Double(times[0])))")
            let again = times.dropFirst().sorted()
            if !again.isEmpty {
                lines.append("partners dashboard, again (counts kept for the roster version): "
                    + "median \(Figure.milliseconds(Double(again[again.count / 2]))) max \(Figure.milliseconds(Double(again.last ?? 0)))")
            }
            lines.append("preview of 'sensitive' (\(records) records, demographics and guardians): \(Figure.milliseconds(Double(previewTime)))")
            lines.append("stewardd peak RSS: \(Figure.mebibytes(peak))")
            let rate = Double(read.records) / (Double(read.nanoseconds) / 1e9)
            lines.append("whole view of 'everyone' as JSON, pages of 1000 (in process, SharedView + RosterViewReader): "
                + "\(Figure.grouped(read.records)) records in \(Figure.milliseconds(Double(read.nanoseconds))), \(Figure.grouped(Int(rate))) records/s")
            let shellRate = Double(shell.rows) / (Double(shell.nanoseconds) / 1e9)
            lines.append("sqlite3 CLI -json, SELECT * FROM roster_users: \(Figure.grouped(shell.rows)) rows in "
                + "\(Figure.milliseconds(Double(shell.nanoseconds))), \(Figure.grouped(Int(shellRate))) rows/s; ratio \(String(format: "%.2f", rate / shellRate))×")
            return lines.joined(separator: "\n")
        }
    }
}

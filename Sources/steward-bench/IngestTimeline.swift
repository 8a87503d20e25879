import StewardControl
import StewardCore
import StewardHarness

/// The phases of an import, in the order the daemon goes through them, by the name its progress
/// gives each.
enum ImportPhase: String, CaseIterable {
    case reading = "reading"
    case references = "checking references"
    case changes = "computing changes"
    case applying = "applying"

    /// The word the benchmark prints.
    var label: String {
        switch self {
        case .reading: "reading"
        case .references: "references"
        case .changes: "changes"
        case .applying: "applying"
        }
    }
}

/// One import through the control socket, timed on the benchmark's clock from the request to the
/// final report, with when each phase began and how long each file took to read.
struct ImportTimeline {
    var report: ImportReport
    /// From the request to the final report, in nanoseconds.
    var elapsed: UInt64
    /// When each phase began, in nanoseconds after the request. Reading begins with the request;
    /// a phase whose progress line did not arrive is missing.
    var phaseStarts: [ImportPhase: UInt64]
    /// The files whose reading took long enough to send progress (half a second or more), in the
    /// order they were read.
    var files: [FileSpan]

    /// How long one file took to read, in nanoseconds.
    struct FileSpan {
        var file: String
        var nanoseconds: UInt64
    }

    /// Sends `steward.Roster.Import` for `drop` (an absolute path) with `more: true` and follows
    /// its progress to the report.
    static func importDrop(_ drop: String, client: ControlClient) throws -> ImportTimeline {
        let request = try ControlRequest(method: ControlMethod.rosterImport.rawValue,
                                         parameters: RosterImportParameters(path: drop), more: true)
        var log = ProgressLog()
        var report: ImportReport?
        let requestedAt = monotonicNanoseconds()
        try client.stream(request) { reply in
            let at = monotonicNanoseconds() - requestedAt
            if let error = reply.error {
                throw BenchFailure("\(request.method) failed with \(error): \(reply.errorMessage ?? "no message")")
            }
            let body = try reply.decode(RosterImportReply.self)
            if let progress = body.progress { log.note(progress, at: at) }
            if let final = body.report { report = final }
        }
        let elapsed = monotonicNanoseconds() - requestedAt
        guard let report else { throw BenchFailure("stewardd ended \(request.method) without a report") }
        return ImportTimeline(report: report, elapsed: elapsed, phaseStarts: log.phaseStarts,
                              files: log.fileSpans(rows: report.files, end: elapsed))
    }

    /// How long each phase took: until the next phase that was seen began, or the report came.
    var phaseDurations: [(phase: ImportPhase, nanoseconds: UInt64?)] {
        let seen = ImportPhase.allCases.compactMap { phase in phaseStarts[phase].map { (phase, $0) } }
        return ImportPhase.allCases.map { phase in
            guard let start = phaseStarts[phase] else { return (phase, nil) }
            let end = seen.first { $0.1 > start }?.1 ?? elapsed
            return (phase, end - start)
        }
    }

    /// The rows of every rostering file the daemon read: the data rows, without headers.
    var rows: Int { report.files.reduce(0) { $0 + $1.rows } }
}

/// The progress lines of one import, as they arrived.
///
/// The daemon says when each later phase begins, but sends a file's reading progress only every
/// 4,096 rows and at most twice a second, starting half a second into the file, each line with the
/// rows read so far and the rate since the file began. A file's start is worked out from its first
/// line (rows ÷ rate before it arrived) and its end from its last (the rows still to read at that
/// rate), and cut at whatever came next. A file read in less than half a second sends no line.
struct ProgressLog {
    private(set) var phaseStarts: [ImportPhase: UInt64] = [.reading: 0]
    private var samples: [(file: String, first: Sample, last: Sample)] = []

    private struct Sample {
        var at: UInt64
        var rows: Int
        var rowsPerSecond: Int
    }

    mutating func note(_ progress: ImportProgress, at: UInt64) {
        guard let phase = ImportPhase(rawValue: progress.phase) else { return }
        guard phase == .reading, !progress.file.isEmpty else {
            if phaseStarts[phase] == nil { phaseStarts[phase] = at }
            return
        }
        let sample = Sample(at: at, rows: progress.rows, rowsPerSecond: progress.rowsPerSecond)
        if let index = samples.firstIndex(where: { $0.file == progress.file }) {
            samples[index].last = sample
        } else {
            samples.append((progress.file, sample, sample))
        }
    }

    /// Each file's reading time; `rows` holds the files' final row counts, `end` is when the report came.
    func fileSpans(rows: [ImportReport.FileSummary], end: UInt64) -> [ImportTimeline.FileSpan] {
        let starts = samples.map { Self.backdate($0.first, by: $0.first.rows) }
        return samples.enumerated().map { index, entry in
            let total = rows.first { $0.file == entry.file }?.rows ?? entry.last.rows
            let estimatedEnd = entry.last.at + Self.nanoseconds(toRead: total - entry.last.rows, at: entry.last.rowsPerSecond)
            let laterEvents = starts.filter { $0 > entry.last.at } + phaseStarts.values.filter { $0 > entry.last.at } + [end]
            let finish = min(estimatedEnd, laterEvents.min()!)
            return ImportTimeline.FileSpan(file: entry.file, nanoseconds: finish - min(starts[index], finish))
        }
    }

    private static func backdate(_ sample: Sample, by rows: Int) -> UInt64 {
        let before = nanoseconds(toRead: rows, at: sample.rowsPerSecond)
        return sample.at > before ? sample.at - before : 0
    }

    private static func nanoseconds(toRead rows: Int, at rowsPerSecond: Int) -> UInt64 {
        guard rows > 0, rowsPerSecond > 0 else { return 0 }
        return UInt64(Double(rows) / Double(rowsPerSecond) * 1e9)
    }
}

import Foundation
import StewardCore
import StewardStore

/// Reads one file on a thread of its own while the caller writes the rows to SQLite: parsing and
/// checking (Swift) and staging (SQLite) each take about half the time of a file, so on two cores
/// they overlap. Rows travel in batches through a bounded channel, so memory stays flat however
/// large the file.
final class StagingPipeline: @unchecked Sendable {
    // Sound because every mutable field is read and written only under `condition`.
    private let condition = NSCondition()
    private var batches: [RowBatch] = []
    private var isFinished = false
    private var isCancelled = false
    private var outcome: Outcome?

    static let batchSize = 1024
    static let capacity = 8

    /// What the reading thread hands back when the file is read.
    struct Outcome: Sendable {
        var stager: FileStager
        var findings: FindingLog
        var problems: [CSVProblem]
        var sawByteOrderMark: Bool
        var failure: String?
    }

    /// Starts reading `file` from `drop` with `stager` on a new thread. With `stopsAtFirstError`,
    /// the reading ends at the first error found, when nothing after it would be used.
    init(drop: any DropSource, file: String, stager: FileStager, stopsAtFirstError: Bool = false) {
        let thread = Thread { [self] in read(drop: drop, file: file, stager: stager, stopsAtFirstError: stopsAtFirstError) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The next batch of rows, or nil once the file is read (or the reading was cancelled).
    func next() -> RowBatch? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !isFinished { condition.wait() }
        guard !batches.isEmpty else { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Waits for the reading thread and returns what it found.
    func finish() -> Outcome {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return outcome!
    }

    /// Stops the reading thread at its next batch (the writer failed).
    func cancel() {
        condition.lock()
        isCancelled = true
        batches = []
        condition.broadcast()
        condition.unlock()
    }

    private func put(_ batch: RowBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= Self.capacity && !isCancelled { condition.wait() }
        guard !isCancelled else { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    private struct Cancelled: Error {}

    private func read(drop: any DropSource, file: String, stager initial: FileStager, stopsAtFirstError: Bool) {
        var stager = initial
        var findings = FindingLog()
        var problems: [CSVProblem] = []
        var parser = CSVParser()
        let newBatch = { RowBatch(width: initial.columns.count, capacity: Self.batchSize) }
        var batch = newBatch()
        var failure: String?
        func take(_ record: CSVRecord) throws {
            try stager.take(record, into: &batch, findings: &findings)
            if stopsAtFirstError && (findings.hasErrors || !problems.isEmpty) { throw Cancelled() }
            if batch.count == Self.batchSize {
                guard put(batch) else { throw Cancelled() }
                batch = newBatch()
            }
        }
        do {
            try drop.read(file) { chunk in
                try parser.feed(chunk, record: take, problem: { problems.append($0) })
            }
            try parser.finish(record: take, problem: { problems.append($0) })
            if !batch.isEmpty { _ = put(batch) }
            stager.closeOut(findings: &findings)
        } catch is Cancelled {
            failure = nil
        } catch let error as StewardError {
            failure = error.message
        } catch {
            failure = "\(error)"
        }
        condition.lock()
        isFinished = true
        outcome = Outcome(stager: stager, findings: findings, problems: problems,
                          sawByteOrderMark: parser.sawByteOrderMark, failure: failure)
        condition.broadcast()
        condition.unlock()
    }
}

import Foundation
import StewardCore
import StewardStore

/// Reads one rostering file record by record: the header first, then each row checked value by
/// value and added to a ``RowBatch``. It runs on a reading thread of its own while the
/// import connection writes the previous rows (see ``StagingPipeline``).
struct FileStager: Sendable {
    let entity: RosterEntity
    let file: String
    let mode: Manifest.Mode
    let columns: [ColumnSpec]
    let progress: @Sendable (ImportProgress) -> Void
    /// Whether the daemon is stopping: the import gives up between records.
    let isCancelled: @Sendable () -> Bool
    private(set) var header: HeaderMap?
    private(set) var rows = 0
    /// For each binding column that refers to a file read before this one whose whole set is
    /// known (bulk), that file's sourcedIds: the reference is checked here by a hash lookup.
    private let knownTargetIds: [Set<String>?]
    /// For each binding column, whether it refers to this same file.
    private let targetIsThisFile: [Bool]
    /// The array each record's values are gathered in, kept between records.
    private var scratch: [String]
    /// This file's own sourcedIds, collected in a bulk file that files (this one included) refer to.
    private(set) var ids: Set<String>?
    /// References to records of this same file not read yet when they were met.
    private var forwardReferences: [Reference] = []
    private var statusInBulk = 0
    private var passwords = 0
    private let statusIndex: Int?
    private let modifiedIndex: Int?
    private let started = Date()
    private var lastProgress = Date()

    init(entity: RosterEntity, file: String, mode: Manifest.Mode, columns: [ColumnSpec],
         knownIds: [RosterEntity: Set<String>], collectsIds: Bool,
         progress: @escaping @Sendable (ImportProgress) -> Void, isCancelled: @escaping @Sendable () -> Bool) {
        self.isCancelled = isCancelled
        knownTargetIds = columns.map { column in column.kind.referencedEntity.flatMap { knownIds[$0] } }
        targetIsThisFile = columns.map { $0.kind.referencedEntity == entity }
        scratch = Array(repeating: "", count: columns.count)
        ids = collectsIds ? Set() : nil
        self.entity = entity
        self.file = file
        self.mode = mode
        self.columns = columns
        self.progress = progress
        statusIndex = columns.firstIndex { $0.name == "status" }
        modifiedIndex = columns.firstIndex { $0.name == "dateLastModified" }
    }

    /// Checks one record and adds it to `batch`; the header, and a record too broken to write,
    /// are not added.
    mutating func take(_ record: CSVRecord, into batch: inout RowBatch, findings: inout FindingLog) throws(StewardError) {
        guard let header else {
            header = HeaderMap(header: record, columns: columns, file: file, findings: &findings)
            return
        }
        guard record.fields.count == header.width else {
            findings.error(.wrongFieldCount, file, line: record.line,
                           "has \(record.fields.count) field(s); the header has \(header.width)")
            return
        }
        rows += 1
        // The same array serves every record, so a record costs no allocation of its own here.
        var values: [String] = []
        swap(&values, &scratch)
        defer { swap(&values, &scratch) }
        for (index, position) in header.positions.enumerated() {
            values[index] = position.map { record.fields[$0] } ?? ""
        }
        let status = statusIndex.map { values[$0] } ?? ""
        let isDeletion = try checkStatus(status, values: values, line: record.line, findings: &findings)
        for (index, spec) in columns.enumerated() where index != statusIndex && index != modifiedIndex {
            let value = values[index]
            if case .secret = spec.kind {
                if !value.isEmpty { passwords += 1 }
                values[index] = ""
                continue
            }
            if value.isEmpty {
                if spec.isRequired && !(isDeletion && index > 0) {
                    findings.error(.missingValue, file, line: record.line, column: (header.positions[index] ?? -1) + 1,
                                   "\(spec.name) is required and empty")
                }
                continue
            }
            if isDeletion && index > 0 { continue }
            let column = (header.positions[index] ?? -1) + 1
            switch spec.kind {
            case .text, .list:
                continue
            case .reference:
                check(value, owner: values[0], line: record.line, column: column, spec: index, findings: &findings)
                continue
            case .referenceList:
                if value.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 }) {
                    // Stored as a plain comma-separated list, so SQL can check each item.
                    values[index] = ValueRules.items(value).joined(separator: ",")
                }
                for item in values[index].utf8.split(separator: UInt8(ascii: ",")) {
                    // Split at an ASCII comma, so each item is whole UTF-8.
                    check(String(item) ?? "", owner: nil, line: record.line, column: column, spec: index, findings: &findings)
                }
                continue
            default:
                break
            }
            switch ValueRules.read(value, as: spec.kind) {
            case .accepted(let canonical):
                values[index] = canonical
            case .lenient(let canonical, let code, let message):
                values[index] = canonical
                findings.warning(code, file, line: record.line, column: column, "\(spec.name): \(message)")
            case .refused(let code, let message):
                findings.error(code, file, line: record.line, column: column, "\(spec.name): \(message)")
            }
        }
        if ids != nil && !isDeletion { ids?.insert(values[0]) }
        try reportProgress()
        batch.append(values, line: record.line, isDeletion: isDeletion)
    }

    /// Where a record names another record, and the value it names.
    private struct Reference: Sendable {
        var line: Int
        var column: Int
        /// The binding column that holds the reference.
        var spec: Int
        /// The naming record's sourcedId, for a single-valued reference (its message names it).
        var owner: String?
        var value: String
    }

    /// Checks a reference in binding column `spec` against the ids of its target file when they
    /// are known: a file read earlier, or (a bulk file naming its own records) the records read
    /// so far, with the rest checked once the whole file is read. Other references are left to SQL.
    private mutating func check(_ value: String, owner: String?, line: Int, column: Int, spec: Int, findings: inout FindingLog) {
        if targetIsThisFile[spec], let ids {
            if !ids.contains(value) {
                forwardReferences.append(Reference(line: line, column: column, spec: spec, owner: owner, value: value))
            }
        } else if let known = knownTargetIds[spec], !known.contains(value) {
            reportUnresolved(Reference(line: line, column: column, spec: spec, owner: owner, value: value), findings: &findings)
        }
    }

    private func reportUnresolved(_ reference: Reference, findings: inout FindingLog) {
        let spec = columns[reference.spec]
        let naming = reference.owner.map { "\(spec.name) of \($0)" } ?? spec.name
        findings.error(.unresolvedReference, file, line: reference.line, column: reference.column,
                       "\(naming) names \(spec.kind.referencedEntity?.rawValue ?? "") '\(reference.value)', which is neither in this drop nor in the stored roster")
    }

    /// Checks `status` for the file's mode; true when the row deletes its record (delta only).
    private mutating func checkStatus(_ status: String, values: [String], line: Int, findings: inout FindingLog) throws(StewardError) -> Bool {
        let modified = modifiedIndex.map { values[$0] } ?? ""
        guard mode == .delta else {
            if !status.isEmpty || !modified.isEmpty {
                statusInBulk += 1
                if statusInBulk == 1 {
                    let column = (header?.positions[status.isEmpty ? modifiedIndex! : statusIndex!] ?? 0) + 1
                    findings.warning(.statusInBulk, file, line: line, column: column,
                                     "status and dateLastModified are for delta files; ignored in a bulk file")
                }
            }
            return false
        }
        guard let statusIndex else { return false }
        switch status {
        case "active": return false
        case "tobedeleted": return true
        case "": findings.error(.missingValue, file, line: line, column: (header?.positions[statusIndex] ?? 0) + 1,
                                "a delta row needs status active or tobedeleted")
        default: findings.error(.invalidEnumeration, file, line: line, column: (header?.positions[statusIndex] ?? 0) + 1,
                                "status must be active or tobedeleted")
        }
        return false
    }

    private mutating func reportProgress() throws(StewardError) {
        guard rows % 4096 == 0 else { return }
        if isCancelled() { throw StewardError(.storeFailed, "the import was abandoned: stewardd is stopping") }
        let now = Date()
        guard now.timeIntervalSince(lastProgress) >= 0.5 else { return }
        lastProgress = now
        let rate = Int(Double(rows) / max(now.timeIntervalSince(started), 0.001))
        progress(ImportProgress(phase: "reading", file: file, rows: rows, rowsPerSecond: rate))
    }

    /// The references to this file's own records that named one not read yet, and the warnings
    /// that are counted rather than repeated, once the whole file is read (on the reading thread).
    func closeOut(findings: inout FindingLog) {
        for reference in forwardReferences where !(ids?.contains(reference.value) ?? false) {
            reportUnresolved(reference, findings: &findings)
        }
        if statusInBulk > 1 {
            findings.warning(.statusInBulk, file, "\(statusInBulk) rows fill status or dateLastModified in bulk mode; ignored")
        }
        if passwords > 0 {
            findings.warning(.passwordIgnored, file, "\(passwords) row(s) carry a password; Steward never stores passwords")
        }
    }
}

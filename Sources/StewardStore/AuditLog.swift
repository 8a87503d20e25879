import Foundation
import StewardCore

/// The audit log: an append-only chain in which each entry holds the SHA-256 of its predecessor
/// and of its own content. Editing, deleting or inserting an entry breaks the chain at that entry.
///
/// Deleting entries from the end cannot be seen from inside the database alone; `verify` reports
/// the head (last sequence number and hash), which the daemon also logs at start and stop, so
/// the journal holds an outside record to compare against.
public enum AuditLog {
    /// Appends `event` as the next link, inside the caller's transaction.
    @discardableResult
    public static func append(_ event: AuditEvent, in db: Database, now: Date = Date()) throws(StewardError) -> AuditEntry {
        let head = try db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let (previousSeq, previousHash) = try head.step() ? (head.int(0), head.blob(1)) : (0, AuditEntry.genesisHash)
        let seq = previousSeq + 1
        let at = Timestamp.string(now)
        let hash = AuditEntry.hash(seq: seq, at: at, event: event, previousHash: previousHash)
        try db.prepare("""
            INSERT INTO audit_log(seq, at, uid, pid, role, method, target, outcome, detail, prev_hash, hash)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).run([
                .int(seq), .text(at), .optional(event.uid), .optional(event.pid), .optional(event.role),
                .text(event.method), .optional(event.target), .text(event.outcome), .optional(event.detail),
                .blob(previousHash), .blob(hash),
            ])
        return AuditEntry(seq: seq, at: at, event: event, previousHash: previousHash, hash: hash)
    }

    /// Entries at or after `since` (an ISO 8601 UTC timestamp prefix), oldest first, starting after
    /// `afterSeq`, at most `limit` of them.
    public static func entries(in db: Database, since: String?, afterSeq: Int64 = 0, limit: Int) throws(StewardError) -> [AuditEntry] {
        let statement = try db.prepare("""
            SELECT seq, at, uid, pid, role, method, target, outcome, detail, prev_hash, hash
            FROM audit_log WHERE at >= ? AND seq > ? ORDER BY seq LIMIT ?
            """)
        try statement.bind([.text(since ?? ""), .int(afterSeq), .int(Int64(limit))])
        var entries: [AuditEntry] = []
        while try statement.step() { entries.append(entry(from: statement)) }
        return entries
    }

    /// Recomputes the whole chain from the first entry and names the first entry that does not hold.
    public static func verify(in db: Database) throws(StewardError) -> AuditVerification {
        let statement = try db.prepare("""
            SELECT seq, at, uid, pid, role, method, target, outcome, detail, prev_hash, hash
            FROM audit_log ORDER BY seq
            """)
        var expectedSeq: Int64 = 1
        var previousHash = AuditEntry.genesisHash
        var checked: Int64 = 0
        while try statement.step() {
            let entry = entry(from: statement)
            if let reason = problem(with: entry, expectedSeq: expectedSeq, previousHash: previousHash) {
                return AuditVerification(entriesChecked: checked, headSeq: expectedSeq - 1, headHash: previousHash,
                                         firstBreak: .init(seq: entry.seq, reason: reason))
            }
            checked += 1
            expectedSeq = entry.seq + 1
            previousHash = entry.hash
        }
        return AuditVerification(entriesChecked: checked, headSeq: expectedSeq - 1, headHash: previousHash, firstBreak: nil)
    }

    private static func problem(with entry: AuditEntry, expectedSeq: Int64, previousHash: [UInt8]) -> String? {
        if entry.seq != expectedSeq {
            return "entries \(expectedSeq) to \(entry.seq - 1) are missing (deleted)"
        }
        if entry.previousHash != previousHash {
            return "its link to entry \(entry.seq - 1) does not match that entry's hash (an entry was replaced)"
        }
        let recomputed = AuditEntry.hash(seq: entry.seq, at: entry.at, event: entry.event, previousHash: entry.previousHash)
        if recomputed != entry.hash {
            return "its content does not match its hash (the entry was edited)"
        }
        return nil
    }

    private static func entry(from row: Statement) -> AuditEntry {
        AuditEntry(
            seq: row.int(0), at: row.text(1) ?? "",
            event: AuditEvent(uid: row.optionalInt(2), pid: row.optionalInt(3), role: row.text(4),
                              method: row.text(5) ?? "", target: row.text(6), outcome: row.text(7) ?? "",
                              detail: row.text(8)),
            previousHash: row.blob(9), hash: row.blob(10))
    }
}

extension Store {
    /// Appends one event to the audit chain in its own transaction.
    @discardableResult
    public func audit(_ event: AuditEvent) throws(StewardError) -> AuditEntry {
        try write { db throws(StewardError) in try AuditLog.append(event, in: db) }
    }

    /// Reads audit entries; see ``AuditLog/entries(in:since:afterSeq:limit:)``.
    public func auditEntries(since: String?, afterSeq: Int64 = 0, limit: Int) throws(StewardError) -> [AuditEntry] {
        try read { db throws(StewardError) in try AuditLog.entries(in: db, since: since, afterSeq: afterSeq, limit: limit) }
    }

    /// Recomputes the chain on a consistent snapshot.
    public func verifyAudit() throws(StewardError) -> AuditVerification {
        try read { db throws(StewardError) in try AuditLog.verify(in: db) }
    }
}

/// Steward's one timestamp format: UTC, ISO 8601, milliseconds, `Z`. Sorts as text.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
    }
}

extension Store {
    /// The chain's head: the last entry's sequence number and hash (0 and the genesis hash when
    /// empty). Cheap; logged at start and stop as an outside record against truncation.
    public func auditHead() throws(StewardError) -> (seq: Int64, hash: [UInt8]) {
        try read { db throws(StewardError) in
            let statement = try db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            return try statement.step() ? (statement.int(0), statement.blob(1)) : (0, AuditEntry.genesisHash)
        }
    }

    /// How many entries the audit chain holds (its last sequence number).
    public func auditEntryCount() throws(StewardError) -> Int64 {
        try read { db throws(StewardError) in try db.scalarInt("SELECT coalesce(max(seq), 0) FROM audit_log") ?? 0 }
    }
}

import CSQLite
import StewardCore

/// One SQLite connection. SQLite is opened with `SQLITE_OPEN_NOMUTEX`, so the connection does no
/// locking of its own: its owner confines it to one serial queue.
///
/// Error messages carry SQLite's text and the statement's shape, never bound values, so student
/// data cannot reach a log line through a failed query.
public final class Database: @unchecked Sendable {
    // Sound because the owner (Store) touches `handle` only from the one serial queue it pairs it
    // with; the class itself is handed between queues only before use and after close.
    private var handle: OpaquePointer?
    public let path: String

    /// SQLite's process-wide settings, applied once before the first connection opens.
    private static let configured: Bool = {
        _ = steward_sqlite_disable_memory_statistics()
        return true
    }()

    /// Opens (and creates, unless `readOnly`) the database at `path`.
    public init(path: String, readOnly: Bool = false) throws(StewardError) {
        _ = Self.configured
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        handle = db
        guard rc == SQLITE_OK else {
            let error = Self.error(rc, db, "cannot open \(path)")
            sqlite3_close_v2(db)
            handle = nil
            throw error
        }
        let registered = sqlite3_create_function_v2(db, "steward_word_union", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
                                                    wordUnion, nil, nil, nil)
        guard registered == SQLITE_OK else {
            let error = Self.error(registered, db, "cannot register steward_word_union on \(path)")
            sqlite3_close_v2(db)
            handle = nil
            throw error
        }
    }

    deinit { close() }

    /// What `onWALCommit` was handed, kept alive as long as the connection.
    private final class WALHook {
        let body: (Int) -> Void
        init(_ body: @escaping (Int) -> Void) { self.body = body }
    }
    private var walHook: WALHook?

    /// Calls `body` with the number of frames in the WAL after each transaction this connection
    /// commits (`sqlite3_wal_hook`), on the thread that committed. It replaces SQLite's own
    /// automatic checkpoint: set it after `PRAGMA wal_autocheckpoint`, which would replace it.
    public func onWALCommit(_ body: @escaping (Int) -> Void) {
        let hook = WALHook(body)
        walHook = hook
        sqlite3_wal_hook(handle, { context, _, _, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<WALHook>.fromOpaque(context).takeUnretainedValue().body(Int(frames))
            return SQLITE_OK
        }, Unmanaged.passUnretained(hook).toOpaque())
    }

    /// Closes the connection; later calls fail. Safe to call twice.
    public func close() {
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one or more statements that bind nothing and return nothing.
    public func execute(_ sql: String) throws(StewardError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw Self.error(rc, handle, "while running \(Self.shape(sql))") }
    }

    /// Prepares one statement.
    public func prepare(_ sql: String) throws(StewardError) -> Statement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, 0, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw Self.error(rc, handle, "while preparing \(Self.shape(sql))") }
        return Statement(statement, database: self, sql: sql)
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back when
    /// it throws. IMMEDIATE takes the write lock at once, so a busy database fails here, before any
    /// work is done.
    public func transaction<T>(_ body: () throws(StewardError) -> T) throws(StewardError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The integer value of a PRAGMA or a one-value query.
    public func scalarInt(_ sql: String) throws(StewardError) -> Int64? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int(0)
    }

    /// The text value of a PRAGMA or a one-value query.
    public func scalarText(_ sql: String) throws(StewardError) -> String? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// Makes the statement running on this connection fail at once with SQLITE_INTERRUPT, which
    /// rolls its transaction back. The one call that is safe from another thread while the
    /// connection is open.
    public func interrupt() {
        if let handle { sqlite3_interrupt(handle) }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last inserted row.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    var rawHandle: OpaquePointer? { handle }

    /// Maps a SQLite result code to the store error an operator can act on.
    static func error(_ rc: Int32, _ db: OpaquePointer?, _ context: String) -> StewardError {
        let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        switch rc & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return StewardError(.storeLocked,
                "the database is locked by another process (\(detail)) \(context); stop the other process (another stewardd, or a sqlite3 shell holding a transaction) and start again")
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            return StewardError(.storeCorrupt,
                "the database is damaged or is not a Steward database (\(detail)) \(context); restore it from a backup — Steward never re-creates it on its own")
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY:
            return StewardError(.storeFailed,
                "cannot write the database (\(detail)) \(context); check that the state directory exists and belongs to the service user")
        default:
            return StewardError(.storeFailed, "SQLite error \(rc): \(detail) \(context)")
        }
    }

    /// The first words of a statement, enough to recognise it in a log without any values.
    static func shape(_ sql: String) -> String {
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" }).prefix(4).joined(separator: " ")
        return "'\(words)…'"
    }
}

/// A prepared statement, confined to the queue of its ``Database``.
public final class Statement {
    private let handle: OpaquePointer
    private let database: Database
    private let sql: String

    init(_ handle: OpaquePointer, database: Database, sql: String) {
        self.handle = handle
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to the parameters 1…n, after resetting the statement.
    @discardableResult
    public func bind(_ values: [SQLValue]) throws(StewardError) -> Statement {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .int(let v): rc = sqlite3_bind_int64(handle, index, v)
            case .text(let v): rc = sqlite3_bind_text(handle, index, v, -1, steward_sqlite_transient())
            case .blob(let v):
                rc = v.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), steward_sqlite_transient()) }
            }
            guard rc == SQLITE_OK else { throw Database.error(rc, database.rawHandle, "while binding \(Database.shape(sql))") }
        }
        return self
    }

    /// Steps once: true when a row is ready, false when the statement is done.
    public func step() throws(StewardError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw Database.error(rc, database.rawHandle, "while running \(Database.shape(sql))")
        }
    }

    /// Binds one text parameter (1-based) without building a value array: the hot path of a bulk
    /// insert. SQLite copies the bytes.
    public func bindText(_ index: Int32, _ value: String) throws(StewardError) {
        var value = value
        let rc = value.withUTF8 { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), steward_sqlite_transient()) }
        guard rc == SQLITE_OK else { throw Database.error(rc, database.rawHandle, "while binding \(Database.shape(sql))") }
    }

    /// Binds UTF-8 text (1-based) where it lies, without a copy. `bytes` must have a base address
    /// and stay unchanged until the statement has run and is bound again or reset.
    public func bindText(_ index: Int32, inPlace bytes: UnsafeBufferPointer<UInt8>) throws(StewardError) {
        let rc = sqlite3_bind_text(handle, index, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
                                   Int32(bytes.count), steward_sqlite_static())
        guard rc == SQLITE_OK else { throw Database.error(rc, database.rawHandle, "while binding \(Database.shape(sql))") }
    }

    public func bindInt(_ index: Int32, _ value: Int64) throws(StewardError) {
        let rc = sqlite3_bind_int64(handle, index, value)
        guard rc == SQLITE_OK else { throw Database.error(rc, database.rawHandle, "while binding \(Database.shape(sql))") }
    }

    /// Runs a statement whose parameters are already bound, for one row, and resets it.
    public func runBound() throws(StewardError) {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Binds, runs to completion and resets: for statements that return no rows.
    public func run(_ values: [SQLValue] = []) throws(StewardError) {
        try bind(values)
        while try step() {}
        sqlite3_reset(handle)
    }

    /// How many columns a result row has.
    public var columnCount: Int32 { sqlite3_column_count(handle) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }

    public func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    public func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// A value bound to a statement parameter.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])

    public static func optional(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    public static func optional(_ value: Int64?) -> SQLValue { value.map(SQLValue.int) ?? .null }
}

/// `steward_word_union(a, b)`: the sorted union of two space-separated lists of words, such as
/// the fields of a disclosure row (`email given_name` and `grade given_name` give
/// `email given_name grade`), so an upsert merges what a partner was sent without reading the
/// row first. NULL when either is NULL.
private let wordUnion: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, count, values in
    guard count == 2, let values, let first = sqlite3_value_text(values[0]), let second = sqlite3_value_text(values[1]) else {
        sqlite3_result_null(context)
        return
    }
    let a = String(cString: first), b = String(cString: second)
    let union = a == b ? a : Set(a.split(separator: " ")).union(b.split(separator: " ")).sorted().joined(separator: " ")
    sqlite3_result_text(context, union, -1, steward_sqlite_transient())
}

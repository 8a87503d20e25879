#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardCore
import Synchronization

/// Steward's one SQLite database in the state directory: WAL, foreign keys and `secure_delete`
/// on, `synchronous=FULL`, numbered migrations run at open.
///
/// All writes go through one writer connection on one serial queue; reads use a few read-only
/// connections, one per read at a time, so a long listing never holds up a write and several
/// partners' pulls read at once. Callers must not call in from the writer's queue, nor read
/// inside a read.
public final class Store: @unchecked Sendable {
    // Sound because the writer and the import connection are used only inside their own serial
    // queues (`writerQueue`, `importQueue`), a reader only by the one read that took it from
    // `idleReaders` (under `readerSlots`), and `lock` is immutable after init.
    private let writer: Database
    private let readers: [Database]
    private let readerSlots: DispatchSemaphore
    private let idleReaders: Mutex<[Int]>
    private let writerQueue = DispatchQueue(label: "steward.store.writer")
    private let importQueue = DispatchQueue(label: "steward.store.import")
    private var importConnection: Database?
    /// The import connection as seen from other threads, only to interrupt it.
    private let interruptible = Mutex<Database?>(nil)
    private let importsCancelled = Mutex(false)
    private let lock: StateDirectoryLock

    /// The database file's path.
    public let path: String
    /// The schema version this build writes.
    public static var schemaVersion: Int { Migrations.latest }

    /// Opens the store in `stateDirectory`, creating both when missing. Throws a
    /// ``StewardError`` with code `store-locked`, `store-corrupt`, `store-too-new`,
    /// `state-directory-in-use` or `store-failed`; it never re-creates an existing database.
    public init(stateDirectory: String, busyTimeoutMilliseconds: Int32 = 2000) throws(StewardError) {
        try Self.makeDirectory(stateDirectory)
        lock = try StateDirectoryLock(directory: stateDirectory)
        path = stateDirectory + "/steward.db"
        writer = try Database(path: path)
        try Self.configureWriter(writer, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try Self.migrate(writer)
        var readers: [Database] = []
        for _ in 0..<Self.readerCount {
            let reader = try Database(path: path, readOnly: true)
            try reader.execute("PRAGMA busy_timeout=\(busyTimeoutMilliseconds); PRAGMA query_only=ON; PRAGMA cache_size=-\(Self.readerCacheKiB)")
            readers.append(reader)
        }
        self.readers = readers
        readerSlots = DispatchSemaphore(value: readers.count)
        idleReaders = Mutex(Array(readers.indices))
        writer.onWALCommit { [weak self] frames in self?.walGrew(to: frames) }
    }

    /// WAL frames (16 KiB pages) past which a commit of the writer has the WAL checkpointed, off
    /// the commit's path: about 32 MiB. Partners' syncs write a row per person sent, page after
    /// page; a WAL left to grow for the minute between timed checkpoints makes every commit
    /// append to a longer file and every read look through a longer index of it.
    static let checkpointFrames = 2048
    private let checkpointPending = Mutex(false)

    private func walGrew(to frames: Int) {
        guard frames >= Self.checkpointFrames,
              checkpointPending.withLock({ pending in defer { pending = true }; return !pending }) else { return }
        DispatchQueue.global(qos: .utility).async { [weak self] in
            self?.checkpoint()
            self?.checkpointPending.withLock { $0 = false }
        }
    }

    /// Abandons an import under way: its next SQLite call fails and its transaction rolls back,
    /// leaving the previous roster whole. Safe from any thread.
    public func interruptImport() {
        importsCancelled.withLock { $0 = true }
        interruptible.withLock { $0?.interrupt() }
    }

    /// True once ``interruptImport()`` was called: an import checks it between records and
    /// before it applies, and gives up.
    public var isImportCancelled: Bool { importsCancelled.withLock { $0 } }

    /// Waits for queued work and closes every connection (checkpointing the WAL).
    public func close() {
        importQueue.sync {
            interruptible.withLock { $0 = nil }
            importConnection?.close()
            importConnection = nil
        }
        withEveryReader { $0.close() }
        writerQueue.sync {
            try? writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            writer.close()
        }
        lock.release()
    }

    /// Runs `body` with the writer connection inside one `BEGIN IMMEDIATE` transaction.
    public func write<T>(_ body: (Database) throws(StewardError) -> T) throws(StewardError) -> T {
        let result: Result<T, StewardError> = writerQueue.sync {
            do throws(StewardError) { return .success(try writer.transaction { () throws(StewardError) in try body(writer) }) }
            catch { return .failure(error) }
        }
        return try result.get()
    }

    /// How many reads run at once: one per core, at least two and at most eight.
    public static let readerCount = max(2, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// Each read connection's page cache, in KiB: 128 MiB divided among them. A page of a view
    /// looks up the classes its persons are in, scattered over a table of tens of megabytes at
    /// a million students; with SQLite's default 2 MiB most of those lookups went to the
    /// kernel (a partner's sync took a quarter longer).
    static let readerCacheKiB = 131_072 / readerCount

    /// Runs `body` with an idle read-only connection, in one read transaction (a consistent
    /// snapshot); waits for one when every reader is busy.
    public func read<T>(_ body: (Database) throws(StewardError) -> T) throws(StewardError) -> T {
        readerSlots.wait()
        let index = idleReaders.withLock { $0.removeLast() }
        defer {
            idleReaders.withLock { $0.append(index) }
            readerSlots.signal()
        }
        let reader = readers[index]
        try reader.execute("BEGIN")
        defer { try? reader.execute("COMMIT") }
        return try body(reader)
    }

    /// Runs `body` on every reader, each once none is reading.
    private func withEveryReader(_ body: (Database) -> Void) {
        for _ in readers { readerSlots.wait() }
        for reader in readers { body(reader) }
        for _ in readers { readerSlots.signal() }
    }

    /// How long a connection waits for another's write lock before it reports the store locked.
    /// Short at start (a locked store is an error then); the daemon lengthens it once running, so
    /// a control call waits out an import's final transaction instead of failing.
    public func setBusyTimeout(milliseconds: Int32) {
        writerQueue.sync { try? writer.execute("PRAGMA busy_timeout=\(milliseconds)") }
        withEveryReader { try? $0.execute("PRAGMA busy_timeout=\(milliseconds)") }
        importQueue.sync {
            try? importConnection?.execute("PRAGMA busy_timeout=\(milliseconds)")
            busyTimeout = milliseconds
        }
    }

    /// The busy timeout for an import connection opened later; touched only on `importQueue`.
    private var busyTimeout: Int32 = 2000

    /// Runs `body` on the import connection: a read-write connection of its own, one import at a
    /// time. An import stages and checks a drop in TEMP tables on it, which takes no lock on the
    /// store, and takes the write lock only for the final transaction that applies the drop.
    public func withImportConnection<T>(_ body: (Database) throws(StewardError) -> T) throws(StewardError) -> T {
        let result: Result<T, StewardError> = importQueue.sync {
            do throws(StewardError) {
                if importConnection == nil {
                    let connection = try Database(path: path)
                    // 256 MiB of page cache for the roster: a first import inserts into its tables
                    // in the files' order, not the key's, and touches B-tree pages all over. 64 MiB
                    // for staging, which appends; a re-import of a million students peaks at 0.7 GiB.
                    try connection.execute("""
                        \(Self.checkpointPolicy);
                        PRAGMA busy_timeout=\(busyTimeout); PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;
                        PRAGMA synchronous=FULL; PRAGMA temp_store=FILE; PRAGMA cache_size=-262144;
                        PRAGMA temp.cache_size=-65536
                        """)
                    importConnection = connection
                    interruptible.withLock { $0 = connection }
                }
                return .success(try body(importConnection!))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// No connection checkpoints the WAL by itself when it commits: an import's large transaction
    /// would otherwise make its own commit, or the next small audit write, copy the whole WAL
    /// into the database before returning. The store checkpoints with ``checkpoint()`` instead,
    /// after an import has answered and from a timer. The WAL file is cut back to 64 MiB after.
    static let checkpointPolicy = "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864"

    /// Copies the WAL into the database as far as readers allow (PASSIVE: it never waits for or
    /// blocks a writer), on the import connection's queue.
    public func checkpoint() {
        importQueue.sync {
            do throws(StewardError) {
                if importConnection == nil { return try writerCheckpoint() }
                try importConnection?.execute("PRAGMA wal_checkpoint(PASSIVE)")
            } catch {
                // A checkpoint that cannot run now runs next time; nothing is lost meanwhile.
            }
        }
    }

    private func writerCheckpoint() throws(StewardError) {
        let result: Result<Void, StewardError> = writerQueue.sync {
            do throws(StewardError) { try writer.execute("PRAGMA wal_checkpoint(PASSIVE)"); return .success(()) }
            catch { return .failure(error) }
        }
        try result.get()
    }

    /// The schema version the database is at.
    public func currentSchemaVersion() throws(StewardError) -> Int {
        Int(try read { db throws(StewardError) in try db.scalarInt("PRAGMA user_version") ?? 0 })
    }

    // MARK: Settings

    /// A daemon setting kept across restarts, such as whether sharing is paused.
    public func setting(_ key: String) throws(StewardError) -> String? {
        try read { db throws(StewardError) in
            let statement = try db.prepare("SELECT value FROM settings WHERE key = ?")
            try statement.bind([.text(key)])
            return try statement.step() ? statement.text(0) : nil
        }
    }

    /// Sets (or with nil, removes) a setting, together with its audit entry in one transaction.
    @discardableResult
    public func setSetting(_ key: String, to value: String?, audit event: AuditEvent) throws(StewardError) -> AuditEntry {
        try write { db throws(StewardError) in
            if let value {
                try db.prepare("INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                    .run([.text(key), .text(value)])
            } else {
                try db.prepare("DELETE FROM settings WHERE key = ?").run([.text(key)])
            }
            return try AuditLog.append(event, in: db)
        }
    }

    // MARK: Opening

    private static func makeDirectory(_ directory: String) throws(StewardError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw StewardError(.storeFailed, "the state directory \(directory) is a file, not a directory")
            }
            return
        }
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw StewardError(.storeFailed,
                "cannot create the state directory \(directory): \(String(cString: strerror(errno))); create it or choose another with --state-dir")
        }
    }

    private static func configureWriter(_ db: Database, busyTimeoutMilliseconds: Int32) throws(StewardError) {
        try db.execute("PRAGMA busy_timeout=\(busyTimeoutMilliseconds)")
        // The first statement to read the file: a damaged or foreign file fails here.
        let version = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
        guard version <= Migrations.latest else {
            throw StewardError(.storeTooNew,
                "the database was written by a newer Steward (schema \(version); this stewardd knows up to \(Migrations.latest)); run the newer stewardd, or restore a backup made by this version")
        }
        // Set before the first table: a new store gets 16 KiB pages (an existing one keeps its
        // own). A first import of a million students builds its indexes and commits about a
        // fifth faster than with 4 KiB pages.
        try db.execute("PRAGMA page_size=16384")
        let mode = try db.scalarText("PRAGMA journal_mode=WAL")
        guard mode?.lowercased() == "wal" else {
            throw StewardError(.storeFailed, "cannot switch the database to WAL mode (SQLite answered \(mode ?? "nothing"))")
        }
        try db.execute("PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; PRAGMA synchronous=FULL")
        try db.execute(Self.checkpointPolicy)
        guard try db.scalarInt("PRAGMA foreign_keys") == 1, try db.scalarInt("PRAGMA secure_delete") == 1 else {
            throw StewardError(.storeFailed, "this SQLite build refuses foreign_keys or secure_delete; Steward needs both")
        }
    }

    private static func migrate(_ db: Database) throws(StewardError) {
        // Checked again inside the write lock: another process may have migrated meanwhile.
        try db.transaction { () throws(StewardError) in
            let version = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
            guard version <= Migrations.latest else {
                throw StewardError(.storeTooNew, "the database was written by a newer Steward (schema \(version))")
            }
            for number in (version + 1)..<(Migrations.latest + 1) {
                try db.execute(Migrations.all[number - 1])
                try db.execute("PRAGMA user_version=\(number)")
            }
        }
    }
}

/// An exclusive `flock` on the state directory's lock file, held while the store is open, so
/// that two daemons never share one store.
final class StateDirectoryLock: @unchecked Sendable {
    // Sound because `descriptor` changes only in `release()`, which Store.close() calls once,
    // after both connections are closed.
    private var descriptor: Int32

    init(directory: String) throws(StewardError) {
        let path = directory + "/stewardd.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StewardError(.storeFailed, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            Glibc.close(fd)
            throw StewardError(.stateDirectoryInUse,
                "another stewardd is using the state directory \(directory); stop it first, or give this one its own --state-dir")
        }
        descriptor = fd
    }

    /// Gives the lock up; the store must not be used afterwards.
    func release() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    deinit { release() }
}

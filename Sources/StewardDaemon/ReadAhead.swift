import Dispatch
import Foundation
import StewardCore
import StewardStore
import Synchronization

/// Read-ahead for partners that page through a view in order, as every full sync does: once a
/// page is read (in roster order, `page`, or forward in id order, `idPage`), the page after it
/// is read while the first is built, recorded and sent, and the partner's next request finds
/// it ready.
///
/// - **Only when a reader is idle.** A read-ahead starts only while fewer requests and
///   read-aheads run than the store has readers (one per core, at least two), so partners that
///   keep them all busy are never slowed by reads nobody may ask for.
/// - **Nothing is disclosed by reading ahead.** A page read ahead is only held in memory; it is
///   recorded as a disclosure when, and only when, a request of the same partner is answered
///   with it, exactly as if that request had read it.
/// - **Only the same view.** It is kept under the partner, kind, cursor, limit, `changedSince`
///   and roster version it was read for, and taken only by a request with the same policy
///   (the token's scopes and the grant as they stand at that request): a reload or another token
///   reads afresh.
/// - **Bounded.** One page per partner and kind, at most ``capacity`` pages, each dropped after
///   ``lifetime`` seconds unused.
final class ReadAhead: Sendable {
    struct Key: Hashable, Sendable {
        var partner: String
        var kind: StewardCore.SharedRecord.Kind
        var after: String?
        var limit: Int
        var changedSince: Int64?
        var rosterVersion: Int64
        /// The fields the connector asked for (nil for all).
        var fields: Set<String>? = nil
        /// A page of the view's members in id order (`idPage`) rather than in roster order.
        var byId = false
    }

    /// A page read ahead, and the newest roster version its read saw.
    struct Page: Sendable {
        var page: StewardCore.SharedView.Page
        var versionRead: Int64
    }

    private final class Entry: Sendable {
        let key: Key
        let policy: SharingPolicy
        let started: Date
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Page?>(nil)

        init(key: Key, policy: SharingPolicy, started: Date) {
            self.key = key
            self.policy = policy
            self.started = started
        }
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Requests being answered and read-aheads running.
        var busy = 0
        /// Pages started and pages a request was answered with, since the daemon started.
        var started = 0
        var taken = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    /// How many requests and read-aheads may run before none is started: the store's readers.
    let readers: Int
    let lifetime: TimeInterval
    /// The threads pages are read on, a partner always on the same one.
    private let workers: [Worker]

    init(readers: Int = Store.readerCount, capacity: Int = 64, lifetime: TimeInterval = 30) {
        self.readers = readers
        self.capacity = capacity
        self.lifetime = lifetime
        workers = (0..<max(1, readers - 1)).map { Worker(name: "steward.read-ahead.\($0)") }
    }

    deinit { for worker in workers { worker.stop() } }

    private func worker(for partner: String) -> Worker {
        // FNV-1a: the same partner on the same thread from run to run.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in partner.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return workers[Int(hash % UInt64(workers.count))]
    }

    /// Hands back a page a request was answered with, once the request is done with it: its
    /// memory is released on the thread that read it (the allocator's per-thread arenas then
    /// take no lock shared between the two), after that thread's next page or when idle.
    func retire(_ page: Page, of partner: String) {
        worker(for: partner).retire(page)
    }

    /// Marks a request as running while `body` answers it.
    func answering<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { $0.busy += 1 }
        defer { state.withLock { $0.busy -= 1 } }
        return try body()
    }

    /// The page read ahead for `key` under `policy`, waiting for it if its read is still running;
    /// nil when there is none (or it failed, or was read for another policy). A page is taken once.
    func take(_ key: Key, policy: SharingPolicy) -> Page? {
        guard let entry = state.withLock({ $0.entries.removeValue(forKey: key) }) else { return nil }
        guard entry.policy == policy else { return nil }
        entry.done.wait()
        guard let page = entry.result.withLock({ $0 }) else { return nil }
        state.withLock { $0.taken += 1 }
        return page
    }

    /// Starts reading `key` ahead with `read` on an idle reader, unless none is idle or it is
    /// already kept. Replaces what was kept for the same partner and kind.
    func start(_ key: Key, policy: SharingPolicy, now: Date = Date(), read: @escaping @Sendable () -> Page?) {
        let entry = Entry(key: key, policy: policy, started: now)
        let started = state.withLock { state -> Bool in
            guard state.busy < readers, state.entries[key] == nil else { return false }
            state.entries = state.entries.filter { _, kept in
                now.timeIntervalSince(kept.started) < lifetime && !(kept.key.partner == key.partner && kept.key.kind == key.kind)
            }
            if state.entries.count >= capacity, let oldest = state.entries.values.min(by: { $0.started < $1.started }) {
                state.entries[oldest.key] = nil
            }
            state.entries[key] = entry
            state.busy += 1
            state.started += 1
            return true
        }
        guard started else { return }
        worker(for: key.partner).run { [self] in
            let page = read()
            entry.result.withLock { $0 = page }
            // No longer busy before the page is handed over: the request that waits for it
            // starts the next read at once, and must not find this one still counted.
            state.withLock { $0.busy -= 1 }
            entry.done.signal()
        }
    }

    /// One thread that reads pages ahead, one after another, and releases the pages handed back
    /// to it: after each read (those handed back before it started, which their requests have
    /// most likely finished with), and when it has had nothing to do for a tenth of a second.
    /// Holding nothing, it sleeps until the next job.
    private final class Worker: Sendable {
        private struct Queue {
            var jobs: [@Sendable () -> Void] = []
            var retired: [Page] = []
            /// Asleep until the next signal, holding nothing.
            var sleeping = false
            var stopped = false
        }

        private let queue = Mutex(Queue())
        private let wake = DispatchSemaphore(value: 0)

        /// The thread holds its worker until `stop()`.
        init(name: String) {
            let thread = Thread { [self] in loop() }
            thread.name = name
            thread.start()
        }

        func run(_ job: @escaping @Sendable () -> Void) {
            queue.withLock { $0.jobs.append(job) }
            wake.signal()
        }

        /// Keeps `page` to release; a sleeping worker is woken to start counting its idle time.
        func retire(_ page: Page) {
            let asleep = queue.withLock { queue in
                queue.retired.append(page)
                return queue.sleeping
            }
            if asleep { wake.signal() }
        }

        func stop() {
            queue.withLock { $0.stopped = true }
            wake.signal()
        }

        private func loop() {
            while true {
                let timedOut: Bool
                if queue.withLock({ queue in queue.sleeping = queue.retired.isEmpty; return queue.sleeping }) {
                    wake.wait()
                    timedOut = false
                } else {
                    timedOut = wake.wait(timeout: .now() + .milliseconds(100)) == .timedOut
                }
                let (job, stopped, retiredBefore) = queue.withLock { queue in
                    queue.sleeping = false
                    return (queue.jobs.isEmpty ? nil : queue.jobs.removeFirst(), queue.stopped, queue.retired.count)
                }
                if stopped { return }
                guard job != nil || timedOut else { continue }
                job?()
                // Released here, outside the lock; pages handed back while the job ran wait for the next.
                let released = queue.withLock { queue in
                    let count = timedOut ? queue.retired.count : retiredBefore
                    let released = Array(queue.retired.prefix(count))
                    queue.retired.removeFirst(count)
                    return released
                }
                _ = consume released
            }
        }
    }

    /// Pages kept or being read now; pages started and taken since the start.
    var counts: (kept: Int, started: Int, taken: Int) { state.withLock { ($0.entries.count, $0.started, $0.taken) } }
}

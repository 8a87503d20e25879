import Synchronization

/// Kept-alive connections by origin, most recently used last. A connection is either here or
/// with the one send call that checked it out.
final class HTTPSClientPool: Sendable {
    private let idle = Mutex<[String: [HTTPSClientConnection]]>([:])
    private let maximumPerOrigin: Int
    private let lifetime: Duration

    init(maximumPerOrigin: Int, lifetime: Duration) {
        self.maximumPerOrigin = maximumPerOrigin
        self.lifetime = lifetime
    }

    /// The most recently used connection to `origin` that is still young and still open, if any;
    /// older or closed ones are dropped on the way.
    func checkOut(_ origin: String) -> HTTPSClientConnection? {
        let now = ContinuousClock.now
        while let connection = take(origin) {
            if connection.idleSince.duration(to: now) < lifetime && connection.isReusable { return connection }
        }
        return nil
    }

    /// Keeps `connection` for the next request to its origin, dropping the oldest one beyond the limit.
    func checkIn(_ connection: HTTPSClientConnection) {
        guard maximumPerOrigin > 0, connection.isReusable else { return }
        connection.idleSince = .now
        let origin = connection.target.origin
        let surplus = idle.withLock { idle -> HTTPSClientConnection? in
            idle[origin, default: []].append(connection)
            return idle[origin]!.count > maximumPerOrigin ? idle[origin]!.removeFirst() : nil
        }
        release(surplus)
    }

    /// Closes every idle connection.
    func removeAll() {
        let all = idle.withLock { idle -> [String: [HTTPSClientConnection]] in
            defer { idle = [:] }
            return idle
        }
        release(all)
    }

    /// Lets go of connections outside the lock, where their deinit sends close_notify and closes the socket.
    private func release<Dropped>(_ dropped: consuming Dropped) {
        _ = consume dropped
    }

    private func take(_ origin: String) -> HTTPSClientConnection? {
        idle.withLock { $0[origin]?.popLast() }
    }
}

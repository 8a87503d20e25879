#if canImport(Glibc)
import Glibc
#endif
import StewardSystem

/// Resolving a partner's host and opening a non-blocking TCP connection to it, bounded by time.
enum HTTPSClientSocket {
    /// One address getaddrinfo gave.
    struct Address {
        var storage = sockaddr_storage()
        var length: socklen_t = 0
        var family: Int32 = 0
    }

    /// How waiting for a socket ended.
    enum Readiness {
        case ready, timedOut
    }

    /// A connected, non-blocking, close-on-exec socket to one of `target`'s addresses, tried in the
    /// order the resolver gives them, each for at most `timeout` (and never past `deadline`).
    ///
    /// Name resolution uses getaddrinfo, which blocks and has no timeout of its own: the resolver's
    /// (resolv.conf `timeout` and `attempts`) applies.
    static func connect(to target: HTTPSClientTarget, timeout: Duration, deadline: ContinuousClock.Instant)
        throws(HTTPSClientError) -> Int32 {
        var failures: [String] = []
        var allTimedOut = true
        for address in try resolve(target) {
            let attemptDeadline = min(deadline, .now + timeout)
            switch attempt(address, deadline: attemptDeadline) {
            case .success(let socket):
                return socket
            case .failure(let failure):
                failures.append(failure.reason)
                allTimedOut = allTimedOut && failure.timedOut
            }
            if ContinuousClock.now >= deadline { break }
        }
        if allTimedOut {
            throw HTTPSClientError(.connectTimeout,
                                   "no address of the partner accepted a connection within \(timeout); check that the "
                                       + "partner's server is up and that a firewall lets Steward reach it",
                                   origin: target.origin)
        }
        throw HTTPSClientError(.connectFailed,
                               "every address of the partner refused the connection (\(failures.joined(separator: "; ")))"
                                   + "; check the port and that the partner's server is running", origin: target.origin)
    }

    private static func resolve(_ target: HTTPSClientTarget) throws(HTTPSClientError) -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(target.host, String(target.port), &hints, &list)
        guard status == 0, let list else {
            throw HTTPSClientError(.dnsFailed,
                                   "the host name did not resolve (\(String(cString: gai_strerror(status)))); check the "
                                       + "partner's host name and this machine's DNS", origin: target.origin)
        }
        defer { freeaddrinfo(list) }
        var addresses: [Address] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry?.pointee {
            if let source = current.ai_addr, Int(current.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size {
                var address = Address(length: current.ai_addrlen, family: current.ai_family)
                withUnsafeMutableBytes(of: &address.storage) { destination in
                    destination.copyMemory(from: UnsafeRawBufferPointer(start: source, count: Int(current.ai_addrlen)))
                }
                addresses.append(address)
            }
            entry = current.ai_next
        }
        return addresses
    }

    private struct AttemptFailure: Error {
        var reason: String
        var timedOut: Bool
    }

    private static func attempt(_ address: Address, deadline: ContinuousClock.Instant) -> Result<Int32, AttemptFailure> {
        let socket = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                                      | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { return .failure(AttemptFailure(reason: systemError(), timedOut: false)) }
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, address.length) }
        }
        if rc != 0 && errno != EINPROGRESS && errno != EINTR {
            let reason = systemError()
            close(socket)
            return .failure(AttemptFailure(reason: reason, timedOut: false))
        }
        if rc != 0 {
            guard wait(for: socket, events: Int16(POLLOUT), until: deadline) == .ready else {
                close(socket)
                return .failure(AttemptFailure(reason: "timed out", timedOut: true))
            }
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(socket, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if socketError != 0 {
                close(socket)
                return .failure(AttemptFailure(reason: String(cString: strerror(socketError)), timedOut: false))
            }
        }
        var on: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return .success(socket)
    }

    /// Waits until `socket` has one of `events` (or an error or hang-up, which the next call on it
    /// reports), or `deadline` passes.
    static func wait(for socket: Int32, events: Int16, until deadline: ContinuousClock.Instant) -> Readiness {
        var entry = pollfd(fd: socket, events: events, revents: 0)
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return .timedOut }
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let rc = poll(&entry, 1, milliseconds)
            if rc > 0 { return .ready }
            if rc < 0 && errno != EINTR { return .ready }
        }
    }

    /// Whether a kept-alive socket has something to read or has ended: either way it cannot carry
    /// a new request, since a server sends nothing unasked.
    static func hasPendingInputOrEnded(_ socket: Int32) -> Bool {
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return retryingInterrupts { poll(&entry, 1, 0) } != 0
    }

    private static func systemError() -> String {
        String(cString: strerror(errno))
    }
}

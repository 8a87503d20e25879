#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import StewardControl
import StewardCore

/// The control socket: a Unix stream socket, passed in by systemd (`LISTEN_FDS`) or bound by the
/// daemon. It accepts without blocking, reads each caller's credentials from the kernel and
/// hands the connection to an event loop.
final class ControlListener: @unchecked Sendable {
    // Sound because `source` and `connections` are touched only on `acceptQueue`, a serial
    // queue; every other field is immutable.
    private let descriptor: Int32
    private let path: String
    /// Whether the daemon bound the socket itself (and so removes it at exit).
    private let isOwned: Bool
    private let loops: EventLoops
    private let handler: any ControlHandling
    private let maxConnections: Int
    private let acceptQueue = DispatchQueue(label: "steward.control.accept")
    private var source: DispatchSourceRead?
    private var connections: [ObjectIdentifier: ControlConnection] = [:]

    /// Takes the socket systemd passed, when there is one, or binds `path` with `mode`.
    init(path: String, mode: mode_t, maxConnections: Int, loops: EventLoops, handler: any ControlHandling,
         environment: [String: String]) throws(StewardError) {
        self.path = path
        self.loops = loops
        self.handler = handler
        self.maxConnections = maxConnections
        if let inherited = Self.activatedSocket(environment) {
            descriptor = inherited
            isOwned = false
        } else {
            descriptor = try Self.bind(path, mode: mode)
            isOwned = true
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// Whether the socket came from systemd's socket activation.
    var isActivated: Bool { !isOwned }

    var connectionCount: Int { acceptQueue.sync { connections.count } }

    func start() {
        acceptQueue.async { [self] in
            let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: acceptQueue)
            source.setEventHandler { [self] in acceptAll() }
            self.source = source
            source.resume()
        }
    }

    /// Stops accepting, closes every connection and removes the socket file if the daemon made it.
    func stop() {
        acceptQueue.sync {
            source?.cancel()
            source = nil
            connections.values.forEach { $0.finish(with: .failure(.shuttingDown, "stewardd is stopping")) }
            connections = [:]
        }
        if isOwned { unlink(path) }
    }

    private func acceptAll() {
        while true {
            // accept4 is a GNU extension Glibc's module does not export; the daemon never forks,
            // so setting the flags just after accept leaves no window that matters.
            let client = accept(descriptor, nil, nil)
            if client >= 0 {
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            }
            if client < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { Log.warning("control socket: accept failed: \(String(cString: strerror(errno)))") }
                return
            }
            admit(client)
        }
    }

    private func admit(_ client: Int32) {
        let peer: PeerCredentials
        do {
            peer = try PeerCredentials(socket: client)
        } catch {
            Log.warning("control socket: cannot read the caller's credentials (\(error)); connection closed")
            close(client)
            return
        }
        let connection = ControlConnection(descriptor: client, peer: peer, loop: loops.next(), handler: handler) { [weak self] closed in
            guard let self else { return }
            acceptQueue.async { self.connections.removeValue(forKey: ObjectIdentifier(closed)) }
        }
        let admitted = connections.count < maxConnections
        if admitted { connections[ObjectIdentifier(connection)] = connection }
        connection.start()
        if !admitted {
            Log.warning("control socket: \(maxConnections) connections already open; refused one from uid \(peer.uid) pid \(peer.pid)")
            connection.finish(with: .failure(.internalError, "too many control connections are open (\(maxConnections)); try again"))
        }
    }

    /// The first socket systemd passed, when `LISTEN_PID` names this process.
    private static func activatedSocket(_ environment: [String: String]) -> Int32? {
        guard let pid = environment["LISTEN_PID"].flatMap(Int32.init), pid == getpid(),
              let count = environment["LISTEN_FDS"].flatMap(Int32.init), count >= 1 else { return nil }
        let first: Int32 = 3  // SD_LISTEN_FDS_START
        _ = fcntl(first, F_SETFD, FD_CLOEXEC)
        return first
    }

    private static func bind(_ path: String, mode: mode_t) throws(StewardError) -> Int32 {
        let directory = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: directory) {
            mkdir(directory, 0o755)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StewardError(.systemCallFailed, "cannot create the control socket: \(String(cString: strerror(errno)))") }
        do {
            try refuseIfServing(path)
            unlink(path)
            _ = try withUnixAddress(path) { address, length in
                try systemCall("bind", path) { Glibc.bind(fd, address, length) }
            }
            try systemCall("chmod", path) { chmod(path, mode) }
            try systemCall("listen", path) { listen(fd, 64) }
            return fd
        } catch let error as StewardError {
            close(fd)
            throw error
        } catch {
            close(fd)
            throw StewardError(.systemCallFailed, "cannot listen on the control socket: \(error)", location: path)
        }
    }

    /// A live socket at `path` means another daemon answers there: never steal it.
    private static func refuseIfServing(_ path: String) throws(StewardError) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        if (try? ControlClient(socketPath: path)) != nil {
            throw StewardError(.stateDirectoryInUse,
                "another process already answers on the control socket; stop it or choose another --socket", location: path)
        }
    }
}

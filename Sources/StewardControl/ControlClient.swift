#if canImport(Glibc)
import Glibc
#endif

/// A blocking client for the control socket, for `stewardctl`, the benchmark and tests. One
/// request at a time; streamed replies are handed over one by one.
public final class ControlClient {
    /// Why a call did not get a reply.
    public enum Failure: Error, CustomStringConvertible {
        /// The socket could not be reached: no daemon, or no permission on the socket file.
        case unreachable(path: String, reason: String)
        /// The daemon closed the connection before replying.
        case disconnected
        /// The daemon sent something that is not a reply.
        case malformedReply(String)

        public var description: String {
            switch self {
            case .unreachable(let path, let reason):
                return "cannot reach stewardd at \(path): \(reason); is it running, and is this the right --socket?"
            case .disconnected:
                return "stewardd closed the connection before replying"
            case .malformedReply(let reason):
                return "stewardd sent a reply that could not be read: \(reason)"
            }
        }
    }

    private let descriptor: Int32
    private var buffer: [UInt8] = []
    public let socketPath: String

    /// Connects to the daemon's control socket at `socketPath`.
    public init(socketPath: String) throws(Failure) {
        self.socketPath = socketPath
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(path: socketPath, reason: String(cString: strerror(errno))) }
        do {
            _ = try withUnixAddress(socketPath) { address, length in
                try systemCall("connect", socketPath) { connect(fd, address, length) }
            }
        } catch {
            close(fd)
            throw .unreachable(path: socketPath, reason: (error as? SystemCallError).map { String(cString: strerror($0.errno)) } ?? "\(error)")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Sends `request` and returns its one reply (the last one, for a stream).
    public func call(_ request: ControlRequest) throws -> ControlReply {
        var last: ControlReply?
        try stream(request) { last = $0 }
        guard let last else { throw Failure.disconnected }
        return last
    }

    /// Sends `request` and hands each reply to `body` until one does not continue.
    public func stream(_ request: ControlRequest, _ body: (ControlReply) throws -> Void) throws {
        try sendLine(ControlCoding.encodeLine(request))
        while true {
            let line = try readLine()
            let reply: ControlReply
            do { reply = try ControlCoding.decodeLine(ControlReply.self, from: line) }
            catch { throw Failure.malformedReply("not a JSON reply object") }
            try body(reply)
            if reply.continues != true { return }
        }
    }

    /// Writes raw bytes, for tests that send what a well-behaved client would not.
    public func sendLine(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = try bytes.withUnsafeBytes { raw in
                try systemCall("write", socketPath) { send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            offset += written
        }
    }

    /// Reads one line (without its newline).
    public func readLine() throws -> [UInt8] {
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = try chunk.withUnsafeMutableBytes { raw in
                try systemCall("read", socketPath) { recv(descriptor, raw.baseAddress, raw.count, 0) }
            }
            if count == 0 { throw Failure.disconnected }
            buffer += chunk[..<count]
        }
    }
}

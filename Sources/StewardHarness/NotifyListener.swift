#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl

/// A stand-in for systemd's notification socket: a datagram socket that records every
/// sd_notify message a daemon sends, so tests and the benchmark can wait for `READY=1`,
/// `RELOADING=1` and `STOPPING=1` the way systemd does.
public final class NotifyListener: @unchecked Sendable {
    // Sound because `messages` is guarded by `lock`; `descriptor` and `path` are immutable.
    public let path: String
    private let descriptor: Int32
    private let lock = NSCondition()
    private var messages: [(at: UInt64, text: String)] = []
    private var isClosed = false

    public init(path: String) throws {
        self.path = path
        unlink(path)
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        _ = try withUnixAddress(path) { address, length in
            try systemCall("bind", path) { bind(descriptor, address, length) }
        }
        let thread = Thread { [self] in receive() }
        thread.start()
    }

    deinit { close() }

    public func close() {
        lock.lock()
        let wasClosed = isClosed
        isClosed = true
        lock.unlock()
        if !wasClosed {
            shutdown(descriptor, Int32(SHUT_RDWR))
            Glibc.close(descriptor)
            unlink(path)
        }
    }

    /// Every message so far, in order.
    public var received: [String] {
        lock.lock()
        defer { lock.unlock() }
        return messages.map(\.text)
    }

    /// Waits until a message containing the line `line` arrives after the first `skip` messages;
    /// returns its index and the monotonic time it arrived (microseconds), or nil on timeout.
    @discardableResult
    public func wait(for line: String, after skip: Int = 0, timeout: TimeInterval = 15) -> (index: Int, at: UInt64)? {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let index = messages.indices.first(where: { $0 >= skip && messages[$0].text.split(separator: "\n").contains(Substring(line)) }) {
                return (index, messages[index].at)
            }
            if !lock.wait(until: deadline) { return nil }
        }
    }

    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            let at = Self.monotonicMicroseconds()
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            lock.lock()
            if isClosed { lock.unlock(); return }
            messages.append((at, String(decoding: buffer[..<count], as: UTF8.self)))
            lock.broadcast()
            lock.unlock()
        }
    }

    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

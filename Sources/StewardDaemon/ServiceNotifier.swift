#if canImport(Glibc)
import Glibc
#endif
import StewardControl

/// Tells systemd how the service is doing, by writing sd_notify datagrams to `$NOTIFY_SOCKET`
/// itself (no libsystemd): `READY=1`, `STATUS=…`, `RELOADING=1` with `MONOTONIC_USEC`,
/// `STOPPING=1` and `WATCHDOG=1`. Without `$NOTIFY_SOCKET` every call does nothing.
public final class ServiceNotifier: Sendable {
    private let path: String?
    private let descriptor: Int32

    /// The watchdog interval systemd asked for, when it asked this process.
    public let watchdogInterval: Duration?

    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.path = path
        descriptor = path == nil ? -1 : socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let forThisProcess = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forThisProcess, let micros = environment["WATCHDOG_USEC"].flatMap(UInt64.init), micros > 0 {
            watchdogInterval = .microseconds(micros)
        } else {
            watchdogInterval = nil
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ status: String) { send("STATUS=\(status)") }
    public func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())\nSTATUS=Reloading configuration") }
    public func stopping() { send("STOPPING=1\nSTATUS=Stopping") }
    public func watchdog() { send("WATCHDOG=1") }

    private func send(_ message: String) {
        guard let path, descriptor >= 0 else { return }
        let bytes = Array(message.utf8)
        do {
            _ = try withUnixAddress(path) { address, length in
                try bytes.withUnsafeBytes { raw in
                    try systemCall("sendto", path) { sendto(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), address, length) }
                }
            }
        } catch {
            Log.warning("cannot notify systemd at $NOTIFY_SOCKET: \(error)")
        }
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on what, and `errno` in words.
public struct SystemCallError: Error, Sendable, CustomStringConvertible, Equatable {
    public var call: String
    public var errno: Int32
    public var context: String?

    public init(call: String, errno: Int32, context: String? = nil) {
        self.call = call
        self.errno = errno
        self.context = context
    }

    public var description: String {
        let text = String(cString: strerror(errno))
        if let context { return "\(call) \(context): \(text)" }
        return "\(call): \(text)"
    }
}

/// Every system call in Steward goes through here or through ``retryingInterrupts(_:)``: it
/// retries `EINTR` and turns a failure into a ``SystemCallError``. `EAGAIN` is returned to the
/// caller as an error like any other, for non-blocking code to handle.
@discardableResult
public func systemCall<T: BinaryInteger>(_ name: String, _ context: String? = nil, _ body: () -> T) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: name, errno: code, context: context)
    }
}

/// Runs a system call again while it fails with `EINTR`, and returns its result as it is: for
/// code that reads `errno` itself (non-blocking I/O, where `EAGAIN` is routine).
@discardableResult
public func retryingInterrupts<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

/// A `sockaddr_un` for a filesystem path, or an abstract name when the path starts with `@`
/// (as `$NOTIFY_SOCKET` may). Fails when the path does not fit.
public func withUnixAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) throws -> R {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var bytes = Array(path.utf8)
    let isAbstract = bytes.first == UInt8(ascii: "@")
    if isAbstract { bytes[0] = 0 }
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else {
        throw SystemCallError(call: "socket address", errno: ENAMETOOLONG, context: path)
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        if !isAbstract { raw[bytes.count] = 0 }
    }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (isAbstract ? 0 : 1))
    return try withUnsafePointer(to: &address) {
        try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import StewardSystem

/// A bound, listening, non-blocking, close-on-exec TCP socket.
struct ListeningSocket: Sendable {
    let descriptor: Int32
    /// The port bound: the configured one, or the kernel's choice for port 0.
    let port: UInt16

    static let backlog: Int32 = 511

    /// Binds and listens on `address`. The wildcard `*` is one IPv6 socket that takes IPv4
    /// clients too, or an IPv4 socket on a machine without IPv6.
    static func open(_ address: HTTPSServer.Address) throws(HTTPSServerError) -> ListeningSocket {
        switch address.host {
        case .ipv4: return try open(address, family: AF_INET)
        case .ipv6: return try open(address, family: AF_INET6)
        case .any:
            do {
                return try open(address, family: AF_INET6)
            } catch where error.code == .addressUnavailable || error.code == .socketFailed {
                return try open(address, family: AF_INET)
            }
        }
    }

    private static func open(_ address: HTTPSServer.Address, family: Int32) throws(HTTPSServerError) -> ListeningSocket {
        guard var socketAddress = SocketAddress(address, family: family) else {
            throw HTTPSServerError(.invalidAddress, "the host is not a numeric IP address", address: address.description)
        }
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let descriptor = socket(family, flags, 0)
        guard descriptor >= 0 else {
            throw HTTPSServerError.listening("socket", errno: errno, address: address.description)
        }
        func failure(_ call: String) -> HTTPSServerError {
            let code = errno
            close(descriptor)
            return HTTPSServerError.listening(call, errno: code, address: address.description)
        }
        var yes: Int32 = 1
        var onlyIPv6: Int32 = address.host == .any ? 0 : 1
        let optionSize = socklen_t(MemoryLayout<Int32>.size)
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, optionSize)
        if family == AF_INET6 { setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &onlyIPv6, optionSize) }
        guard socketAddress.withSockaddr({ bind(descriptor, $0, $1.pointee) }) == 0 else { throw failure("bind") }
        guard listen(descriptor, backlog) == 0 else { throw failure("listen") }
        var local = SocketAddress()
        _ = local.withSockaddr { getsockname(descriptor, $0, $1) }
        return ListeningSocket(descriptor: descriptor, port: local.port)
    }

    enum Accepted {
        case client(Int32, SocketAddress)
        /// No connection is waiting.
        case none
        /// accept failed with this errno.
        case failed(Int32)
    }

    /// The next waiting connection, made non-blocking and close-on-exec, with Nagle off so that
    /// small responses leave at once.
    func accept() -> Accepted {
        var peer = SocketAddress()
        // accept4 is a GNU extension Glibc's module does not export; the flags are set at once below.
        let client = peer.withSockaddr { pointer, length in retryingInterrupts { Glibc.accept(descriptor, pointer, length) } }
        guard client >= 0 else {
            return errno == EAGAIN || errno == EWOULDBLOCK ? .none : .failed(errno)
        }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        var yes: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        return .client(client, peer)
    }
}

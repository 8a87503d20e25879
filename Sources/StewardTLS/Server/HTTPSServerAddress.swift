#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension HTTPSServer {
    /// Where a server listens: one IPv4 or IPv6 address of the machine, or all of them, and a port.
    ///
    /// Written as `192.0.2.10:8443`, `[2001:db8::10]:8443` or `*:8443`. Hosts are numeric: a name
    /// would be resolved once, at start, to whatever DNS said then, and the operator should see
    /// exactly which interface partners reach. Port 0 lets the kernel choose (for tests);
    /// ``HTTPSServer/port`` tells which it chose.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public enum Host: Sendable, Hashable {
            /// Every address of the machine, IPv6 and IPv4 alike.
            case any
            /// One IPv4 address, dotted: `192.0.2.10`.
            case ipv4(String)
            /// One IPv6 address, without brackets: `2001:db8::10`.
            case ipv6(String)
        }

        public var host: Host
        public var port: UInt16

        public init(host: Host, port: UInt16) {
            self.host = host
            self.port = port
        }

        /// Reads `host:port`, `[IPv6]:port` or `*:port`; the error says which form to use.
        public init(parsing text: String) throws(HTTPSServerError) {
            let text = text.trimmingCharacters(in: .whitespaces)
            let invalid = { (why: String) in
                HTTPSServerError(.invalidAddress,
                                 "\(why); write the listen address as 192.0.2.10:8443, [2001:db8::10]:8443 or *:8443",
                                 address: text)
            }
            let hostText: Substring
            let portText: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                    throw invalid("an IPv6 address in brackets must be followed by :port")
                }
                hostText = text[text.index(after: text.startIndex)..<close]
                portText = text[text.index(close, offsetBy: 2)...]
                guard let address = Self.canonical(String(hostText), family: AF_INET6) else {
                    throw invalid("\(hostText) is not an IPv6 address")
                }
                host = .ipv6(address)
            } else {
                guard let colon = text.lastIndex(of: ":") else { throw invalid("the port is missing") }
                hostText = text[..<colon]
                portText = text[text.index(after: colon)...]
                if hostText == "*" {
                    host = .any
                } else if hostText.contains(":") {
                    throw invalid("an IPv6 address must be written in brackets")
                } else if let address = Self.canonical(String(hostText), family: AF_INET) {
                    host = .ipv4(address)
                } else {
                    throw invalid("\"\(hostText)\" is not an IPv4 address (host names are not accepted)")
                }
            }
            guard !portText.isEmpty, portText.allSatisfy(\.isASCIIDigit), portText.count <= 5,
                  let port = UInt16(portText)
            else { throw invalid("the port must be a number from 0 to 65535") }
            self.port = port
        }

        public var description: String {
            switch host {
            case .any: return "*:\(port)"
            case .ipv4(let address): return "\(address):\(port)"
            case .ipv6(let address): return "[\(address)]:\(port)"
            }
        }

        /// `text` in the canonical form inet_ntop writes, or nil when it is no address of `family`.
        static func canonical(_ text: String, family: Int32) -> String? {
            var bytes = in6_addr()
            guard inet_pton(family, text, &bytes) == 1 else { return nil }
            return withUnsafeBytes(of: bytes) { SocketAddress.text(of: $0, family: family) }
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A socket address as the kernel takes and gives it (IPv4 or IPv6), and its text.
struct SocketAddress: Sendable {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)

    init() {}

    /// The address to bind for `address`; `.any` is the IPv6 wildcard when `family` is AF_INET6,
    /// the IPv4 one otherwise. Nil when the host text is no address of its family.
    init?(_ address: HTTPSServer.Address, family: Int32) {
        switch (address.host, family) {
        case (.any, AF_INET6):
            self.init(ipv6: in6addr_any, port: address.port)
        case (.any, _):
            self.init(ipv4: in_addr(s_addr: INADDR_ANY), port: address.port)
        case (.ipv4(let text), _):
            var bytes = in_addr()
            guard inet_pton(AF_INET, text, &bytes) == 1 else { return nil }
            self.init(ipv4: bytes, port: address.port)
        case (.ipv6(let text), _):
            var bytes = in6_addr()
            guard inet_pton(AF_INET6, text, &bytes) == 1 else { return nil }
            self.init(ipv6: bytes, port: address.port)
        }
    }

    private init(ipv4 bytes: in_addr, port: UInt16) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = bytes
        setStorage(address)
    }

    private init(ipv6 bytes: in6_addr, port: UInt16) {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        address.sin6_addr = bytes
        setStorage(address)
    }

    private mutating func setStorage<T>(_ address: T) {
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
        }
        length = socklen_t(MemoryLayout<T>.size)
    }

    var family: Int32 { Int32(storage.ss_family) }

    /// Calls `body` with the address as the `sockaddr` pointer and length the socket calls take.
    mutating func withSockaddr<R>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> R) -> R {
        // Sound: sockaddr_storage is laid out to be viewed as any sockaddr type.
        withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &length) }
        }
    }

    var port: UInt16 {
        withUnsafeBytes(of: storage) { raw in
            family == AF_INET6
                ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
                : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
    }

    /// The host as text: `203.0.113.7`, `2001:db8::7`. An IPv4 client reaching an IPv6 wildcard
    /// socket (`::ffff:203.0.113.7`) is shown, and counted, as the IPv4 address it is.
    var host: String {
        withUnsafeBytes(of: storage) { raw -> String in
            if family == AF_INET {
                return withUnsafeBytes(of: raw.load(as: sockaddr_in.self).sin_addr) { Self.text(of: $0, family: AF_INET) }
            }
            let octets = withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
            if octets[0..<10].allSatisfy({ $0 == 0 }) && octets[10] == 0xff && octets[11] == 0xff {
                return octets[12...].withUnsafeBytes { Self.text(of: $0, family: AF_INET) }
            }
            return octets.withUnsafeBytes { Self.text(of: $0, family: AF_INET6) }
        }
    }

    /// `203.0.113.7:51234` or `[2001:db8::7]:51234`.
    var text: String {
        let host = self.host
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The address in `bytes` (4 for IPv4, 16 for IPv6) as inet_ntop writes it.
    static func text(of bytes: UnsafeRawBufferPointer, family: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes.baseAddress, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

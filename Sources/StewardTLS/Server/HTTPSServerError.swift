#if canImport(Glibc)
import Glibc
#endif

/// Why an ``HTTPSServer`` could not start listening: a code to act on, a message that tells the
/// operator what to change, and the address it concerns.
public struct HTTPSServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public var description: String { name }
        private init(_ name: String) { self.name = name }

        /// The listen address is not `host:port`, `[IPv6]:port` or `*:port` with a numeric host.
        public static let invalidAddress = Code("invalid-address")
        /// Another process (or another server in this one) already listens on the address.
        public static let addressInUse = Code("address-in-use")
        /// The address belongs to no interface of this machine.
        public static let addressUnavailable = Code("address-unavailable")
        /// A port under 1024 needs CAP_NET_BIND_SERVICE.
        public static let permissionDenied = Code("permission-denied")
        /// Creating, binding or listening on the socket failed for another reason, named in the message.
        public static let socketFailed = Code("socket-failed")
    }

    public var code: Code
    /// What happened and what to do about it.
    public var message: String
    /// The listen address concerned, as configured.
    public var address: String?

    public init(_ code: Code, _ message: String, address: String? = nil) {
        self.code = code
        self.message = message
        self.address = address
    }

    public var description: String {
        guard let address else { return "\(code): \(message)" }
        return "\(code): \(message) (address \(address))"
    }

    /// The error for a failed `bind`, `listen` or `socket` call on `address`.
    static func listening(_ call: String, errno code: Int32, address: String) -> HTTPSServerError {
        let words = String(cString: strerror(code))
        switch code {
        case EADDRINUSE:
            return HTTPSServerError(.addressInUse,
                                    "another process already listens there (\(words)); stop it or choose another port",
                                    address: address)
        case EADDRNOTAVAIL:
            return HTTPSServerError(.addressUnavailable,
                                    "no interface of this machine has that address (\(words)); use one of its addresses or *",
                                    address: address)
        case EACCES, EPERM:
            return HTTPSServerError(.permissionDenied,
                                    "the daemon may not listen there (\(words)); use a port of 1024 or more, or grant "
                                        + "CAP_NET_BIND_SERVICE in the unit",
                                    address: address)
        default:
            return HTTPSServerError(.socketFailed, "\(call) failed: \(words)", address: address)
        }
    }
}

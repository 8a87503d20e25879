/// The protocol version on a request or status line. Only HTTP/1.x is spoken; a higher minor
/// version (HTTP/1.2) is served as HTTP/1.1, as RFC 9110 §2.5 asks.
public struct HTTPVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public static func < (lhs: HTTPVersion, rhs: HTTPVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public var description: String { "HTTP/\(major).\(minor)" }

    /// HTTP/1.1 and later: connections persist by default, `Transfer-Encoding` and `Expect` apply.
    var isHTTP11OrLater: Bool { self >= .http1_1 }
}

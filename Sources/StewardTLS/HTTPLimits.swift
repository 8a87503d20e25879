/// How much a peer may make Steward buffer for one message. Each limit fails with its own
/// ``HTTPError/Code`` and status, and is checked as bytes arrive, so a peer that never stops
/// sending is refused once it passes the limit rather than when it is done.
///
/// Limits bound memory, not time. A peer that sends one header byte a minute (slowloris) stays
/// under every limit here; the connection layer's header, body and idle timeouts are what end it.
/// ``HTTPRequestParser/isIdle`` tells that layer which timeout applies.
public struct HTTPLimits: Sendable, Hashable {
    /// The longest request target, in bytes. Longer is 414 URI Too Long. A target longer than
    /// ``maximumHeadLength`` allows is refused as 431 instead, since the head limit is reached first.
    public var maximumTargetLength: Int
    /// The most bytes of start line and header lines, CRLFs included, and separately of a chunked
    /// body's trailer lines. More is 431 Request Header Fields Too Large.
    public var maximumHeadLength: Int
    /// The most header lines, and separately trailer lines. More is 431.
    public var maximumHeaderCount: Int
    /// The longest body, in bytes. A larger `Content-Length` is 413 Content Too Large before any of
    /// the body is read; a chunked body is refused as soon as its chunk sizes (and their
    /// extensions, which are buffered too) pass the limit.
    public var maximumBodyLength: Int

    public init(
        maximumTargetLength: Int = 8 * 1024,
        maximumHeadLength: Int = 16 * 1024,
        maximumHeaderCount: Int = 100,
        maximumBodyLength: Int = 1024 * 1024
    ) {
        self.maximumTargetLength = maximumTargetLength
        self.maximumHeadLength = maximumHeadLength
        self.maximumHeaderCount = maximumHeaderCount
        self.maximumBodyLength = maximumBodyLength
    }

    /// For requests a partner sends to Steward's server: small, since partners ask for data and
    /// acknowledge it, and never upload rosters.
    public static let server = HTTPLimits()

    /// For responses partners send to Steward's client: the same head limits, room for a larger
    /// body (a page of results, a detailed error report).
    public static let client = HTTPLimits(maximumBodyLength: 16 * 1024 * 1024)
}

import StewardCrypto

/// What an audit entry records before it is chained: who did what to which target, and how it
/// ended. Text here names ids and counts only, never student data.
public struct AuditEvent: Sendable, Equatable {
    /// The caller's uid, or nil for the daemon itself (start, stop, a scheduled check).
    public var uid: Int64?
    public var pid: Int64?
    /// The role the caller acted in, such as `operator`; nil for the daemon itself.
    public var role: String?
    /// What was done: a control method such as `steward.Service.Reload`, or a daemon event such
    /// as `daemon.start`.
    public var method: String
    /// What it was done to: a partner, a file, an import id.
    public var target: String?
    /// `ok`, `refused`, `failed`, or another short word.
    public var outcome: String
    /// A short, data-free explanation: a reason, counts, an error code.
    public var detail: String?

    public init(uid: Int64? = nil, pid: Int64? = nil, role: String? = nil, method: String,
                target: String? = nil, outcome: String, detail: String? = nil) {
        self.uid = uid
        self.pid = pid
        self.role = role
        self.method = method
        self.target = target
        self.outcome = outcome
        self.detail = detail
    }
}

/// One link of the audit chain: an event, when it happened, and the hashes that bind it to the
/// entry before it.
public struct AuditEntry: Sendable, Equatable {
    public var seq: Int64
    /// UTC, ISO 8601 with milliseconds, such as `2026-11-29T13:45:01.123Z`.
    public var at: String
    public var event: AuditEvent
    public var previousHash: [UInt8]
    public var hash: [UInt8]

    /// The hash of the first entry's predecessor.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// SHA-256 over the previous hash and every field, each length-prefixed so that no two
    /// different entries can encode to the same bytes.
    public static func hash(seq: Int64, at: String, event: AuditEvent, previousHash: [UInt8]) -> [UInt8] {
        var bytes = previousHash
        func field(_ name: String, _ value: String?) {
            bytes += Array(name.utf8)
            if let value {
                let utf8 = Array(value.utf8)
                bytes += Array("=\(utf8.count):".utf8) + utf8
            } else {
                bytes += Array("=-".utf8)
            }
            bytes.append(0x0a)
        }
        field("seq", String(seq))
        field("at", at)
        field("uid", event.uid.map(String.init))
        field("pid", event.pid.map(String.init))
        field("role", event.role)
        field("method", event.method)
        field("target", event.target)
        field("outcome", event.outcome)
        field("detail", event.detail)
        return Digest.sha256(bytes)
    }
}

/// The result of recomputing the audit chain.
public struct AuditVerification: Sendable, Equatable {
    /// The first entry that does not hold, and why.
    public struct Break: Sendable, Equatable {
        public var seq: Int64
        public var reason: String
    }

    public var entriesChecked: Int64
    /// The last entry's sequence number and hash: record them elsewhere to detect truncation later.
    public var headSeq: Int64
    public var headHash: [UInt8]
    public var firstBreak: Break?

    public var isIntact: Bool { firstBreak == nil }
}

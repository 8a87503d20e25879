/// An error an operator can act on: a stable code, a message that says what happened and what to
/// do next, and where it happened (a file and line, a partner, a request).
///
/// Messages never carry student data; they name ids and counts only.
public struct StewardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable kind of failure. New codes may be added without breaking callers.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let configurationInvalid = Code(rawValue: "configuration-invalid")
        public static let storeLocked = Code(rawValue: "store-locked")
        public static let storeCorrupt = Code(rawValue: "store-corrupt")
        public static let storeTooNew = Code(rawValue: "store-too-new")
        public static let storeFailed = Code(rawValue: "store-failed")
        public static let stateDirectoryInUse = Code(rawValue: "state-directory-in-use")
        public static let moduleRefused = Code(rawValue: "module-refused")
        public static let systemCallFailed = Code(rawValue: "system-call-failed")
        public static let cryptoFailed = Code(rawValue: "crypto-failed")
    }

    public var code: Code
    /// What happened and what to do about it, in the operator's words.
    public var message: String
    /// Where it happened, such as `/etc/steward/steward.conf:12` or `partner mathfacts`.
    public var location: String?

    public init(_ code: Code, _ message: String, location: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }
}

/// Exit codes from sysexits(3), which systemd and scripts understand.
public enum ExitCode: Int32, Sendable {
    case ok = 0
    case checkFailed = 1
    case dataError = 65
    case unavailable = 69
    case software = 70
    case tempFail = 75
    case permissionDenied = 77
    case configuration = 78
}

/// What a person at the control socket may do. A caller's roles come from its Unix groups,
/// mapped in steward.conf's `[Roles]`; the message itself never claims an identity.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Everything.
    case admin
    /// Decisions about sharing: partners, grants, holds, deletion, pausing all sharing.
    case steward
    /// Runs the service: status, reload, import.
    case `operator`
    /// Reads shares and the audit log; changes nothing.
    case auditor

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// This release of Steward.
public enum StewardVersion {
    public static let current = "0.1.0"
}

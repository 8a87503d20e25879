/// A connector module: one dynamic library in the daemon's module folder that provides one or
/// more connector kinds (for example `oneroster-rest` or `clever-v3`).
///
/// The daemon receives the module object across the `dlopen` boundary as `AnyObject` and casts it
/// to this protocol. That cast succeeds only when the module and the daemon share the single
/// process-wide copy of ConnectorKit, which is why ConnectorKit is a dynamic library.
public protocol ConnectorModule: AnyObject, Sendable {
    /// A short name for logs and `stewardctl modules`, such as `probe`.
    var name: String { get }
    /// The connector kinds this module provides. Two modules may not provide the same kind.
    var kinds: [ConnectorKind] { get }
    /// Checks a partner's `[Connector]` section for `kind` at load and reload, before the partner
    /// is activated: unknown keys, missing keys, endpoints that are not `https://`.
    func check(_ settings: [ConnectorSetting], kind: String) -> [ConnectorSettingProblem]
}

/// One protocol a module speaks, named the way partner files name it in `Connector=`.
public struct ConnectorKind: Sendable, Hashable, CustomStringConvertible {
    /// The kind's name: lowercase letters, digits and dashes.
    public let name: String
    /// One line that tells an operator what this kind does.
    public let summary: String

    public init(name: String, summary: String) {
        self.name = name
        self.summary = summary
    }

    public var description: String { name }

    /// Whether `name` is a well-formed kind name (`[a-z0-9-]+`, at most 64 characters).
    public var isWellFormed: Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}

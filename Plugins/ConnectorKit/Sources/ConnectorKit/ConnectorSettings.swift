/// One `Key=Value` line of a partner file's `[Connector]` section, with its line number so a
/// module's complaint names where to look.
public struct ConnectorSetting: Sendable, Hashable {
    public let key: String
    public let value: String
    public let line: Int

    public init(key: String, value: String, line: Int) {
        self.key = key
        self.value = value
        self.line = line
    }
}

/// What a module finds wrong with a partner's `[Connector]` section.
public struct ConnectorSettingProblem: Sendable, Hashable, CustomStringConvertible {
    /// The key at fault (or the one that is missing).
    public let key: String
    /// The line of that key; 0 when the key is missing (the daemon then names the section).
    public let line: Int
    /// What is wrong and what to write instead.
    public let message: String

    public init(key: String, line: Int, message: String) {
        self.key = key
        self.line = line
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}

extension ConnectorSettingProblem {
    /// The checks every connector shares: each key is known to `kind`, every required key is
    /// present, and any endpoint is `https://` (plaintext is never used).
    public static func basicProblems(in settings: [ConnectorSetting], known: Set<String>, required: Set<String>,
                                     endpoints: Set<String>, kind: String) -> [ConnectorSettingProblem] {
        var problems: [ConnectorSettingProblem] = []
        for setting in settings where !known.contains(setting.key) {
            let list = known.sorted().joined(separator: ", ")
            problems.append(.init(key: setting.key, line: setting.line,
                                  message: "the \(kind) connector has no setting '\(setting.key)'" + (list.isEmpty ? "; it takes none" : "; it takes \(list)")))
        }
        for key in required.sorted() where !settings.contains(where: { $0.key == key }) {
            problems.append(.init(key: key, line: 0, message: "the \(kind) connector needs \(key)="))
        }
        for setting in settings where endpoints.contains(setting.key) && !setting.value.lowercased().hasPrefix("https://") {
            problems.append(.init(key: setting.key, line: setting.line,
                                  message: "'\(setting.value.prefix(80))' is not an https:// URL; Steward never sends data in plaintext"))
        }
        return problems
    }
}

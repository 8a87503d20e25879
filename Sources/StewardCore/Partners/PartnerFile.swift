/// A partner, as its file in the partner folder describes it: who it is, the agreement it
/// signed, what the district grants it, and how to reach it.
public struct PartnerFile: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// An application the district contracted: gets its grant's scope and fields.
        case district
        /// An application a teacher adopts for a class: never more than the Library cap.
        case library
    }

    public struct Agreement: Sendable, Equatable {
        public var signed: String
        public var expires: String
        public var attests: [String]
        public var securityFramework: String
        public var breachNoticeHours: Int?
        public var deletionDays: Int?
        public var dataElements: Set<Field>
    }

    public struct Grant: Sendable, Equatable {
        /// School sourcedIds; nil means all schools.
        public var schools: [String]?
        /// Grades; nil means every grade.
        public var grades: [String]?
        public var roles: [String]
        public var fields: Set<Field>
    }

    /// `[Transport]`: how Steward reaches the partner's server when it pushes. Paths are absolute
    /// (relative ones resolve against the partner file's folder). Checked by the daemon, which
    /// builds the partner's TLS client context from them.
    public struct Transport: Sendable, Equatable {
        /// The CAs to trust for this partner; nil means the system bundle.
        public var caFile: String?
        public var clientCertificate: String?
        public var clientKey: String?
        /// SPKI SHA-256 pins (current and backup), as written.
        public var pins: [String]
        /// `intermediate` (TLS 1.2 and 1.3) or `modern` (TLS 1.3 only).
        public var profile: String

        public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
                    pins: [String] = [], profile: String = "intermediate") {
            self.caFile = caFile
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.pins = pins
            self.profile = profile
        }
    }

    /// `[Access]`: how the partner proves who it is when it pulls, beyond its OAuth client
    /// credentials. With pins, it must also present a client certificate whose key matches one.
    public struct Access: Sendable, Equatable {
        /// SPKI SHA-256 pins of the partner's client certificates, as written.
        public var clientCertificatePins: [String]
        /// Requests a minute the partner may make to the pull API before 429 (default 600).
        public var requestsPerMinute: Int
        public init(clientCertificatePins: [String] = [], requestsPerMinute: Int = 600) {
            self.clientCertificatePins = clientCertificatePins
            self.requestsPerMinute = requestsPerMinute
        }
    }

    /// Whether `name` can name a partner: `[a-z0-9-]`, at most 64 characters.
    public static func isPartnerName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// The roles a grant may name. Guardians are never persons in a view: a grant shares them
    /// only as a student's `guardian_names` and `guardian_contacts`.
    public static let grantableRoles = ["student", "teacher", "administrator", "aide"]

    public var path: String
    public var name: String
    public var displayName: String
    public var kind: Kind
    public var connector: String
    public var contact: String
    /// `Enabled=no` keeps the file but stops the partner, as if it were removed.
    public var isEnabled: Bool
    public var agreement: Agreement
    public var grant: Grant
    public var transport: Transport
    public var access: Access
    /// The `[Connector]` section, checked by the connector module.
    public var connectorSettings: [UnitFile.Entry]
    /// The line of each `Section.Key`, so every later check names where to look.
    public var lines: [String: Int]

    static let schema = UnitFileSchema([
        .init("Partner", keys: [.init("Name", required: true), .init("DisplayName"), .init("Type", required: true),
                                .init("Connector", required: true), .init("Contact", required: true),
                                .init("Enabled")]),
        .init("Agreement", keys: [.init("Signed", required: true), .init("Expires", required: true),
                                  .init("Attests", repeatable: true, required: true), .init("SecurityFramework"),
                                  .init("BreachNoticeHours"), .init("DeletionDays"),
                                  .init("DataElements", repeatable: true, required: true)]),
        .init("Grant", keys: [.init("Schools", required: true), .init("Grades"), .init("Roles", required: true),
                              .init("Fields", repeatable: true, required: true)]),
        .init("Transport", keys: [.init("CAFile"), .init("ClientCertificate"), .init("ClientKey"),
                                  .init("Pins", repeatable: true), .init("Profile")]),
        .init("Access", keys: [.init("ClientCertificatePins", repeatable: true), .init("RequestsPerMinute")]),
        .init("Connector", keys: [], acceptsAnyKey: true),
    ])

    /// Reads a partner file; the problems name `file:line: key`. A file with problems yields nil.
    public static func read(path: String, text: String) -> (PartnerFile?, [ConfigurationProblem]) {
        let file = UnitFile(path: path, text: text)
        var problems = file.problems(against: schema)
        func value(_ section: String, _ key: String) -> String { file.first(section, key)?.value ?? "" }
        func words(_ section: String, _ key: String) -> [String] {
            file.all(section, key).flatMap { $0.value.split(separator: " ").map(String.init) }.filter { !$0.isEmpty }
        }
        func problem(_ section: String, _ key: String, _ message: String) {
            problems.append(ConfigurationProblem(path, file.first(section, key)?.line ?? 0, key, message))
        }
        let name = value("Partner", "Name")
        if !name.isEmpty && !Self.isPartnerName(name) {
            problem("Partner", "Name", "'\(name.prefix(64))' is not a partner name: use a-z, 0-9 and -")
        }
        let kind = Kind(rawValue: value("Partner", "Type"))
        if kind == nil && file.first("Partner", "Type") != nil {
            problem("Partner", "Type", "must be district or library")
        }
        for key in ["Signed", "Expires"] where file.first("Agreement", key) != nil {
            if case .accepted = ValueRules.date(value("Agreement", key)) {} else {
                problem("Agreement", key, "'\(value("Agreement", key).prefix(20))' is not a date YYYY-MM-DD")
            }
        }
        func number(_ key: String) -> Int? {
            guard file.first("Agreement", key) != nil else { return nil }
            guard let number = Int(value("Agreement", key)), number >= 0 else {
                problem("Agreement", key, "'\(value("Agreement", key).prefix(20))' is not a whole number")
                return nil
            }
            return number
        }
        let dataElements = FieldCatalogue.read(words("Agreement", "DataElements"))
        dataElements.problems.forEach { problem("Agreement", "DataElements", $0) }
        let granted = FieldCatalogue.read(words("Grant", "Fields"))
        granted.problems.forEach { problem("Grant", "Fields", $0) }
        let schools = words("Grant", "Schools")
        let roles = words("Grant", "Roles")
        for role in roles where !grantableRoles.contains(role) {
            problem("Grant", "Roles", role == "guardian" || role == "parent"
                ? "'\(role)' cannot be granted as a role; grant guardian_names or guardian_contacts on the students instead"
                : "'\(role.prefix(40))' is not a role that can be granted; use \(grantableRoles.joined(separator: ", "))")
        }
        let enabled = file.first("Partner", "Enabled")
        if let enabled, enabled.switchValue == nil { problem("Partner", "Enabled", "'\(enabled.value.prefix(20))' is not yes or no") }
        let isEnabled = enabled?.switchValue ?? true
        var requestsPerMinute = 600
        if let entry = file.first("Access", "RequestsPerMinute") {
            if let number = Int(entry.value), (1...100_000).contains(number) { requestsPerMinute = number }
            else { problem("Access", "RequestsPerMinute", "'\(entry.value.prefix(20))' is not a number from 1 to 100000") }
        }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        func filePath(_ key: String) -> String? {
            guard let value = file.first("Transport", key)?.value, !value.isEmpty else { return nil }
            return value.hasPrefix("/") || directory.isEmpty ? value : directory + "/" + value
        }
        let profile = file.first("Transport", "Profile")?.value ?? "intermediate"
        if !["intermediate", "modern"].contains(profile) {
            problem("Transport", "Profile", "'\(profile.prefix(20))' is not a TLS profile; use intermediate (TLS 1.2 and 1.3) or modern (TLS 1.3 only)")
        }
        if (filePath("ClientCertificate") == nil) != (filePath("ClientKey") == nil) {
            problem("Transport", filePath("ClientCertificate") == nil ? "ClientKey" : "ClientCertificate",
                    "ClientCertificate= and ClientKey= go together; give both or neither")
        }
        let transport = Transport(caFile: filePath("CAFile"), clientCertificate: filePath("ClientCertificate"),
                                  clientKey: filePath("ClientKey"), pins: words("Transport", "Pins"), profile: profile)
        let agreement = Agreement(
            signed: value("Agreement", "Signed"), expires: value("Agreement", "Expires"), attests: words("Agreement", "Attests"),
            securityFramework: value("Agreement", "SecurityFramework"), breachNoticeHours: number("BreachNoticeHours"),
            deletionDays: number("DeletionDays"), dataElements: dataElements.fields)
        let grant = Grant(schools: schools == ["all"] ? nil : schools,
                          grades: file.first("Grant", "Grades").map { _ in words("Grant", "Grades") },
                          roles: roles, fields: granted.fields)
        var lines: [String: Int] = [:]
        for entry in file.entries {
            lines["\(entry.section).\(entry.key)"] = lines["\(entry.section).\(entry.key)"] ?? entry.line
            lines[entry.section] = lines[entry.section] ?? entry.line
        }
        guard problems.isEmpty, let kind else { return (nil, problems) }
        return (PartnerFile(path: path, name: name, displayName: value("Partner", "DisplayName").isEmpty ? name : value("Partner", "DisplayName"),
                            kind: kind, connector: value("Partner", "Connector"), contact: value("Partner", "Contact"),
                            isEnabled: isEnabled, agreement: agreement, grant: grant, transport: transport,
                            access: Access(clientCertificatePins: words("Access", "ClientCertificatePins"),
                                           requestsPerMinute: requestsPerMinute), connectorSettings: file.entries(in: "Connector"), lines: lines), problems)
    }

    /// The line of `Section.Key`; for a key the file leaves out, its section's first line.
    public func line(_ section: String, _ key: String) -> Int { lines["\(section).\(key)"] ?? lines[section] ?? 1 }
}

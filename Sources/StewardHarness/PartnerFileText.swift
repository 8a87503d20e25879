import StewardCore

/// A partner file that meets the default agreement baseline, written from its parts, for tests
/// and the benchmark. Each part can be changed to make the file fail one requirement.
public struct PartnerFileText: Sendable {
    public var name: String
    public var type: String
    public var enabled: String?
    public var signed: String
    public var expires: String
    public var attests: [String]
    public var schools: String
    public var grades: String?
    public var roles: String
    /// The grant's `Fields=`.
    public var fields: [String]
    /// The agreement's `DataElements=`; exactly `fields` when nil.
    public var dataElements: [String]?
    /// `Key=Value` lines of `[Transport]`, `[Access]` and `[Connector]`; a section is left out
    /// when empty.
    public var transport: [String]
    public var access: [String] = []
    public var connector: [String]

    public init(name: String, type: String = "district", enabled: String? = nil, signed: String = "2026-01-01",
                expires: String = "2099-07-31", attests: [String] = AgreementBaseline.defaultAttests, schools: String = "all",
                grades: String? = nil, roles: String = "student", fields: [String], dataElements: [String]? = nil,
                transport: [String] = [], connector: [String] = []) {
        self.name = name
        self.type = type
        self.enabled = enabled
        self.signed = signed
        self.expires = expires
        self.attests = attests
        self.schools = schools
        self.grades = grades
        self.roles = roles
        self.fields = fields
        self.dataElements = dataElements
        self.transport = transport
        self.connector = connector
    }

    /// An application the district contracted.
    public static func district(_ name: String, schools: String = "all", grades: String? = nil, roles: String = "student teacher",
                                fields: [String] = ["given_name", "family_name", "grade", "school", "sections"]) -> PartnerFileText {
        PartnerFileText(name: name, schools: schools, grades: grades, roles: roles, fields: fields)
    }

    /// A Library application granted exactly the Library cap.
    public static func library(_ name: String) -> PartnerFileText {
        PartnerFileText(name: name, type: "library", roles: "student", fields: ["given_name", "family_initial", "grade", "sections"])
    }

    public var text: String {
        var lines = ["[Partner]", "Name=\(name)", "DisplayName=\(name.capitalized)", "Type=\(type)", "Connector=probe",
                     "Contact=privacy@\(name).example"]
        if let enabled { lines.append("Enabled=\(enabled)") }
        lines += ["", "[Agreement]", "Signed=\(signed)", "Expires=\(expires)", "Attests=\(attests.joined(separator: " "))",
                  "SecurityFramework=NIST-CSF", "BreachNoticeHours=72", "DeletionDays=30",
                  "DataElements=\((dataElements ?? fields).joined(separator: " "))"]
        lines += ["", "[Grant]", "Schools=\(schools)"]
        if let grades { lines.append("Grades=\(grades)") }
        lines += ["Roles=\(roles)", "Fields=\(fields.joined(separator: " "))"]
        if !transport.isEmpty { lines += ["", "[Transport]"] + transport }
        if !access.isEmpty { lines += ["", "[Access]"] + access }
        if !connector.isEmpty { lines += ["", "[Connector]"] + connector }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The line (from 1) of the first `key=` line, as a `file:line` problem names it.
    public func line(of key: String) -> Int {
        (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix(key + "=") } ?? -1) + 1
    }
}

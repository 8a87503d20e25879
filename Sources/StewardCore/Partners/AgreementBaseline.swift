/// What every partner's agreement must meet before a single record leaves: the district's
/// baseline. A partner that misses any requirement stays inactive.
public struct AgreementBaseline: Sendable, Equatable {
    /// The obligations every agreement must declare in `Attests=`.
    public var attests: [String]
    public var maximumBreachNoticeHours: Int
    public var maximumDeletionDays: Int

    public static let defaultAttests = [
        "ferpa-school-official", "coppa", "ppra", "sopipa", "ab1584", "no-advertising", "no-sale", "no-profiling",
        "security-program", "deletion-on-request", "subprocessors-bound",
    ]

    public init(attests: [String] = AgreementBaseline.defaultAttests, maximumBreachNoticeHours: Int = 72,
                maximumDeletionDays: Int = 60) {
        self.attests = attests
        self.maximumBreachNoticeHours = maximumBreachNoticeHours
        self.maximumDeletionDays = maximumDeletionDays
    }

    /// One requirement a partner does not meet: `file:line: requirement: what is missing`.
    public struct Unmet: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var requirement: String
        public var missing: String
        /// The agreement's expiry: a renewal, not a fix, is what it asks for.
        public var isExpiry = false
        public var description: String { "\(file):\(line): \(requirement): \(missing)" }

        public init(file: String, line: Int, requirement: String, missing: String) {
            self.file = file
            self.line = line
            self.requirement = requirement
            self.missing = missing
        }
    }

    /// Every requirement `partner` does not meet on `today` (`YYYY-MM-DD`), with the connector
    /// kinds the daemon has loaded.
    public func unmet(by partner: PartnerFile, today: String, connectorKinds: Set<String>) -> [Unmet] {
        var unmet: [Unmet] = []
        func add(_ section: String, _ key: String, _ requirement: String, _ missing: String, isExpiry: Bool = false) {
            var entry = Unmet(file: partner.path, line: partner.line(section, key), requirement: requirement, missing: missing)
            entry.isExpiry = isExpiry
            unmet.append(entry)
        }
        let agreement = partner.agreement
        if agreement.signed > today { add("Agreement", "Signed", "dates", "the agreement is signed \(agreement.signed), after today (\(today))") }
        if agreement.expires < today {
            add("Agreement", "Expires", "dates", "the agreement expired on \(agreement.expires)", isExpiry: true)
        }
        if agreement.expires < agreement.signed { add("Agreement", "Expires", "dates", "the agreement expires before it is signed") }
        let missing = attests.filter { !agreement.attests.contains($0) }
        if !missing.isEmpty {
            add("Agreement", "Attests", "attests", "the agreement does not declare \(missing.joined(separator: ", "))")
        }
        if agreement.securityFramework.isEmpty {
            add("Agreement", "SecurityFramework", "security", "no security framework is named (such as NIST-CSF, ISO-27001, CIS)")
        }
        switch agreement.breachNoticeHours {
        case nil: add("Agreement", "BreachNoticeHours", "limits", "no breach-notice period is given; at most \(maximumBreachNoticeHours) hours")
        case let hours? where hours > maximumBreachNoticeHours:
            add("Agreement", "BreachNoticeHours", "limits", "breach notice within \(hours) hours; the baseline is at most \(maximumBreachNoticeHours)")
        default: break
        }
        switch agreement.deletionDays {
        case nil: add("Agreement", "DeletionDays", "limits", "no deletion period is given; at most \(maximumDeletionDays) days after a request")
        case let days? where days > maximumDeletionDays:
            add("Agreement", "DeletionDays", "limits", "deletion within \(days) days; the baseline is at most \(maximumDeletionDays)")
        default: break
        }
        let undeclared = partner.grant.fields.subtracting(agreement.dataElements).sorted()
        if !undeclared.isEmpty {
            add("Grant", "Fields", "data elements", "the grant gives \(undeclared.map(\.name).joined(separator: ", ")), which the agreement's DataElements do not declare")
        }
        if partner.kind == .library {
            let beyond = partner.grant.fields.map(\.name).filter { !FieldCatalogue.libraryCap.contains($0) }.sorted()
            if !beyond.isEmpty {
                add("Grant", "Fields", "library cap", "a Library application gets at most \(FieldCatalogue.libraryCap.sorted().joined(separator: ", ")); remove \(beyond.joined(separator: ", "))")
            }
        }
        if !connectorKinds.contains(partner.connector) {
            let known = connectorKinds.sorted().joined(separator: ", ")
            add("Partner", "Connector", "connector", "no loaded module provides the connector kind '\(partner.connector)'" + (known.isEmpty ? "" : "; loaded: \(known)"))
        }
        return unmet
    }
}

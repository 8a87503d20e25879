import StewardCore

/// One partner on the dashboard: what it is, where it stands and why, what it may receive, and
/// how much its view holds.
public struct PartnerSummary: Sendable, Codable, Equatable {
    public var name: String
    public var displayName: String
    public var type: String
    public var connector: String
    public var contact: String
    public var file: String
    public var state: String
    /// Why the partner is in its state (empty when active).
    public var reasons: [String]
    /// Granted fields that the partner receives, by tier (`directory`, `contact`, …).
    public var fields: [String: [String]]
    public var agreementSigned: String
    public var agreementExpires: String
    /// What its view holds now: students, teachers, sections.
    public var counts: ViewCounts
    /// For a Library application: whether the district recommends it, and its adoptions.
    public var recommended: Bool?
    public var adoptions: [LibraryAdoption]?

    public init(name: String, displayName: String, type: String, connector: String, contact: String, file: String,
                state: String, reasons: [String], fields: [String: [String]], agreementSigned: String,
                agreementExpires: String, counts: ViewCounts, recommended: Bool?, adoptions: [LibraryAdoption]?) {
        self.name = name
        self.displayName = displayName
        self.type = type
        self.connector = connector
        self.contact = contact
        self.file = file
        self.state = state
        self.reasons = reasons
        self.fields = fields
        self.agreementSigned = agreementSigned
        self.agreementExpires = agreementExpires
        self.counts = counts
        self.recommended = recommended
        self.adoptions = adoptions
    }
}

/// How many records of each kind a view holds.
public struct ViewCounts: Sendable, Codable, Equatable {
    public var students: Int
    public var teachers: Int
    public var sections: Int
    public init(students: Int = 0, teachers: Int = 0, sections: Int = 0) {
        self.students = students
        self.teachers = teachers
        self.sections = sections
    }
}

/// `steward.Partners.List`: the dashboard.
public struct PartnersList: Sendable, Codable, Equatable {
    public var today: String
    public var rosterVersion: Int64
    public var sharingPaused: Bool
    public var librarySharing: Bool
    public var partners: [PartnerSummary]
    /// Files in the partner folder that cannot be read as partner files.
    public var unreadable: [PartnersCheckResult.File]

    public init(today: String, rosterVersion: Int64, sharingPaused: Bool, librarySharing: Bool, partners: [PartnerSummary],
                unreadable: [PartnersCheckResult.File]) {
        self.today = today
        self.rosterVersion = rosterVersion
        self.sharingPaused = sharingPaused
        self.librarySharing = librarySharing
        self.partners = partners
        self.unreadable = unreadable
    }
}

/// Names one partner: `steward.Partners.Show`.
public struct PartnerNameParameters: Sendable, Codable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// `steward.Partners.Preview`: up to `limit` records of each kind (default 20, at most 1000).
public struct PartnerPreviewParameters: Sendable, Codable, Equatable {
    public var name: String
    public var limit: Int?
    public init(name: String, limit: Int? = nil) {
        self.name = name
        self.limit = limit
    }
}

/// The records exactly as a partner's view holds them.
public struct PartnerPreview: Sendable, Codable, Equatable {
    public var partner: PartnerSummary
    /// Set when the partner is not active: the records are what it would receive once it is.
    public var note: String?
    public var records: [SharedRecord]
    public init(partner: PartnerSummary, note: String?, records: [SharedRecord]) {
        self.partner = partner
        self.note = note
        self.records = records
    }
}

/// `steward.Library.Adopt` and `steward.Library.Remove`.
public struct LibraryAdoptionParameters: Sendable, Codable, Equatable {
    public var partner: String
    public var teacher: String
    public var section: String
    public init(partner: String, teacher: String, section: String) {
        self.partner = partner
        self.teacher = teacher
        self.section = section
    }
}

/// `steward.Library.List` (optionally for one partner) and the reply of adopt and remove.
public struct LibraryAdoptionList: Sendable, Codable, Equatable {
    public var adoptions: [LibraryAdoption]
    /// Whether the call changed anything (adopt and remove only).
    public var changed: Bool?
    public init(adoptions: [LibraryAdoption], changed: Bool? = nil) {
        self.adoptions = adoptions
        self.changed = changed
    }
}

/// `steward.Library.List` parameters.
public struct LibraryListParameters: Sendable, Codable, Equatable {
    public var partner: String?
    public init(partner: String? = nil) { self.partner = partner }
}

/// `steward.Partners.Credentials`: with `rotate`, make new OAuth client credentials (the old
/// secret stops working at once); without, show the client id.
public struct PartnerCredentialsParameters: Sendable, Codable, Equatable {
    public var name: String
    public var rotate: Bool?
    public init(name: String, rotate: Bool? = nil) {
        self.name = name
        self.rotate = rotate
    }
}

/// A partner's OAuth client id; the secret only in the reply to a rotation, and never again.
public struct PartnerCredentials: Sendable, Codable, Equatable {
    public var partner: String
    public var clientId: String?
    public var clientSecret: String?
    public var createdAt: String?
    public init(partner: String, clientId: String?, clientSecret: String?, createdAt: String?) {
        self.partner = partner
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.createdAt = createdAt
    }
}

/// `steward.Disclosures.List`: one person's record of disclosures, by their sourcedId.
public struct DisclosuresParameters: Sendable, Codable, Equatable {
    public var person: String
    public init(person: String) { self.person = person }
}

public struct PersonDisclosures: Sendable, Codable, Equatable {
    public var person: String
    public var disclosures: [DisclosureSummary]
    public init(person: String, disclosures: [DisclosureSummary]) {
        self.person = person
        self.disclosures = disclosures
    }
}

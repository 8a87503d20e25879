import StewardCore

/// The methods of the control socket and the shape of their parameters and replies. Shared by
/// `stewardd` and `stewardctl`, so both sides agree by construction.
public enum ControlMethod: String, Sendable, CaseIterable, Codable {
    case getInfo = "steward.Service.GetInfo"
    case status = "steward.Service.Status"
    case reload = "steward.Service.Reload"
    case auditList = "steward.Audit.List"
    case auditVerify = "steward.Audit.Verify"
    case sharingPause = "steward.Sharing.Pause"
    case sharingResume = "steward.Sharing.Resume"
    case rosterImport = "steward.Roster.Import"
    case rosterImports = "steward.Roster.Imports"
    case rosterShowImport = "steward.Roster.ShowImport"
    case rosterRelease = "steward.Roster.Release"
    case rosterDiscard = "steward.Roster.Discard"
    case rosterSummary = "steward.Roster.Summary"
    case partnersCheck = "steward.Partners.Check"
    case partnersList = "steward.Partners.List"
    case partnersShow = "steward.Partners.Show"
    case partnersPreview = "steward.Partners.Preview"
    case libraryAdopt = "steward.Library.Adopt"
    case libraryRemove = "steward.Library.Remove"
    case libraryList = "steward.Library.List"
    case modulesList = "steward.Modules.List"
    case partnersCredentials = "steward.Partners.Credentials"
    case disclosuresList = "steward.Disclosures.List"
}

/// `steward.Modules.List`: the loaded connector modules, each with the partners that use its
/// kinds, and the module files that were refused.
public struct ModulesList: Sendable, Codable, Equatable {
    public struct Module: Sendable, Codable, Equatable {
        public var module: ModuleInfo
        /// Kind → the partners whose `Connector=` names it.
        public var partners: [String: [String]]
        public init(module: ModuleInfo, partners: [String: [String]]) {
            self.module = module
            self.partners = partners
        }
    }

    public var modules: [Module]
    public var refused: [ModuleRefusal]
    public init(modules: [Module], refused: [ModuleRefusal]) {
        self.modules = modules
        self.refused = refused
    }
}

/// `steward.Partners.Check`: partner files to check (absolute paths); all of the partner
/// folder's `*.conf` files when absent.
public struct PartnersCheckParameters: Sendable, Codable, Equatable {
    public var files: [String]?
    public init(files: [String]? = nil) { self.files = files }
}

/// The outcome of checking partner files against the agreement baseline.
public struct PartnersCheckResult: Sendable, Codable, Equatable {
    public struct File: Sendable, Codable, Equatable {
        public var file: String
        public var partner: String?
        /// `file:line: key: what is wrong` (the file cannot be read as a partner file), and
        /// `file:line: requirement: what is missing` (it can, but does not meet the baseline).
        public var problems: [String]
        public init(file: String, partner: String?, problems: [String]) {
            self.file = file
            self.partner = partner
            self.problems = problems
        }
    }

    public var today: String
    public var files: [File]
    public init(today: String, files: [File]) {
        self.today = today
        self.files = files
    }
}

/// `steward.Roster.Import`: the drop to import (an absolute path the daemon can read). With
/// `"more":true` the reply streams progress (`ImportProgress`, continues) before the report.
public struct RosterImportParameters: Sendable, Codable, Equatable {
    public var path: String
    public var dryRun: Bool?
    public init(path: String, dryRun: Bool? = nil) {
        self.path = path
        self.dryRun = dryRun
    }
}

/// A streamed reply of `steward.Roster.Import`: progress while it runs, the report at the end.
public struct RosterImportReply: Sendable, Codable, Equatable {
    public var progress: ImportProgress?
    public var report: ImportReport?
    public init(progress: ImportProgress? = nil, report: ImportReport? = nil) {
        self.progress = progress
        self.report = report
    }
}

/// Names one import by its id: `steward.Roster.ShowImport`, `Release`, `Discard`.
public struct ImportIdParameters: Sendable, Codable, Equatable {
    public var id: Int64
    public init(id: Int64) { self.id = id }
}

/// `steward.Roster.Imports`: the history, newest first.
public struct ImportHistory: Sendable, Codable, Equatable {
    public var imports: [ImportReport]
    public init(imports: [ImportReport]) { self.imports = imports }
}

/// Who the daemon thinks is calling, as it read it from the socket.
public struct CallerInfo: Sendable, Codable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    public var roles: [String]

    public init(uid: UInt32, gid: UInt32, pid: Int32, roles: [String]) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.roles = roles
    }
}

/// `steward.Service.GetInfo`: what this daemon is.
public struct ServiceInfo: Sendable, Codable, Equatable {
    public var product: String
    public var version: String
    public var district: String
    public var pid: Int32
    public var schemaVersion: Int
    public var connectorABIVersion: UInt32
    public var connectorFingerprint: String
    public var methods: [String]
    public var caller: CallerInfo

    public init(product: String, version: String, district: String, pid: Int32, schemaVersion: Int,
                connectorABIVersion: UInt32, connectorFingerprint: String, methods: [String], caller: CallerInfo) {
        self.product = product
        self.version = version
        self.district = district
        self.pid = pid
        self.schemaVersion = schemaVersion
        self.connectorABIVersion = connectorABIVersion
        self.connectorFingerprint = connectorFingerprint
        self.methods = methods
        self.caller = caller
    }
}

/// A connector module the daemon loaded.
public struct ModuleInfo: Sendable, Codable, Equatable {
    public var name: String
    public var file: String
    public var sha256: String
    public var abiVersion: UInt32
    public var kinds: [String]

    public init(name: String, file: String, sha256: String, abiVersion: UInt32, kinds: [String]) {
        self.name = name
        self.file = file
        self.sha256 = sha256
        self.abiVersion = abiVersion
        self.kinds = kinds
    }
}

/// A module file the daemon refused, and why.
public struct ModuleRefusal: Sendable, Codable, Equatable {
    public var file: String
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
}

/// Whether all sharing is paused by a steward, since when and by whom (uid).
public struct SharingState: Sendable, Codable, Equatable {
    public var paused: Bool
    public var since: String?
    public var byUID: UInt32?

    public init(paused: Bool, since: String? = nil, byUID: UInt32? = nil) {
        self.paused = paused
        self.since = since
        self.byUID = byUID
    }
}

/// How the last reload ended.
public struct ReloadResult: Sendable, Codable, Equatable {
    public var applied: Bool
    public var at: String
    /// What changed, in words (`District changed`, `role auditor: groups changed`).
    public var changes: [String]
    /// `file:line: key: what is wrong`, one per problem, when not applied.
    public var problems: [String]

    public init(applied: Bool, at: String, changes: [String], problems: [String]) {
        self.applied = applied
        self.at = at
        self.changes = changes
        self.problems = problems
    }
}

/// The HTTPS listener partners pull from, as `status` shows it.
public struct APIStatus: Sendable, Codable, Equatable {
    /// The configured address (`0.0.0.0:8443`) and the port actually bound.
    public var listen: String
    public var port: Int
    /// `intermediate` (TLS 1.2 and 1.3) or `modern` (TLS 1.3 only).
    public var profile: String
    public var mutualTLS: Bool
    /// When the served certificate expires (UTC), so operators renew it in time.
    public var certificateExpiry: String?
    public var openConnections: Int
    public var acceptedConnections: Int
    public var refusedConnections: Int
    public var failedHandshakes: Int
    public var responses: Int
    public var timeouts: Int

    public init(listen: String, port: Int, profile: String, mutualTLS: Bool, certificateExpiry: String?,
                openConnections: Int, acceptedConnections: Int, refusedConnections: Int, failedHandshakes: Int,
                responses: Int, timeouts: Int) {
        self.listen = listen
        self.port = port
        self.profile = profile
        self.mutualTLS = mutualTLS
        self.certificateExpiry = certificateExpiry
        self.openConnections = openConnections
        self.acceptedConnections = acceptedConnections
        self.refusedConnections = refusedConnections
        self.failedHandshakes = failedHandshakes
        self.responses = responses
        self.timeouts = timeouts
    }
}

/// `steward.Service.Status`: how the daemon is doing.
public struct ServiceStatus: Sendable, Codable, Equatable {
    public var state: String
    public var district: String
    public var startedAt: String
    public var uptimeSeconds: Int
    public var configFile: String
    public var stateDirectory: String
    public var socket: String
    public var schemaVersion: Int
    public var sharing: SharingState
    public var modules: [ModuleInfo]
    public var refusedModules: [ModuleRefusal]
    public var lastReload: ReloadResult?
    public var auditEntries: Int64
    public var controlConnections: Int
    /// The partner listener, when `[API]` is configured.
    public var api: APIStatus?
    /// Each partner's state by name (active, expired, …).
    public var partners: [String: String]?

    public init(state: String, district: String, startedAt: String, uptimeSeconds: Int, configFile: String,
                stateDirectory: String, socket: String, schemaVersion: Int, sharing: SharingState,
                modules: [ModuleInfo], refusedModules: [ModuleRefusal], lastReload: ReloadResult?,
                auditEntries: Int64, controlConnections: Int) {
        self.state = state
        self.district = district
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.configFile = configFile
        self.stateDirectory = stateDirectory
        self.socket = socket
        self.schemaVersion = schemaVersion
        self.sharing = sharing
        self.modules = modules
        self.refusedModules = refusedModules
        self.lastReload = lastReload
        self.auditEntries = auditEntries
        self.controlConnections = controlConnections
        api = nil
    }
}

/// `steward.Audit.List` parameters. With `"more":true` the entries stream as pages.
public struct AuditListParameters: Sendable, Codable, Equatable {
    /// An ISO 8601 UTC time (`2026-11-29` or `2026-11-29T13:00:00Z`); entries at or after it.
    public var since: String?
    /// The most entries to return; all when absent and streaming, 1000 otherwise.
    public var limit: Int?

    public init(since: String? = nil, limit: Int? = nil) {
        self.since = since
        self.limit = limit
    }
}

/// One audit entry as the control socket shows it.
public struct AuditRecord: Sendable, Codable, Equatable {
    public var seq: Int64
    public var at: String
    public var uid: Int64?
    public var pid: Int64?
    public var role: String?
    public var method: String
    public var target: String?
    public var outcome: String
    public var detail: String?
    public var hash: String

    public init(seq: Int64, at: String, uid: Int64?, pid: Int64?, role: String?, method: String,
                target: String?, outcome: String, detail: String?, hash: String) {
        self.seq = seq
        self.at = at
        self.uid = uid
        self.pid = pid
        self.role = role
        self.method = method
        self.target = target
        self.outcome = outcome
        self.detail = detail
        self.hash = hash
    }
}

/// A page of `steward.Audit.List`.
public struct AuditPage: Sendable, Codable, Equatable {
    public var entries: [AuditRecord]
    public init(entries: [AuditRecord]) { self.entries = entries }
}

/// `steward.Audit.Verify`: the chain recomputed.
public struct AuditVerifyResult: Sendable, Codable, Equatable {
    public struct Break: Sendable, Codable, Equatable {
        public var seq: Int64
        public var reason: String
        public init(seq: Int64, reason: String) {
            self.seq = seq
            self.reason = reason
        }
    }

    public var intact: Bool
    public var entriesChecked: Int64
    public var headSeq: Int64
    public var headHash: String
    public var firstBroken: Break?

    public init(intact: Bool, entriesChecked: Int64, headSeq: Int64, headHash: String, firstBroken: Break?) {
        self.intact = intact
        self.entriesChecked = entriesChecked
        self.headSeq = headSeq
        self.headHash = headHash
        self.firstBroken = firstBroken
    }
}

/// An empty parameter object, for methods that take none.
public struct NoParameters: Sendable, Codable, Equatable {
    public init() {}
}

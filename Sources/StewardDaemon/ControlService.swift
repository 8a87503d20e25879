#if canImport(Glibc)
import Glibc
#endif
import ConnectorKit
import Dispatch
import Foundation
import StewardControl
import StewardCore
import StewardCrypto
import StewardStore

/// The control socket's methods: who may call each, and what each does. Every call that changes
/// anything, and every refusal, is appended to the audit chain with the caller's uid, pid and
/// role as the kernel reported them.
extension Daemon: ControlHandling {
    /// Which roles may call each method. `admin` may call everything.
    static func allowedRoles(_ method: ControlMethod) -> Set<Role> {
        switch method {
        case .getInfo, .status, .modulesList: return [.admin, .steward, .operator, .auditor]
        case .reload: return [.admin, .operator]
        case .auditList, .auditVerify: return [.admin, .steward, .auditor]
        case .sharingPause, .sharingResume: return [.admin, .steward]
        case .rosterImport: return [.admin, .operator]
        case .rosterImports, .rosterShowImport, .rosterSummary: return [.admin, .steward, .operator, .auditor]
        case .rosterRelease, .rosterDiscard: return [.admin, .steward]
        case .partnersCheck, .partnersList, .partnersShow, .partnersPreview, .libraryList: return [.admin, .steward, .operator, .auditor]
        // Showing the client id is open to operators; rotating is checked for steward or admin.
        case .partnersCredentials: return [.admin, .steward, .operator]
        case .disclosuresList: return [.admin, .steward, .auditor]
        case .libraryAdopt, .libraryRemove: return [.admin, .steward]
        }
    }

    /// The roles a caller holds: from its groups as mapped in `[Roles]`; root is always `admin`,
    /// and the daemon's own service user is an `operator` (so `ExecReload=stewardctl reload` works).
    func roles(of peer: PeerCredentials) -> Set<Role> {
        var roles = Set<Role>()
        if peer.uid == 0 { roles.insert(.admin) }
        if peer.uid == geteuid() && peer.uid != 0 { roles.insert(.operator) }
        let groups = Set([peer.gid] + peer.groups)
        for (role, gids) in configuration.roleGroups where !groups.isDisjoint(with: gids) {
            roles.insert(role)
        }
        return roles
    }

    func handle(line: [UInt8], from peer: PeerCredentials) -> ControlOutcome {
        let request: ControlRequest
        do {
            request = try ControlCoding.decodeLine(ControlRequest.self, from: line)
        } catch {
            return .replies([.failure(.invalidRequest,
                "the request is not a JSON object with a \"method\" string; send one compact JSON object per line")])
        }
        guard let method = ControlMethod(rawValue: request.method) else {
            return .replies([.failure(.methodNotFound, "there is no method \(request.method.prefix(100)); steward.Service.GetInfo lists them",
                                      details: ["method": .string(String(request.method.prefix(100)))])])
        }
        let held = roles(of: peer)
        let allowed = Self.allowedRoles(method)
        guard let role = held.intersection(allowed).max(by: >) else {
            let caller = Caller(peer: peer, role: held.max(by: >))
            auditQuietly(AuditEvent(caller: caller, method: method.rawValue, outcome: "refused",
                                    detail: held.isEmpty ? "caller holds no role" : "needs one of: \(allowed.map(\.rawValue).sorted().joined(separator: ", "))"))
            let message = held.isEmpty
                ? "uid \(peer.uid) holds no Steward role; ask an administrator to add you to a group named in [Roles]"
                : "\(method.rawValue) needs the role \(allowed.sorted().map(\.rawValue).joined(separator: " or ")); you hold \(held.sorted().map(\.rawValue).joined(separator: ", "))"
            return .replies([.failure(.permissionDenied, message, details: ["method": .string(method.rawValue)])])
        }
        let caller = Caller(peer: peer, role: role)
        do {
            return try perform(method, request: request, caller: caller)
        } catch let error as InvalidParameter {
            return .replies([.failure(.invalidParameter, "\(method.rawValue): \(error.message)",
                                      details: ["parameter": .string(error.parameter)])])
        } catch let error as StewardError {
            Log.error("\(method.rawValue) failed: \(error)")
            return .replies([.failure(.storeFailed, error.description)])
        } catch {
            Log.error("\(method.rawValue) failed: \(error)")
            return .replies([.failure(.internalError, "\(method.rawValue) failed; see the daemon's log")])
        }
    }

    private func perform(_ method: ControlMethod, request: ControlRequest, caller: Caller) throws -> ControlOutcome {
        switch method {
        case .getInfo:
            try Parameters.none(request, method)
            return .replies([try .ok(info(for: caller))])
        case .status:
            try Parameters.none(request, method)
            return .replies([try .ok(status())])
        case .reload:
            try Parameters.none(request, method)
            let result = reload(caller: caller)
            guard result.applied else {
                return .replies([.failure(.configurationInvalid,
                    "the new configuration has \(result.problems.count) problem(s); still running on the previous one",
                    details: ["problems": .array(result.problems.map(JSONValue.string))])])
            }
            return .replies([try .ok(result)])
        case .auditList:
            return try auditList(request)
        case .auditVerify:
            try Parameters.none(request, method)
            let verification = try store.verifyAudit()
            return .replies([try .ok(AuditVerifyResult(
                intact: verification.isIntact, entriesChecked: verification.entriesChecked,
                headSeq: verification.headSeq, headHash: verification.headHash.hex,
                firstBroken: verification.firstBreak.map { .init(seq: $0.seq, reason: $0.reason) }))])
        case .sharingPause, .sharingResume:
            try Parameters.none(request, method)
            return .replies([try .ok(setSharingPaused(method == .sharingPause, caller: caller))])
        case .rosterImport, .rosterImports, .rosterShowImport, .rosterRelease, .rosterDiscard, .rosterSummary:
            return try performRoster(method, request: request, caller: caller)
        case .partnersCheck, .partnersList, .partnersShow, .partnersPreview, .libraryAdopt, .libraryRemove, .libraryList,
             .partnersCredentials:
            return try performPartners(method, request: request, caller: caller)
        case .disclosuresList:
            let person = try Parameters.decode(DisclosuresParameters.self, request, method, keys: ["person"]).person
            let disclosures = try store.read { db throws(StewardError) in try DisclosureRecords.of(person: person, db: db) }
            auditQuietly(AuditEvent(caller: caller, method: method.rawValue, target: person, outcome: "ok",
                                    detail: "\(disclosures.count) partner(s)"))
            return .replies([try .ok(PersonDisclosures(person: person, disclosures: disclosures))])
        case .modulesList:
            try Parameters.none(request, method)
            let users = Dictionary(grouping: partners.partners.values, by: \.file.connector).mapValues { $0.map(\.file.name).sorted() }
            return .replies([try .ok(ModulesList(
                modules: modules.map { loaded in
                    .init(module: loaded.info, partners: Dictionary(uniqueKeysWithValues: loaded.info.kinds.map { ($0, users[$0] ?? []) }))
                },
                refused: refusedModules.map { ModuleRefusal(file: $0.file, reason: $0.reason) }))])
        }
    }

    private func info(for caller: Caller) -> ServiceInfo {
        ServiceInfo(
            product: "Steward", version: StewardVersion.current, district: configuration.district, pid: getpid(),
            schemaVersion: Store.schemaVersion, connectorABIVersion: ModuleABI.version,
            connectorFingerprint: ModuleABI.buildFingerprint, methods: ControlMethod.allCases.map(\.rawValue),
            caller: CallerInfo(uid: caller.peer.uid, gid: caller.peer.gid, pid: caller.peer.pid,
                               roles: roles(of: caller.peer).sorted().map(\.rawValue)))
    }

    private func status() throws -> ServiceStatus {
        let head = try store.auditEntryCount()
        var status = ServiceStatus(
            state: "running", district: configuration.district, startedAt: Timestamp.string(startedAt),
            uptimeSeconds: Int(Date().timeIntervalSince(startedAt)), configFile: configuration.file,
            stateDirectory: configuration.stateDirectory, socket: configuration.socketPath,
            schemaVersion: try store.currentSchemaVersion(), sharing: try sharingState(),
            modules: modules.map(\.info), refusedModules: refusedModules.map { ModuleRefusal(file: $0.file, reason: $0.reason) },
            lastReload: lastReload, auditEntries: head, controlConnections: listener?.connectionCount ?? 0)
        status.api = partnerListener?.status
        let today = Self.today()
        status.partners = partners.partners.mapValues { $0.standing(today: today, configuration: configuration).state.rawValue }
        return status
    }

    /// One page, or with `more` a stream of pages of 500, oldest first.
    private func auditList(_ request: ControlRequest) throws -> ControlOutcome {
        let parameters = try Parameters.decode(AuditListParameters.self, request, .auditList, keys: ["since", "limit"])
        let since = try parameters.since.map { raw throws(InvalidParameter) in try AuditTime.normalized(raw) }
        if let limit = parameters.limit, limit < 1 {
            throw InvalidParameter(parameter: "limit", message: "limit must be 1 or more")
        }
        guard request.more == true else {
            let entries = try store.auditEntries(since: since, limit: min(parameters.limit ?? 1000, 10_000))
            return .replies([try .ok(AuditPage(entries: entries.map(AuditRecord.init)))])
        }
        let cursor = AuditCursor(store: store, since: since, remaining: parameters.limit ?? Int.max)
        return .stream { cursor.next() }
    }

    private func setSharingPaused(_ paused: Bool, caller: Caller) throws -> SharingState {
        let before = try sharingState()
        let value = paused ? "\(caller.peer.uid) \(Timestamp.string(Date()))" : nil
        let method = paused ? ControlMethod.sharingPause : .sharingResume
        let unchanged = before.paused == paused
        let event = AuditEvent(caller: caller, method: method.rawValue, target: "all partners", outcome: "ok",
                               detail: unchanged ? "no change: already \(paused ? "paused" : "active")" : nil)
        if unchanged {
            try store.audit(event)
        } else {
            try store.setSetting(Self.sharingPausedKey, to: value, audit: event)
            Log.warning(paused ? "sharing PAUSED by uid \(caller.peer.uid): no partner receives data until resumed"
                               : "sharing resumed by uid \(caller.peer.uid)")
        }
        publishPartnerAccess()
        notifier.status(statusLine())
        return try sharingState()
    }
}

/// Streams the audit log page by page; each page is read when the connection has room for it.
final class AuditCursor: @unchecked Sendable {
    // Sound because `next()` is only called on the daemon's serial service queue.
    private let store: Store
    private let since: String?
    private var remaining: Int
    private var afterSeq: Int64 = 0

    init(store: Store, since: String?, remaining: Int) {
        self.store = store
        self.since = since
        self.remaining = remaining
    }

    func next() -> (reply: ControlReply, isLast: Bool) {
        do {
            let page = try store.auditEntries(since: since, afterSeq: afterSeq, limit: min(500, remaining))
            remaining -= page.count
            afterSeq = page.last?.seq ?? afterSeq
            let isLast = page.count < 500 || remaining == 0
            return (try .ok(AuditPage(entries: page.map(AuditRecord.init)), continues: !isLast), isLast)
        } catch {
            return (.failure(.storeFailed, "reading the audit log failed: \(error)"), true)
        }
    }
}

extension AuditRecord {
    init(_ entry: AuditEntry) {
        self.init(seq: entry.seq, at: entry.at, uid: entry.event.uid, pid: entry.event.pid, role: entry.event.role,
                  method: entry.event.method, target: entry.event.target, outcome: entry.event.outcome,
                  detail: entry.event.detail, hash: entry.hash.hex)
    }
}

/// A parameter that is missing, unknown or of the wrong shape.
struct InvalidParameter: Error {
    var parameter: String
    var message: String
}

/// Decodes a method's parameters strictly: an unknown key is an error, not ignored, so a typo
/// never silently changes what a call does.
enum Parameters {
    static func none(_ request: ControlRequest, _ method: ControlMethod) throws(InvalidParameter) {
        _ = try decode(NoParameters.self, request, method, keys: [])
    }

    static func decode<P: Decodable>(_ type: P.Type, _ request: ControlRequest, _ method: ControlMethod,
                                     keys: Set<String>) throws(InvalidParameter) -> P {
        let parameters = request.parameters ?? .object([:])
        guard case .object(let fields) = parameters else {
            throw InvalidParameter(parameter: "parameters", message: "\"parameters\" must be a JSON object")
        }
        if let unknown = fields.keys.sorted().first(where: { !keys.contains($0) }) {
            let known = keys.isEmpty ? "it takes none" : "it takes " + keys.sorted().joined(separator: ", ")
            throw InvalidParameter(parameter: unknown, message: "unknown parameter '\(unknown.prefix(64))'; \(known)")
        }
        do {
            return try ControlReply(parameters: parameters).decode(type)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let name = context.codingPath.first?.stringValue ?? "parameters"
            throw InvalidParameter(parameter: name, message: "'\(name)' has the wrong type")
        } catch {
            throw InvalidParameter(parameter: "parameters", message: "the parameters cannot be read")
        }
    }
}

/// Times given to `since`: `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.mmm]]` with an optional `Z`,
/// all UTC. Normalized to a prefix that compares correctly with stored timestamps.
enum AuditTime {
    static func normalized(_ raw: String) throws(InvalidParameter) -> String {
        let text = raw.hasSuffix("Z") ? String(raw.dropLast()) : raw
        let digits = text.unicodeScalars.map { CharacterSet.decimalDigits.contains($0) ? "9" : String($0) }.joined()
        let shapes = ["9999-99-99", "9999-99-99T99:99", "9999-99-99T99:99:99", "9999-99-99T99:99:99.999"]
        guard shapes.contains(digits), isPlausible(text) else {
            throw InvalidParameter(parameter: "since",
                message: "'\(raw.prefix(40))' is not a UTC time like 2026-11-29 or 2026-11-29T13:00:00Z")
        }
        return text
    }

    private static func isPlausible(_ text: String) -> Bool {
        let numbers = text.split(whereSeparator: { "-T:.".contains($0) }).compactMap { Int($0) }
        guard numbers.count >= 3 else { return false }
        let ranges = [1970...9999, 1...12, 1...31, 0...23, 0...59, 0...60, 0...999]
        return zip(numbers, ranges).allSatisfy { $1.contains($0) }
    }
}

import ConnectorKit
import Dispatch
import Foundation
import StewardControl
import StewardCore
import StewardCrypto
import StewardStore

/// Partners at run time: their states (recorded and audited when they change, checked again
/// every ten minutes so an agreement that expires stops that day), their views, the dashboard,
/// previews, and Library adoptions.
extension Daemon {
    func startPartnerChecks() {
        logUnreadablePartnerFiles()
        recordPartnerStates(caller: nil)
        forgetChangesPastTheWindow()
        let timer = DispatchSource.makeTimerSource(queue: serviceQueue)
        timer.schedule(deadline: .now() + 600, repeating: 600)
        timer.setEventHandler { [unowned self] in
            recordPartnerStates(caller: nil)
            forgetChangesPastTheWindow()
        }
        timer.resume()
        partnerTimer = timer
    }

    /// Forgets what changed records were before imports older than the change feeds' window,
    /// at start and every ten minutes, whether or not imports come: a removed student's record
    /// does not outlive the window.
    func forgetChangesPastTheWindow() {
        let cutoff = Timestamp.string(Date().addingTimeInterval(-Double(ChangeRecords.retentionDays) * 86_400))
        do { try store.write { db throws(StewardError) in try ChangeRecords.forgetPrevious(before: cutoff, db: db) } }
        catch { Log.error("change sets: cannot forget previous values older than \(ChangeRecords.retentionDays) days: \(error)") }
    }

    /// Logs each partner file that could not be read, once per load.
    func logUnreadablePartnerFiles() {
        for file in partners.unreadable {
            Log.error("partner file not loaded: \(file.file): \(file.problems.count) problem(s); stewardctl partners check \(file.file)")
        }
    }

    /// Publishes the partners' access for the listener, then compares every partner's standing
    /// with the recorded one; each change is recorded with its audit entry and logged. Runs on
    /// the service queue.
    func recordPartnerStates(caller: Caller?) {
        let today = Self.today()
        publishPartnerAccess()
        do {
            let recorded = try store.read { db throws(StewardError) in try PartnerRecords.states(db) }
            for (name, partner) in partners.partners.sorted(by: { $0.key < $1.key }) {
                let standing = partner.standing(today: today, configuration: configuration)
                let before = recorded[name]?.state
                guard before != standing.state.rawValue else { continue }
                let detail = "\(before ?? "new") → \(standing.state.rawValue)" + (standing.reasons.isEmpty ? "" : "; \(standing.reasons.count) reason(s)")
                try store.write { db throws(StewardError) in
                    try PartnerRecords.record(name, state: standing.state.rawValue, audit: AuditEvent(
                        caller: caller, method: "partner.state", target: name, outcome: "ok", detail: detail), db: db)
                }
                let line = "partner \(name): \(detail)"
                if standing.state == .active { Log.info(line) } else {
                    Log.warning(line + (standing.reasons.first.map { ": \($0)" } ?? ""))
                }
            }
            for name in recorded.keys.sorted() where partners.partners[name] == nil {
                try store.write { db throws(StewardError) in
                    // Its credentials and tokens go with it: a file that comes back under the
                    // same name needs new ones.
                    try CredentialRecords.revoke(name, db: db)
                    try PartnerRecords.record(name, state: nil, audit: AuditEvent(
                        caller: caller, method: "partner.state", target: name, outcome: "ok",
                        detail: "\(recorded[name]?.state ?? "") → removed: its file is gone; sharing stopped, credentials revoked"), db: db)
                }
                Log.warning("partner \(name): removed; sharing stopped")
            }
        } catch {
            Log.error("partner states: \(error)")
        }
        notifier.status(statusLine())
    }

    /// Publishes each partner's state, scopes, client-certificate pins, connector, rate and view
    /// policy for the token endpoint and the pull gateway, which run off the service queue. A
    /// pause makes every partner inactive there.
    func publishPartnerAccess() {
        let today = Self.today()
        let paused = (try? sharingState().paused) ?? true
        let version = (try? rosterVersion()) ?? 0
        let table = partners.partners.mapValues { partner in
            let standing = partner.standing(today: today, configuration: configuration)
            return PartnerAccess(state: paused && standing.state == .active ? .inactive : standing.state,
                                 scopes: OAuthScope.available(to: partner.file.grant.fields),
                                 clientCertificatePins: partner.clientCertificatePins, connector: partner.file.connector,
                                 policy: try? sharedView(of: partner, standing: standing, paused: paused).policy,
                                 requestsPerMinute: partner.file.access.requestsPerMinute, rosterVersion: version)
        }
        partnerAccess.replace(with: table)
    }

    /// The view `partner` has now; with `preview`, the one it would have once active.
    func sharedView(of partner: LoadedPartner, preview: Bool = false, standing known: PartnerStanding? = nil,
                    paused knownPause: Bool? = nil) throws(StewardError) -> StewardCore.SharedView {
        let standing = known ?? partner.standing(today: Self.today(), configuration: configuration)
        var paused = false
        if let knownPause { paused = knownPause } else { paused = try sharingState().paused }
        let adopted = partner.file.kind == .library
            ? try store.read { db throws(StewardError) in try PartnerRecords.adoptedSections(partner: partner.file.name, db: db) }
            : []
        var policy = SharingPolicy(partner: partner.file, standing: standing, adoptedSections: adopted)
        if preview { policy.isSharing = true } else if paused { policy.isSharing = false }
        let name = partner.file.name
        return StewardCore.SharedView(policy: policy) { [secret] in secret.pseudonym(partner: name, sourcedId: $0) }
    }

    /// How many students, teachers and sections `view` holds: counted in full once per roster
    /// version and policy, then served from memory until an import or a policy change.
    func viewCounts(_ view: StewardCore.SharedView) throws(StewardError) -> ViewCounts {
        let version = try rosterVersion()
        if let cached = viewCountCache.withLock({ $0[view.policy.partner] }), cached.version == version, cached.policy == view.policy {
            return cached.counts
        }
        let counts = try store.read { db throws(StewardError) in
            let roster = RosterViewReader(db: db, scopeOf: view.policy)
            return ViewCounts(students: try view.count(.student, from: roster), teachers: try view.count(.teacher, from: roster),
                              sections: try view.count(.section, from: roster))
        }
        viewCountCache.withLock { $0[view.policy.partner] = (version, view.policy, counts) }
        return counts
    }

    /// The dashboard's entry for `partner`, with its counts still zero: made on the service
    /// queue (it reads the configuration); `viewCounts` fills them in off it.
    func summary(of partner: LoadedPartner, view: StewardCore.SharedView, adoptions: [LibraryAdoption]?) -> PartnerSummary {
        let standing = partner.standing(today: Self.today(), configuration: configuration)
        let fields = Dictionary(grouping: view.policy.fields.sorted(), by: \.tier.rawValue).mapValues { $0.map(\.name) }
        let file = partner.file
        return PartnerSummary(
            name: file.name, displayName: file.displayName, type: file.kind.rawValue, connector: file.connector,
            contact: file.contact, file: file.path, state: standing.state.rawValue, reasons: standing.reasons, fields: fields,
            agreementSigned: file.agreement.signed, agreementExpires: file.agreement.expires, counts: ViewCounts(),
            recommended: file.kind == .library ? configuration.library.recommended.contains(file.name) : nil,
            adoptions: adoptions)
    }

    func performPartners(_ method: ControlMethod, request: ControlRequest, caller: Caller) throws -> ControlOutcome {
        switch method {
        case .partnersCheck:
            let parameters = try Parameters.decode(PartnersCheckParameters.self, request, method, keys: ["files"])
            if let relative = parameters.files?.first(where: { !$0.hasPrefix("/") }) {
                throw InvalidParameter(parameter: "files", message: "'\(relative.prefix(80))' is not an absolute path")
            }
            let directory = PartnerDirectory.load(files: parameters.files, configuration: configuration, modules: modules)
            return .replies([try .ok(directory.checkResult(today: Self.today(), baseline: configuration.baseline))])
        case .partnersList:
            try Parameters.none(request, method)
            let loaded = partners.partners.values.sorted { $0.file.name < $1.file.name }
            let adoptions = try store.read { db throws(StewardError) in try PartnerRecords.adoptions(partner: nil, db: db) }
            let entries = try loaded.map { partner throws(StewardError) in
                let view = try sharedView(of: partner)
                let own = partner.file.kind == .library ? adoptions.filter { $0.partner == partner.file.name } : nil
                return (summary(of: partner, view: view, adoptions: own), view)
            }
            let header = PartnersList(today: Self.today(), rosterVersion: try rosterVersion(), sharingPaused: try sharingState().paused,
                                      librarySharing: configuration.library.isSharingOn, partners: [],
                                      unreadable: partners.unreadable)
            return offServiceQueue { [self] in
                var list = header
                for (entry, view) in entries {
                    var counted = entry
                    counted.counts = try viewCounts(view)
                    list.partners.append(counted)
                }
                return try .ok(list)
            }
        case .partnersShow:
            let name = try Parameters.decode(PartnerNameParameters.self, request, method, keys: ["name"]).name
            let partner = try loadedPartner(name)
            let view = try sharedView(of: partner)
            let adoptions = partner.file.kind == .library
                ? try store.read { db throws(StewardError) in try PartnerRecords.adoptions(partner: name, db: db) } : nil
            let entry = summary(of: partner, view: view, adoptions: adoptions)
            return offServiceQueue { [self] in
                var counted = entry
                counted.counts = try viewCounts(view)
                return try .ok(counted)
            }
        case .partnersPreview:
            let parameters = try Parameters.decode(PartnerPreviewParameters.self, request, method, keys: ["name", "limit"])
            let limit = parameters.limit ?? 20
            guard (1...1000).contains(limit) else { throw InvalidParameter(parameter: "limit", message: "limit must be 1 to 1000") }
            let partner = try loadedPartner(parameters.name)
            let view = try sharedView(of: partner, preview: true)
            let live = try sharedView(of: partner)
            let standing = partner.standing(today: Self.today(), configuration: configuration)
            let note = live.policy.isSharing ? nil
                : "\(partner.file.name) is \(standing.state.rawValue)\((try? sharingState().paused) == true ? " (sharing paused)" : ""): it receives nothing now; these are the records it would receive once active"
            auditQuietly(AuditEvent(caller: caller, method: method.rawValue, target: partner.file.name, outcome: "ok",
                                    detail: "up to \(limit) record(s) of each kind shown"))
            let entry = summary(of: partner, view: live, adoptions: nil)
            return offServiceQueue { [self] in
                var counted = entry
                counted.counts = try viewCounts(live)
                let records = try store.read { db throws(StewardError) in
                    let roster = RosterViewReader(db: db, fields: view.policy.fields)
                    var records: [SharedRecord] = []
                    for kind in SharedRecord.Kind.allCases {
                        records += try view.page(kind, from: roster, after: nil, limit: limit).records
                    }
                    return records
                }
                return try .ok(PartnerPreview(partner: counted, note: note, records: records))
            }
        case .partnersCredentials:
            let parameters = try Parameters.decode(PartnerCredentialsParameters.self, request, method, keys: ["name", "rotate"])
            let partner = try loadedPartner(parameters.name)
            if parameters.rotate == true {
                guard !roles(of: caller.peer).isDisjoint(with: [.admin, .steward]) else {
                    auditQuietly(AuditEvent(caller: caller, method: method.rawValue, target: partner.file.name, outcome: "refused",
                                            detail: "rotation needs steward or admin"))
                    return .replies([.failure(.permissionDenied, "rotating a partner's credentials needs the role steward or admin")])
                }
                let made = try store.write { db throws(StewardError) in
                    try CredentialRecords.rotate(partner.file.name, audit: AuditEvent(
                        caller: caller, method: method.rawValue, target: partner.file.name, outcome: "ok",
                        detail: "new client credentials; the old secret and its tokens no longer work"), db: db)
                }
                Log.info("partner \(partner.file.name): client credentials rotated by uid \(caller.peer.uid)")
                return .replies([try .ok(PartnerCredentials(partner: partner.file.name, clientId: made.clientId,
                                                            clientSecret: made.secret, createdAt: Timestamp.string(Date())))])
            }
            let stored = try store.read { db throws(StewardError) in try CredentialRecords.credentials(partner: partner.file.name, db: db) }
            return .replies([try .ok(PartnerCredentials(partner: partner.file.name, clientId: stored?.clientId, clientSecret: nil,
                                                        createdAt: stored?.createdAt))])
        case .libraryAdopt, .libraryRemove:
            let parameters = try Parameters.decode(LibraryAdoptionParameters.self, request, method, keys: ["partner", "teacher", "section"])
            return .replies([try changeAdoption(parameters, adopt: method == .libraryAdopt, caller: caller)])
        case .libraryList:
            let partner = try Parameters.decode(LibraryListParameters.self, request, method, keys: ["partner"]).partner
            if let partner { _ = try loadedPartner(partner) }
            return .replies([try .ok(LibraryAdoptionList(adoptions: store.read { db throws(StewardError) in
                try PartnerRecords.adoptions(partner: partner, db: db)
            }))])
        default:
            throw InvalidParameter(parameter: "method", message: "not a partner method")
        }
    }

    private func loadedPartner(_ name: String) throws(InvalidParameter) -> LoadedPartner {
        guard let partner = partners.partners[name] else {
            let known = partners.partners.keys.sorted()
            throw InvalidParameter(parameter: "name", message: "there is no partner '\(name.prefix(64))'"
                + (closestMatch(name, among: known).map { "; did you mean \($0)?" } ?? "; stewardctl partners lists them"))
        }
        return partner
    }

    func rosterVersion() throws(StewardError) -> Int64 {
        // The importer keeps the version in settings (ImportRun.setRosterVersion).
        Int64(try store.setting("roster.version") ?? "0") ?? 0
    }

    /// Runs `body` on the view queue and sends its reply: reading a large view must not hold up
    /// the service queue (and with it the watchdog).
    private func offServiceQueue(_ body: @escaping @Sendable () throws -> ControlReply) -> ControlOutcome {
        .pushed { [viewQueue] sink in
            viewQueue.async {
                do { sink.send(try body(), isLast: true) } catch {
                    Log.error("reading a partner view failed: \(error)")
                    sink.send(.failure(.storeFailed, "reading the view failed: \(error)"), isLast: true)
                }
            }
        }
    }

    /// A teacher adopts (or drops) a Library application for a section they teach.
    private func changeAdoption(_ parameters: LibraryAdoptionParameters, adopt: Bool, caller: Caller) throws -> ControlReply {
        let method = adopt ? ControlMethod.libraryAdopt : .libraryRemove
        let partner = try loadedPartner(parameters.partner)
        let target = "\(partner.file.name) section \(parameters.section)"
        func refuse(_ message: String) -> ControlReply {
            auditQuietly(AuditEvent(caller: caller, method: method.rawValue, target: target, outcome: "refused", detail: message))
            return .failure(.refused, message, details: ["partner": .string(partner.file.name)])
        }
        guard partner.file.kind == .library else {
            throw InvalidParameter(parameter: "partner", message: "\(partner.file.name) is a district application; only Library applications are adopted by teachers")
        }
        if adopt {
            if configuration.library.blocked.contains(partner.file.name) {
                return refuse("the district blocks the Library application \(partner.file.name) (LibraryBlocked= in \(configuration.file)); it cannot be adopted")
            }
            if !configuration.library.isSharingOn {
                return refuse("Library sharing is off (LibrarySharing=off in \(configuration.file)); no Library application can be adopted")
            }
        }
        let roster = try store.read { db throws(StewardError) in
            try PartnerRecords.teaching(teacher: parameters.teacher, section: parameters.section, db: db)
        }
        if adopt {
            guard roster.teacher else { throw InvalidParameter(parameter: "teacher", message: "there is no teacher '\(parameters.teacher.prefix(64))' in the roster") }
            guard roster.section else { throw InvalidParameter(parameter: "section", message: "there is no section '\(parameters.section.prefix(64))' in the roster") }
            guard roster.teaches else {
                throw InvalidParameter(parameter: "section", message: "teacher \(parameters.teacher.prefix(64)) does not teach section \(parameters.section.prefix(64)); a teacher adopts only for their own sections")
            }
        }
        let adoption = LibraryAdoption(partner: partner.file.name, section: parameters.section, teacher: parameters.teacher,
                                       adoptedAt: Timestamp.string(Date()), adoptedBy: Int64(caller.peer.uid))
        let changed = try store.write { db throws(StewardError) in
            try PartnerRecords.setAdoption(adoption, adopt: adopt, audit: AuditEvent(
                caller: caller, method: method.rawValue, target: target, outcome: "ok",
                detail: "teacher \(parameters.teacher)"), db: db)
        }
        Log.info("library: \(partner.file.name) \(adopt ? "adopted" : "removed") for section \(parameters.section) by uid \(caller.peer.uid)")
        publishPartnerAccess()
        let adoptions = try store.read { db throws(StewardError) in try PartnerRecords.adoptions(partner: partner.file.name, db: db) }
        return try .ok(LibraryAdoptionList(adoptions: adoptions, changed: changed))
    }
}

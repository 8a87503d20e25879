#if canImport(Glibc)
import Glibc
#endif
import ConnectorKit
import Dispatch
import Foundation
import StewardControl
import StewardCore
import StewardCrypto
import StewardIngest
import StewardStore
import StewardTLS
import Synchronization

/// The running daemon: configuration, store, modules, control socket, signals and systemd
/// notification. Its mutable state lives on one serial service queue; control requests, reloads,
/// the watchdog and shutdown all run there, one at a time, so none of them sees another half done.
public final class Daemon: @unchecked Sendable {
    // Sound because every `var` below is read and written only on `serviceQueue`; the `let`s are
    // immutable or Sendable themselves.
    let serviceQueue = DispatchQueue(label: "steward.service")
    /// Imports run here, one at a time, so a long one never holds up control calls.
    let importQueue = DispatchQueue(label: "steward.import")
    let store: Store
    let notifier: ServiceNotifier
    let overrides: DaemonConfiguration.Overrides
    let startedAt = Date()
    var configuration: DaemonConfiguration
    var modules: [LoadedModule] = []
    var refusedModules: [ModuleLoader.Refusal] = []
    var lastReload: ReloadResult?
    var listener: ControlListener?
    private var inbox: InboxWatcher?
    /// The HTTPS listener partners pull from, when `[API]` is configured.
    var partnerListener: PartnerListener?
    /// The partner folder as last loaded (at start or reload).
    var partners = PartnerDirectory()
    /// Keys every pseudonymous id and sealed cursor; made at first start.
    let secret: DistrictSecret
    /// Views are read here (counts, previews), never on the service queue.
    let viewQueue = DispatchQueue(label: "steward.views")
    var partnerTimer: DispatchSourceTimer?
    /// What the token endpoint may know of each partner, published from the service queue.
    let partnerAccess = PartnerAccessTable()
    /// Each partner's view counts, for the roster version and policy they were counted under.
    let viewCountCache = Mutex<[String: (version: Int64, policy: SharingPolicy, counts: ViewCounts)]>([:])
    private var watchdogTimer: DispatchSourceTimer?
    private var checkpointTimer: DispatchSourceTimer?
    private var isStopping = false

    /// Starts the daemon and never returns: it runs until SIGTERM, or exits 78 when the
    /// configuration or the store cannot be used.
    public static func run(configPath: String, overrides: DaemonConfiguration.Overrides) -> Never {
        signal(SIGPIPE, SIG_IGN)  // OpenSSL and sockets write(); a gone peer must be an error, not a kill.
        blockHandledSignals()
        let environment = ProcessInfo.processInfo.environment
        let configuration: DaemonConfiguration
        switch DaemonConfiguration.load(path: configPath, overrides: overrides) {
        case .success(let loaded): configuration = loaded
        case .failure(let failure):
            failure.problems.forEach { Log.error($0.description) }
            Log.error("stewardd: not started: \(failure.problems.count) configuration problem(s)")
            exit(ExitCode.configuration.rawValue)
        }
        let daemon: Daemon
        do {
            daemon = try Daemon(configuration: configuration, overrides: overrides, environment: environment)
        } catch {
            Log.error("stewardd: not started: \(error)")
            exit(ExitCode.configuration.rawValue)
        }
        daemon.serviceQueue.async { daemon.becomeReady() }
        daemon.waitForSignals()
    }

    private init(configuration: DaemonConfiguration, overrides: DaemonConfiguration.Overrides,
                 environment: [String: String]) throws(StewardError) {
        self.configuration = configuration
        self.overrides = overrides
        notifier = ServiceNotifier(environment: environment)
        store = try Store(stateDirectory: configuration.stateDirectory)
        do throws(DistrictSecret.LoadError) { secret = try DistrictSecret.loadOrCreate(in: configuration.stateDirectory) }
        catch { throw StewardError(.configurationInvalid, error.description) }
        try store.audit(AuditEvent(pid: Int64(getpid()), method: "daemon.start", target: configuration.file,
                                   outcome: "ok", detail: "stewardd \(StewardVersion.current), schema \(Store.schemaVersion)"))
        (modules, refusedModules) = ModuleLoader.loadAll(configuration.modules, from: configuration.moduleDirectory)
        for refusal in refusedModules {
            Log.error("module refused: \(refusal)")
            auditQuietly(AuditEvent(method: "module.refuse", target: refusal.file, outcome: "refused", detail: refusal.reason))
        }
        partners = PartnerDirectory.load(configuration: configuration, modules: modules)
        inbox = InboxWatcher(directory: configuration.inboxDirectory, queue: importQueue) { [unowned self] path, source in
            let options = importOptions(source: source, event: AuditEvent(method: "inbox.import", outcome: ""))
            let importer = RosterImporter(store: store)
            let report = importer.run(path: path, options: options)
            logImport(report)
            tidyUp(after: importer)
            return report
        }
        try inbox?.start()
        let loops = EventLoops()
        listener = try ControlListener(
            path: configuration.socketPath, mode: configuration.socketMode,
            maxConnections: configuration.maxControlConnections, loops: loops, handler: self,
            environment: environment)
        if let api = configuration.api {
            let tokens = TokenEndpoint(store: store, lifetime: api.tokenLifetime, partners: partnerAccess)
            let pull = PullGateway(store: store, secret: secret, partners: partnerAccess)
            partnerListener = try PartnerListener(api, loops: loops, tokens: tokens, pull: pull, modules: modules)
        }
    }

    private func becomeReady() {
        // Once running, a write waits out an import's final transaction instead of failing.
        store.setBusyTimeout(milliseconds: 60_000)
        // Partner states are recorded and published before any request can ask for them.
        startPartnerChecks()
        listener?.start()
        partnerListener?.start()
        if let api = partnerListener {
            Log.info("partner listener: https on \(api.settings.listen) (port \(api.server.port), \(api.settings.profile.rawValue)"
                     + (api.settings.clientCA == nil ? ")" : ", client certificates required)"))
        }
        startWatchdog()
        startCheckpoints()
        notifier.ready(status: statusLine())
        let head = try? store.auditHead()
        Log.info("stewardd \(StewardVersion.current) ready: \(modules.count) module(s), control socket \(configuration.socketPath)"
            + (listener?.isActivated == true ? " (from systemd)" : "")
            + (head.map { ", audit head \($0.seq) \($0.hash.hex)" } ?? ""))
    }

    func statusLine() -> String {
        let paused = (try? sharingState().paused) == true
        let active = partners.partners.values.filter { $0.standing(today: Self.today(), configuration: configuration).state == .active }.count
        return "Serving \(configuration.district); \(modules.count) module(s); \(active) of \(partners.partners.count) partner(s) active"
            + (paused ? "; sharing PAUSED" : "")
    }

    // MARK: Signals and the watchdog

    /// The signals the daemon acts on. They are blocked in every thread from the first line of
    /// `run`, before any thread exists, and the main thread takes them with `sigwait`: none can be
    /// lost in a window before a handler is armed, and none can hit a thread with its default
    /// action. (libdispatch's own main-thread loop waits with every signal unblocked, so its
    /// signal sources cannot promise either.)
    static let handledSignals = [SIGHUP, SIGTERM, SIGINT]

    private static func blockHandledSignals() {
        var set = handledSignalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private static func handledSignalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in handledSignals { sigaddset(&set, number) }
        return set
    }

    /// The main thread's loop: each signal becomes work on the service queue, in order.
    private func waitForSignals() -> Never {
        var set = Self.handledSignalSet()
        while true {
            var number: Int32 = 0
            guard sigwait(&set, &number) == 0 else { continue }
            let received = number
            serviceQueue.async { [self] in
                if received == SIGHUP { _ = reload(caller: nil) } else { stop() }
            }
        }
    }

    /// Pings systemd at half the watchdog interval from the service queue: a wedged queue stops the
    /// pings and systemd restarts the service.
    /// Checkpoints the store's WAL every minute, on the import queue (see Store.checkpointPolicy).
    private func startCheckpoints() {
        let timer = DispatchSource.makeTimerSource(queue: importQueue)
        timer.schedule(deadline: .now() + 60, repeating: 60)
        timer.setEventHandler { [store] in store.checkpoint() }
        timer.resume()
        checkpointTimer = timer
    }

    private func startWatchdog() {
        guard let interval = notifier.watchdogInterval else { return }
        let timer = DispatchSource.makeTimerSource(queue: serviceQueue)
        let half = interval / 2
        let nanoseconds = Int(half.components.seconds) * 1_000_000_000 + Int(half.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now(), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler { [notifier] in notifier.watchdog() }
        timer.resume()
        watchdogTimer = timer
    }

    // MARK: Reload

    /// Reads and checks everything again; swaps only when all of it is valid. Otherwise keeps
    /// running on the old configuration and says why. SIGHUP and `steward.Service.Reload` both
    /// come here. Runs on the service queue.
    func reload(caller: Caller?) -> ReloadResult {
        notifier.reloading()
        let result: ReloadResult
        switch DaemonConfiguration.load(path: configuration.file, overrides: overrides) {
        case .failure(let failure):
            result = ReloadResult(applied: false, at: Timestamp.string(Date()), changes: [],
                                  problems: failure.problems.map(\.description))
        case .success(let candidate):
            result = apply(candidate, caller: caller)
        }
        lastReload = result
        for problem in result.problems { Log.error("reload: \(problem)") }
        Log.info(result.applied ? "reload: applied (\(result.changes.isEmpty ? "no changes" : result.changes.joined(separator: "; ")))"
                                : "reload: refused, still running on the previous configuration")
        auditQuietly(AuditEvent(caller: caller, method: ControlMethod.reload.rawValue, target: configuration.file,
                                outcome: result.applied ? "ok" : "failed",
                                detail: result.applied ? "\(result.changes.count) change(s)" : "\(result.problems.count) problem(s)"))
        notifier.ready(status: result.applied ? statusLine() : "Reload failed; running on the previous configuration. " + statusLine())
        return result
    }

    private func apply(_ candidate: DaemonConfiguration, caller: Caller?) -> ReloadResult {
        let (newModules, refusals) = ModuleLoader.loadAll(candidate.modules, from: candidate.moduleDirectory, alreadyLoaded: modules)
        guard refusals.isEmpty else {
            return ReloadResult(applied: false, at: Timestamp.string(Date()), changes: [], problems: refusals.map(\.description))
        }
        var changes = ConfigurationChanges.between(configuration, candidate)
        if let listener = partnerListener, let api = candidate.api, api.listen == listener.settings.listen {
            // Certificates are renewed in place: load them again on every reload.
            do throws(TLSError) { try listener.reloadCertificate(api) } catch {
                return ReloadResult(applied: false, at: Timestamp.string(Date()), changes: [],
                                    problems: ["\(error.file ?? api.certificate): \(error.message)"])
            }
            changes.append("partner listener certificate loaded again")
        }
        changes += newModules.map { "module \($0.info.name) loaded from \($0.info.file)" }
        let newPartners = PartnerDirectory.load(configuration: candidate, modules: modules + newModules)
        let partnerChanges = newPartners.changes(from: partners)
        changes += partnerChanges.map { "partner \($0.partner) \($0.change)" }
        var applied = candidate
        // These are bound at start; a new value takes effect at the next restart.
        applied.stateDirectory = configuration.stateDirectory
        applied.socketPath = configuration.socketPath
        applied.socketMode = configuration.socketMode
        applied.maxControlConnections = configuration.maxControlConnections
        if applied.api?.listen != configuration.api?.listen { applied.api = configuration.api }
        configuration = applied
        modules += newModules
        partners = newPartners
        logUnreadablePartnerFiles()
        for change in partnerChanges {
            auditQuietly(AuditEvent(caller: caller, method: "partner.\(change.change == "added" ? "add" : change.change == "changed" ? "change" : "remove")",
                                    target: change.partner, outcome: "ok", detail: "partner file \(change.change) at reload"))
        }
        recordPartnerStates(caller: caller)
        return ReloadResult(applied: true, at: Timestamp.string(Date()), changes: changes, problems: [])
    }

    // MARK: Stop

    /// SIGTERM: tell systemd, stop taking requests, record the stop, close the store, exit 0.
    /// It runs on the service queue, so no request is half-way through when it does.
    private func stop() {
        guard !isStopping else { return }
        isStopping = true
        notifier.stopping()
        listener?.stop()
        partnerListener?.stop()
        // An import under way is abandoned, not waited for: its transaction rolls back.
        store.interruptImport()
        auditQuietly(AuditEvent(pid: Int64(getpid()), method: "daemon.stop", outcome: "ok", detail: "SIGTERM"))
        if let head = try? store.auditHead() {
            Log.info("stopping: audit head \(head.seq) \(head.hash.hex)")
        }
        store.close()
        Log.info("stewardd stopped")
        exit(ExitCode.ok.rawValue)
    }

    /// Appends to the audit chain; a failure is logged, since the caller has nothing better to do.
    func auditQuietly(_ event: AuditEvent) {
        do { try store.audit(event) } catch { Log.error("audit: cannot append \(event.method): \(error)") }
    }

    // MARK: Sharing pause

    static let sharingPausedKey = "sharing.paused"

    func sharingState() throws(StewardError) -> SharingState {
        guard let value = try store.setting(Self.sharingPausedKey) else { return SharingState(paused: false) }
        let parts = value.split(separator: " ", maxSplits: 1).map(String.init)
        return SharingState(paused: true, since: parts.last, byUID: parts.first.flatMap(UInt32.init))
    }
}

/// The person at the other end of a control call, with the role they act in.
struct Caller: Sendable {
    var peer: PeerCredentials
    var role: Role?
}

extension AuditEvent {
    init(caller: Caller?, method: String, target: String? = nil, outcome: String, detail: String? = nil) {
        self.init(uid: caller.map { Int64($0.peer.uid) }, pid: caller.map { Int64($0.peer.pid) },
                  role: caller?.role?.rawValue, method: method, target: target, outcome: outcome, detail: detail)
    }
}

/// What a reload would change, in words for the operator and the audit log.
enum ConfigurationChanges {
    static func between(_ old: DaemonConfiguration, _ new: DaemonConfiguration) -> [String] {
        var changes: [String] = []
        if old.district != new.district { changes.append("District changed") }
        if old.partnerDirectory != new.partnerDirectory { changes.append("PartnerDirectory is now \(new.partnerDirectory)") }
        if old.inboxDirectory != new.inboxDirectory { changes.append("InboxDirectory is now \(new.inboxDirectory)") }
        if old.moduleDirectory != new.moduleDirectory { changes.append("ModuleDirectory is now \(new.moduleDirectory)") }
        if old.library.isSharingOn != new.library.isSharingOn {
            changes.append("LibrarySharing is now \(new.library.isSharingOn ? "on" : "off")")
        }
        if old.library.blocked != new.library.blocked { changes.append("LibraryBlocked changed") }
        if old.library.recommended != new.library.recommended { changes.append("LibraryRecommended changed") }
        if old.baseline != new.baseline { changes.append("the agreement baseline changed") }
        if old.massChangeLimit != new.massChangeLimit {
            changes.append("MassChangeLimit is now \(Int((new.massChangeLimit * 100).rounded()))%")
        }
        for role in Role.allCases where old.roleGroups[role] != new.roleGroups[role] {
            changes.append("role \(role.rawValue): groups changed")
        }
        let restartOnly: [(String, Bool)] = [
            ("StateDirectory", old.stateDirectory != new.stateDirectory),
            ("Socket", old.socketPath != new.socketPath),
            ("SocketMode", old.socketMode != new.socketMode),
            ("MaxConnections", old.maxControlConnections != new.maxControlConnections),
            ("[API] Listen", old.api?.listen != new.api?.listen),
            ("[API] TokenLifetime", old.api?.tokenLifetime != new.api?.tokenLifetime),
        ]
        for (key, changed) in restartOnly where changed {
            changes.append("\(key) changed; it takes effect at the next restart")
        }
        return changes
    }
}

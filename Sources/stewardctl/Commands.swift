import Foundation
import StewardControl
import StewardCore

/// What went wrong in a command, and the exit code that says so.
struct CommandFailure: Error {
    var exitCode: ExitCode
    var message: String
}

/// One run of `stewardctl`: the parsed words, the socket, the output style.
struct Invocation {
    var words: [String]
    var socketPath: String
    var json: Bool
    var options: [String: String]

    static let usage = """
        Usage: stewardctl [--socket PATH] [--json] COMMAND

        Commands:
          status                    how the daemon is doing
          info                      what this daemon is, and the roles it gives you
          reload                    re-read the configuration (operator); kept as is if invalid
          audit [--since T] [--limit N]
                                    list the audit log (auditor, steward); T is a UTC time such
                                    as 2026-11-29 or 2026-11-29T13:00:00Z, or 30m, 2h, 7d ago
          audit verify              recompute the audit chain; exit 1 if it is broken
          sharing pause             stop all sharing with every partner at once (steward)
          sharing resume            let sharing go on (steward)
          import PATH [--dry-run]   import a OneRoster drop (folder or .zip) (operator); prints
                                    the verdict, counts, changes and findings; exit 0 applied or
                                    unchanged, 65 rejected, 75 held by the mass-change guard
          imports [--limit N]       the import history
          imports show ID           one import's report and findings
          imports release ID        apply an import the mass-change guard held (steward)
          imports discard ID        drop an import the mass-change guard held (steward)
          roster summary            counts of schools, terms, courses, sections, people, enrollments
          partners                  the dashboard: each partner's type, connector, state, view
                                    counts, agreement expiry and granted fields by tier
          partners show NAME        one partner, with the reasons for its state
          partners preview NAME [--limit N]
                                    the records exactly as NAME's view holds them (N per kind,
                                    default 20); for an inactive partner, what it would receive
          partners check [FILE…]    every requirement of the agreement baseline a partner file does
                                    not meet (all files of the partner folder by default), as
                                    file:line: requirement: what is missing; exit 1 if any
          partners credentials NAME [--rotate]
                                    the partner's OAuth client id; --rotate (steward) makes new
                                    credentials and prints the secret once; the old one stops
          library adopt PARTNER --teacher ID --section ID
                                    a teacher adopts a Library application for a section they
                                    teach (steward); refused (77) when blocked or Library is off
          library remove PARTNER --teacher ID --section ID
                                    drop that adoption (steward)
          library [list [PARTNER]]  the Library adoptions
          disclosures PERSON        every partner that received data about PERSON (a sourcedId),
                                    which fields, first and last time (auditor, steward)
          modules                   the loaded connector modules: kinds, the partners using
                                    each, ABI version, SHA-256 and file; refused modules

        The socket is --socket, else $STEWARD_SOCKET, else /run/steward/control.sock.
        Exit codes: 0 ok, 1 check failed, 65 bad input, 69 daemon unreachable,
        77 permission denied, 78 configuration error.
        """

    init(arguments: [String], environment: [String: String]) throws(CommandFailure) {
        var words: [String] = []
        var options: [String: String] = [:]
        var socketPath = environment["STEWARD_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/steward/control.sock"
        var json = false
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--json": json = true
            case "--dry-run", "--rotate": options[argument] = "yes"
            case "--socket", "--since", "--limit", "--teacher", "--section":
                guard let value = iterator.next() else {
                    throw CommandFailure(exitCode: .dataError, message: "\(argument) needs a value")
                }
                if argument == "--socket" { socketPath = value } else { options[argument] = value }
            case "-h", "--help": words = ["help"]
            default:
                guard !argument.hasPrefix("--") else {
                    throw CommandFailure(exitCode: .dataError, message: "unknown option \(argument); see stewardctl --help")
                }
                words.append(argument)
            }
        }
        self.words = words
        self.socketPath = socketPath
        self.json = json
        self.options = options
    }

    func run() throws -> ExitCode {
        switch words {
        case [], ["help"]:
            print(Self.usage)
            return .ok
        case ["status"]: return try status()
        case ["info"]: return try info()
        case ["reload"]: return try reload()
        case ["audit"]: return try auditList()
        case ["audit", "verify"]: return try auditVerify()
        case ["sharing", "pause"]: return try sharing(.sharingPause)
        case ["sharing", "resume"]: return try sharing(.sharingResume)
        case ["roster", "summary"]: return try rosterSummary()
        case ["imports"]: return try importHistory()
        default:
            return try partnerCommand() ?? rosterCommand()
        }
    }

    private func rosterCommand() throws -> ExitCode {
        switch words {
        case let words where words.count == 2 && words[0] == "import":
            return try importDrop(words[1])
        case let words where words.count >= 2 && words[0] == "partners" && words[1] == "check":
            return try partnersCheck(Array(words.dropFirst(2)))
        case let words where words.count == 3 && words[0] == "imports" && ["show", "release", "discard"].contains(words[1]):
            guard let id = Int64(words[2]) else {
                throw CommandFailure(exitCode: .dataError, message: "an import id is a number; stewardctl imports lists them")
            }
            switch words[1] {
            case "show": return try showImport(id)
            case "release": return try releaseImport(id)
            default: return try discardImport(id)
            }
        default:
            throw CommandFailure(exitCode: .dataError, message: "unknown command '\(words.joined(separator: " "))'; see stewardctl --help")
        }
    }

    // MARK: Talking to the daemon

    func connect() throws(CommandFailure) -> ControlClient {
        do { return try ControlClient(socketPath: socketPath) }
        catch { throw CommandFailure(exitCode: .unavailable, message: error.description) }
    }

    /// Calls `method` and returns its reply's parameters, or fails with the reply's error.
    func call<P: Decodable>(_ method: ControlMethod, _ type: P.Type,
                                    parameters: JSONValue? = nil) throws -> P {
        let reply: ControlReply
        do { reply = try connect().call(ControlRequest(method: method.rawValue, parameters: parameters)) }
        catch let failure as CommandFailure { throw failure }
        catch { throw CommandFailure(exitCode: .unavailable, message: "\(error)") }
        try Self.check(reply)
        return try reply.decode(type)
    }

    /// Turns an error reply into the exit code that names it.
    static func check(_ reply: ControlReply) throws(CommandFailure) {
        guard let error = reply.error else { return }
        let message = reply.errorMessage ?? error
        switch ControlError(rawValue: error) {
        case .permissionDenied: throw CommandFailure(exitCode: .permissionDenied, message: "permission denied: \(message)")
        case .configurationInvalid:
            var lines = [message]
            if case .object(let fields)? = reply.parameters, case .array(let problems)? = fields["problems"] {
                lines += problems.compactMap { if case .string(let text) = $0 { return "  " + text } else { return nil } }
            }
            throw CommandFailure(exitCode: .configuration, message: lines.joined(separator: "\n"))
        case .invalidRequest, .invalidParameter, .methodNotFound, .requestTooLong:
            throw CommandFailure(exitCode: .dataError, message: message)
        case .refused: throw CommandFailure(exitCode: .permissionDenied, message: "refused: \(message)")
        default:
            throw CommandFailure(exitCode: .software, message: "\(error): \(message)")
        }
    }

    // MARK: Commands

    private func status() throws -> ExitCode {
        let status = try call(.status, ServiceStatus.self)
        if json { printJSON(status); return .ok }
        var lines = [
            "Steward — \(status.district)",
            "State:        \(status.state), up \(humanDuration(status.uptimeSeconds)) (since \(status.startedAt))",
            "Sharing:      " + (status.sharing.paused
                ? "PAUSED since \(status.sharing.since ?? "?") by uid \(status.sharing.byUID.map(String.init) ?? "?")"
                : "active"),
            "Config:       \(status.configFile)",
            "State dir:    \(status.stateDirectory) (schema \(status.schemaVersion))",
            "Socket:       \(status.socket) (\(status.controlConnections) connection(s))",
            "Audit log:    \(status.auditEntries) entries",
        ]
        if let api = status.api {
            lines.append("Partner API:  https on \(api.listen) (port \(api.port), \(api.profile)\(api.mutualTLS ? ", client certificates required" : ""))"
                + (api.certificateExpiry.map { "; certificate expires \($0)" } ?? ""))
            lines.append("              \(api.openConnections) open, \(api.acceptedConnections) accepted, \(api.refusedConnections) refused, "
                + "\(api.failedHandshakes) failed handshakes, \(api.responses) responses, \(api.timeouts) timeouts")
        } else {
            lines.append("Partner API:  not configured ([API] in steward.conf)")
        }
        if let partners = status.partners {
            let byState = Dictionary(grouping: partners.keys.sorted(), by: { partners[$0] ?? "" })
            lines.append("Partners:     " + (partners.isEmpty ? "none" : byState.keys.sorted().map { state in
                state == "active" ? "\(byState[state]!.count) active" : "\(state): \(byState[state]!.joined(separator: ", "))"
            }.joined(separator: "; ")))
        }
        if status.modules.isEmpty { lines.append("Modules:      none") }
        for (index, module) in status.modules.enumerated() {
            lines.append((index == 0 ? "Modules:      " : "              ")
                + "\(module.name) [\(module.kinds.joined(separator: ", "))] \(module.file) sha256:\(module.sha256.prefix(16))…")
        }
        for refusal in status.refusedModules {
            lines.append("Refused:      \(refusal.file): \(refusal.reason)")
        }
        if let reload = status.lastReload {
            lines.append("Last reload:  " + (reload.applied
                ? "applied at \(reload.at) (\(reload.changes.count) change(s))"
                : "REFUSED at \(reload.at); running on the previous configuration"))
            lines += reload.problems.map { "              \($0)" }
        }
        print(lines.joined(separator: "\n"))
        return .ok
    }

    private func info() throws -> ExitCode {
        let info = try call(.getInfo, ServiceInfo.self)
        if json { printJSON(info); return .ok }
        print("""
            \(info.product) \(info.version) — \(info.district) (pid \(info.pid))
            Store schema:  \(info.schemaVersion)
            Connector ABI: \(info.connectorABIVersion) (\(info.connectorFingerprint))
            You:           uid \(info.caller.uid), gid \(info.caller.gid), roles: \(info.caller.roles.joined(separator: ", "))
            """)
        return .ok
    }

    private func reload() throws -> ExitCode {
        let result = try call(.reload, ReloadResult.self)
        if json { printJSON(result); return .ok }
        print(result.changes.isEmpty ? "Reloaded: no changes." : "Reloaded:\n" + result.changes.map { "  \($0)" }.joined(separator: "\n"))
        return .ok
    }

    private func auditList() throws -> ExitCode {
        var parameters: [String: JSONValue] = [:]
        if let since = options["--since"] { parameters["since"] = .string(absoluteSince(since)) }
        if let limit = options["--limit"] {
            guard let count = Int(limit), count > 0 else {
                throw CommandFailure(exitCode: .dataError, message: "--limit needs a whole number above 0")
            }
            parameters["limit"] = .number(Double(count))
        }
        let request = ControlRequest(method: ControlMethod.auditList.rawValue, parameters: .object(parameters), more: true)
        var table = Table(headers: ["SEQ", "TIME (UTC)", "UID", "PID", "ROLE", "METHOD", "TARGET", "OUTCOME", "DETAIL"])
        var first = true
        if json { print("[", terminator: "") }
        do {
            try connect().stream(request) { reply in
                try Self.check(reply)
                for entry in try reply.decode(AuditPage.self).entries {
                    if json {
                        print(first ? "" : ",", terminator: "")
                        printJSON(entry)
                        first = false
                    } else {
                        table.rows.append([String(entry.seq), entry.at, entry.uid.map(String.init) ?? "-",
                                           entry.pid.map(String.init) ?? "-", entry.role ?? "-", entry.method,
                                           entry.target ?? "-", entry.outcome, entry.detail ?? ""])
                    }
                }
            }
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(exitCode: .unavailable, message: "\(error)")
        }
        if json { print("]") } else { print(table.render()) }
        return .ok
    }

    private func auditVerify() throws -> ExitCode {
        let result = try call(.auditVerify, AuditVerifyResult.self)
        if json { printJSON(result) }
        else if let broken = result.firstBroken {
            print("BROKEN at entry \(broken.seq): \(broken.reason)")
            print("\(result.entriesChecked) entries before it hold; the chain up to entry \(result.headSeq) is intact.")
        } else {
            print("Intact: \(result.entriesChecked) entries; head \(result.headSeq) \(result.headHash)")
        }
        return result.intact ? .ok : .checkFailed
    }

    private func sharing(_ method: ControlMethod) throws -> ExitCode {
        let state = try call(method, SharingState.self)
        if json { printJSON(state); return .ok }
        print(state.paused
            ? "Sharing is PAUSED (since \(state.since ?? "?")): no partner receives data until a steward resumes it."
            : "Sharing is active.")
        return .ok
    }
}

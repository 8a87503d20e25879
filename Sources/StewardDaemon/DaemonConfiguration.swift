#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardCore
import StewardTLS

/// steward.conf, read and checked. Relative paths resolve against the directory of the file.
public struct DaemonConfiguration: Sendable, Equatable {
    public var file: String
    public var district: String
    public var stateDirectory: String
    public var partnerDirectory: String
    public var moduleDirectory: String
    public var inboxDirectory: String
    /// Module names to load; `probe` is the file `probe.so` in ``moduleDirectory``.
    public var modules: [String]
    public var socketPath: String
    public var socketMode: mode_t
    public var maxControlConnections: Int
    /// The gids whose members hold each role.
    public var roleGroups: [Role: [gid_t]]
    /// The mass-change guard: the largest share of current students or sections one bulk drop may
    /// remove before it is held for a steward (0.10 = 10%).
    public var massChangeLimit: Double
    /// The HTTPS listener partners pull from, when `[API]` is configured.
    public var api: APISettings?
    /// What every partner's agreement must meet (`[Agreements]`).
    public var baseline: AgreementBaseline
    /// The district's Library switches (`[Sharing]`).
    public var library: LibrarySettings

    /// `[API]`: where partners connect, and with which certificate.
    public struct APISettings: Sendable, Equatable {
        public var listen: String
        public var certificate: String
        public var privateKey: String
        public var clientCA: String?
        public var profile: TLSPolicy
        /// Seconds an OAuth access token is valid (`TokenLifetime=`, default one hour).
        public var tokenLifetime: Int = 3600
    }

    /// What the command line overrides, so tests and the demo run anywhere without root.
    public struct Overrides: Sendable, Equatable {
        public var stateDirectory: String?
        public var socketPath: String?
        public init(stateDirectory: String? = nil, socketPath: String? = nil) {
            self.stateDirectory = stateDirectory
            self.socketPath = socketPath
        }
    }

    static let schema = UnitFileSchema([
        .init("Steward", keys: [
            .init("District", required: true),
            .init("StateDirectory"), .init("PartnerDirectory"), .init("ModuleDirectory"), .init("InboxDirectory"),
            .init("Modules", repeatable: true),
        ]),
        .init("Control", keys: [.init("Socket"), .init("SocketMode"), .init("MaxConnections")]),
        .init("Roles", keys: Role.allCases.map { .init($0.rawValue, repeatable: true) }),
        .init("Import", keys: [.init("MassChangeLimit")]),
        .init("Agreements", keys: [.init("Attests", repeatable: true), .init("MaxBreachNoticeHours"), .init("MaxDeletionDays")]),
        .init("Sharing", keys: [.init("LibrarySharing"), .init("LibraryBlocked", repeatable: true),
                                .init("LibraryRecommended", repeatable: true)]),
        .init("API", keys: [.init("Listen", required: false), .init("Certificate"), .init("PrivateKey"),
                            .init("ClientCA"), .init("Profile"), .init("TokenLifetime")]),
    ])

    /// Reads and checks `path`. Every problem is returned, each naming `file:line: key`.
    public static func load(path: String, overrides: Overrides = .init()) -> Result<DaemonConfiguration, ConfigurationProblems> {
        let absolute = absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
        let text: String
        do {
            text = try readText(absolute)
        } catch {
            return .failure(ConfigurationProblems([ConfigurationProblem(absolute, 0, nil, error.message)]))
        }
        var reader = Reader(file: UnitFile(path: absolute, text: text))
        let configuration = reader.configuration(overrides: overrides)
        return reader.problems.isEmpty ? .success(configuration) : .failure(ConfigurationProblems(reader.problems))
    }

    /// Reads a whole configuration file as UTF-8, with a message that names it when it cannot.
    static func readText(_ path: String) throws(StewardError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "does not exist"
            throw StewardError(.configurationInvalid, "the configuration file \(reason)", location: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StewardError(.configurationInvalid, "the configuration file is not valid UTF-8", location: path)
        }
        return text
    }

    static func absolutePath(_ path: String, relativeTo directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }

    /// Reads typed values out of the file, collecting every problem instead of stopping at one.
    private struct Reader {
        let file: UnitFile
        var problems: [ConfigurationProblem]
        let directory: String

        init(file: UnitFile) {
            self.file = file
            problems = file.problems(against: DaemonConfiguration.schema)
            directory = (file.path as NSString).deletingLastPathComponent
        }

        mutating func configuration(overrides: Overrides) -> DaemonConfiguration {
            let district = file.first("Steward", "District")?.value ?? ""
            if let entry = file.first("Steward", "District"), entry.value.isEmpty {
                problem(entry, "must name the district, as its staff and partners know it")
            }
            let stateDirectory = overrides.stateDirectory.map { absolutePath($0, relativeTo: FileManager.default.currentDirectoryPath) }
                ?? path("Steward", "StateDirectory", default: "/var/lib/steward")
            let modules = file.all("Steward", "Modules").flatMap { entry in
                entry.value.split(separator: " ").map(String.init).filter { !$0.isEmpty }.map { name -> String in
                    if !isModuleName(name) { problem(entry, "'\(name)' is not a module name (letters, digits, - and _)") }
                    return name
                }
            }
            let configuration = DaemonConfiguration(
                file: file.path,
                district: district,
                stateDirectory: stateDirectory,
                partnerDirectory: path("Steward", "PartnerDirectory", default: "/etc/steward/partners.d", mustExist: true),
                moduleDirectory: path("Steward", "ModuleDirectory", default: "/usr/lib/steward/modules", mustExist: !modules.isEmpty),
                inboxDirectory: path("Steward", "InboxDirectory", default: stateDirectory + "/inbox"),
                modules: modules,
                socketPath: overrides.socketPath.map { absolutePath($0, relativeTo: FileManager.default.currentDirectoryPath) }
                    ?? path("Control", "Socket", default: "/run/steward/control.sock"),
                socketMode: socketMode(),
                maxControlConnections: maxConnections(),
                roleGroups: roleGroups(),
                massChangeLimit: massChangeLimit(),
                api: apiSettings(),
                baseline: baseline(),
                library: library()
            )
            return configuration
        }

        private mutating func problem(_ entry: UnitFile.Entry, _ message: String) {
            problems.append(ConfigurationProblem(file.path, entry.line, entry.key, message))
        }

        private mutating func path(_ section: String, _ key: String, default fallback: String, mustExist: Bool = false) -> String {
            guard let entry = file.first(section, key) else { return fallback }
            guard !entry.value.isEmpty else {
                problem(entry, "is empty; give a path, or remove the line to use \(fallback)")
                return fallback
            }
            let resolved = absolutePath(entry.value, relativeTo: directory)
            var isDirectory: ObjCBool = false
            if mustExist && !(FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) && isDirectory.boolValue) {
                problem(entry, "\(resolved) is not a directory; create it or correct the path")
            }
            return resolved
        }

        private mutating func socketMode() -> mode_t {
            guard let entry = file.first("Control", "SocketMode") else { return 0o666 }
            guard let mode = mode_t(entry.value, radix: 8), mode <= 0o777 else {
                problem(entry, "'\(entry.value)' is not an octal file mode such as 0660")
                return 0o666
            }
            return mode
        }

        private mutating func maxConnections() -> Int {
            guard let entry = file.first("Control", "MaxConnections") else { return 64 }
            guard let count = Int(entry.value), (1...4096).contains(count) else {
                problem(entry, "'\(entry.value)' is not a number from 1 to 4096")
                return 64
            }
            return count
        }

        /// `[API]`, checked as far as a start would: the address parses, the certificate and key
        /// load under the TLS policy, the client CA file reads.
        private mutating func apiSettings() -> APISettings? {
            let entries = file.entries(in: "API")
            guard !entries.isEmpty else { return nil }
            guard let listen = file.first("API", "Listen") else {
                problems.append(ConfigurationProblem(file.path, entries[0].line, "Listen",
                    "[API] needs Listen= (such as 0.0.0.0:8443), or remove the section to run without a partner listener"))
                return nil
            }
            if listen.value.lowercased().hasPrefix("http://") {
                problem(listen, "plain http is never served; Steward listens for HTTPS only: write the address alone, such as 0.0.0.0:8443")
            } else {
                do throws(HTTPSServerError) { _ = try HTTPSServer.Address(parsing: listen.value) }
                catch { problem(listen, error.message) }
            }
            var required: [String: String] = [:]
            for key in ["Certificate", "PrivateKey"] {
                if let entry = file.first("API", key) {
                    required[key] = absolutePath(entry.value, relativeTo: directory)
                } else {
                    problems.append(ConfigurationProblem(file.path, listen.line, key, "required in [API] with Listen="))
                }
            }
            let clientCA = file.first("API", "ClientCA").map { absolutePath($0.value, relativeTo: directory) }
            var profile = TLSPolicy.intermediate
            if let entry = file.first("API", "Profile") {
                if let chosen = TLSPolicy(rawValue: entry.value) { profile = chosen }
                else { problem(entry, "'\(entry.value)' is not a TLS profile; use intermediate (TLS 1.2 and 1.3) or modern (TLS 1.3 only)") }
            }
            guard let certificate = required["Certificate"], let privateKey = required["PrivateKey"] else { return nil }
            var settings = APISettings(listen: listen.value, certificate: certificate, privateKey: privateKey,
                                       clientCA: clientCA, profile: profile)
            if let entry = file.first("API", "TokenLifetime") {
                let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
                let unit = entry.value.last.flatMap { units[$0] }
                // The number is bounded before it is multiplied, so no value can overflow.
                let seconds = Int(unit == nil ? entry.value : String(entry.value.dropLast()))
                    .flatMap { (1...86_400).contains($0) ? $0 * (unit ?? 1) : nil }
                if let seconds, (60...86_400).contains(seconds) {
                    settings.tokenLifetime = seconds
                } else {
                    problem(entry, "'\(entry.value.prefix(20))' is not a lifetime from 60s to 24h, such as 3600, 30m or 1h")
                }
            }
            do throws(TLSError) { _ = try settings.makeContext() } catch {
                let key = error.file == privateKey ? "PrivateKey" : error.file == clientCA ? "ClientCA" : "Certificate"
                let line = file.first("API", key)?.line ?? listen.line
                problems.append(ConfigurationProblem(file.path, line, key, error.message))
            }
            return settings
        }

        /// `[Agreements]`: the district's baseline; the defaults are FERPA, COPPA, PPRA, SOPIPA,
        /// AB 1584, no ads, no sale, no profiling, a security program, deletion on request,
        /// subprocessors bound; breach notice within 72 hours, deletion within 60 days.
        private mutating func baseline() -> AgreementBaseline {
            var baseline = AgreementBaseline()
            let attests = file.all("Agreements", "Attests").flatMap { $0.value.split(separator: " ").map(String.init) }
            if !attests.isEmpty { baseline.attests = attests }
            for (key, path) in [("MaxBreachNoticeHours", \AgreementBaseline.maximumBreachNoticeHours),
                                ("MaxDeletionDays", \AgreementBaseline.maximumDeletionDays)] {
                guard let entry = file.first("Agreements", key) else { continue }
                guard let number = Int(entry.value), number > 0 else {
                    problem(entry, "'\(entry.value)' is not a whole number above 0")
                    continue
                }
                baseline[keyPath: path] = number
            }
            return baseline
        }

        /// `[Sharing]`: Library sharing on or off, and the Library applications blocked or
        /// recommended by name.
        private mutating func library() -> LibrarySettings {
            var settings = LibrarySettings()
            if let entry = file.first("Sharing", "LibrarySharing") {
                if let isOn = entry.switchValue { settings.isSharingOn = isOn }
                else { problem(entry, "'\(entry.value.prefix(20))' is not on or off") }
            }
            for (key, path) in [("LibraryBlocked", \LibrarySettings.blocked), ("LibraryRecommended", \LibrarySettings.recommended)] {
                for entry in file.all("Sharing", key) {
                    for name in entry.value.split(separator: " ").map(String.init) {
                        if PartnerFile.isPartnerName(name) {
                            settings[keyPath: path].insert(name)
                        } else {
                            problem(entry, "'\(name.prefix(64))' is not a partner name: use a-z, 0-9 and -")
                        }
                    }
                }
            }
            let both = settings.blocked.intersection(settings.recommended)
            if let entry = file.first("Sharing", "LibraryRecommended"), !both.isEmpty {
                problem(entry, "\(both.sorted().joined(separator: ", ")) cannot be both blocked and recommended")
            }
            return settings
        }

        private mutating func massChangeLimit() -> Double {
            guard let entry = file.first("Import", "MassChangeLimit") else { return 0.10 }
            let text = entry.value.hasSuffix("%") ? String(entry.value.dropLast()) : entry.value
            guard let percent = Double(text), (0...100).contains(percent), entry.value.hasSuffix("%") else {
                problem(entry, "'\(entry.value)' is not a share such as 10%")
                return 0.10
            }
            return percent / 100
        }

        private mutating func roleGroups() -> [Role: [gid_t]] {
            var groups: [Role: [gid_t]] = [:]
            for role in Role.allCases {
                for entry in file.all("Roles", role.rawValue) {
                    for name in entry.value.split(separator: " ").map(String.init) where !name.isEmpty {
                        if let gid = GroupDirectory.gid(of: name) {
                            groups[role, default: []].append(gid)
                        } else {
                            problem(entry, "no group named '\(name)' exists on this system; create it (the sysusers file does) or name a numeric gid")
                        }
                    }
                }
            }
            return groups
        }
    }
}

extension DaemonConfiguration.APISettings {
    /// The TLS context these settings describe; errors name the file at fault.
    func makeContext() throws(TLSError) -> TLSServerContext {
        try TLSServerContext(certificate: TLSCertificateFiles(chainFile: certificate, privateKeyFile: privateKey),
                             clientCAFile: clientCA, profile: profile)
    }
}

private func isModuleName(_ name: String) -> Bool {
    !name.isEmpty && name.unicodeScalars.allSatisfy {
        CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_"
    }
}

/// Unix groups, looked up by name or number.
enum GroupDirectory {
    /// The gid for a group name or a numeric gid; nil when no such group exists.
    static func gid(of name: String) -> gid_t? {
        if let number = gid_t(name) { return number }
        var group = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return group.gr_gid
    }
}

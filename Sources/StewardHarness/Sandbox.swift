#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where the built binaries are: `$STEWARD_BIN_DIR`, or the folder of the running executable
/// (SwiftPM puts tests, stewardd, stewardctl and the modules side by side).
public enum Binaries {
    public static var directory: String {
        if let override = ProcessInfo.processInfo.environment["STEWARD_BIN_DIR"], !override.isEmpty { return override }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = (executable as NSString).deletingLastPathComponent
        // An .xctest bundle on Linux is a file beside the binaries, but be tolerant of a folder.
        if folder.hasSuffix(".xctest") { folder = (folder as NSString).deletingLastPathComponent }
        return folder
    }

    public static var stewardd: String { directory + "/stewardd" }
    public static var stewardctl: String { directory + "/stewardctl" }
    /// The built probe connector module.
    public static var probeModule: String { directory + "/libProbeConnector.so" }
    public static var oneRosterModule: String { directory + "/libOneRosterConnector.so" }
    public static var cleverModule: String { directory + "/libCleverConnector.so" }
}

/// A scratch installation of Steward in a temporary folder: configuration, partner folder,
/// module folder with the probe module, state directory and socket path. Nothing outside it is
/// touched, so tests and the benchmark run anywhere, in parallel, without root.
public struct Sandbox: Sendable {
    public let root: String
    public var configPath: String { root + "/steward.conf" }
    public var socketPath: String { root + "/control.sock" }
    public var notifyPath: String { root + "/notify.sock" }
    public var stateDirectory: String { root + "/state" }
    public var moduleDirectory: String { root + "/modules" }
    public var partnerDirectory: String { root + "/partners.d" }
    public var databasePath: String { stateDirectory + "/steward.db" }
    public var logPath: String { root + "/stewardd.log" }

    /// Makes the folder and writes a configuration that loads the probe module and maps `roles`
    /// (role name to group names or gids, such as `["operator": "4001"]`).
    public init(prefix: String = "steward-test", roles: [String: String] = [:], modules: [String] = ["probe"],
                district: String = "Sandbox Unified School District") throws {
        let temporary = (NSTemporaryDirectory() as NSString).standardizingPath
        let template = temporary + "/\(prefix)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw SandboxError("mkdtemp failed: \(String(cString: strerror(errno)))") }
        root = String(cString: made)
        // Socket paths must fit in 108 bytes, and the folder must be reachable by other uids.
        chmod(root, 0o755)
        for folder in [moduleDirectory, partnerDirectory] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        for (name, library) in [("probe", Binaries.probeModule), ("oneroster", Binaries.oneRosterModule),
                                 ("clever", Binaries.cleverModule)] where modules.contains(name) {
            try FileManager.default.copyItem(atPath: library, toPath: moduleDirectory + "/\(name).so")
            chmod(moduleDirectory + "/\(name).so", 0o644)
        }
        try writeConfiguration(roles: roles, modules: modules, district: district)
    }

    /// Rewrites steward.conf, for example before a reload.
    public func writeConfiguration(roles: [String: String] = [:], modules: [String] = ["probe"],
                                   district: String = "Sandbox Unified School District", extra: String = "") throws {
        var text = """
            [Steward]
            District=\(district)
            StateDirectory=state
            PartnerDirectory=partners.d
            ModuleDirectory=modules

            """
        if !modules.isEmpty { text += "Modules=\(modules.joined(separator: " "))\n" }
        text += "\n[Control]\nSocket=control.sock\n\n[Roles]\n"
        for (role, groups) in roles.sorted(by: { $0.key < $1.key }) { text += "\(role)=\(groups)\n" }
        text += extra
        try write(text, to: configPath)
    }

    public func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Removes the folder and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

public struct SandboxError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

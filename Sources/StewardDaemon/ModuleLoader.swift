#if canImport(Glibc)
import Glibc
#endif
import ConnectorKit
import Foundation
import StewardControl
import StewardCrypto

/// A connector module the daemon holds. Modules are never unloaded.
public struct LoadedModule: Sendable {
    public let module: any ConnectorModule
    public let info: ModuleInfo
}

/// Loads connector modules with `dlopen`, as DESIGN.md decides: one `@_cdecl` entry point, ABI
/// version and build fingerprint checked, files writable by others than root (or this daemon's
/// user) refused, a kind provided twice refused, nothing ever unloaded.
public enum ModuleLoader {
    /// Why a module file was refused; the message names the file.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var reason: String
        public var description: String { "\(file): \(reason)" }
    }

    /// The file a module name refers to.
    public static func file(for name: String, in directory: String) -> String {
        directory + "/" + name + ".so"
    }

    /// Checks a module file without loading it: present, a regular file, and writable by nobody
    /// but root or the daemon's own user, nor its folder.
    public static func checkFile(_ path: String) throws(Refusal) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw Refusal(file: path, reason: "cannot be read: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Refusal(file: path, reason: "is not a regular file (symbolic links are refused: install the file itself)")
        }
        try checkOwnership(info, of: path, what: "the file")
        var folder = stat()
        let directory = (path as NSString).deletingLastPathComponent
        guard stat(directory, &folder) == 0 else {
            throw Refusal(file: path, reason: "its folder cannot be read: \(String(cString: strerror(errno)))")
        }
        try checkOwnership(folder, of: path, what: "its folder")
    }

    private static func checkOwnership(_ info: stat, of path: String, what: String) throws(Refusal) {
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw Refusal(file: path, reason: "\(what) is writable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod go-w on it")
        }
        if info.st_uid != 0 && info.st_uid != geteuid() {
            throw Refusal(file: path, reason: "\(what) belongs to uid \(info.st_uid), neither root nor this daemon's user; chown it to root")
        }
    }

    /// Loads the module at `path`, unless one of `takenKinds` is among its kinds.
    public static func load(_ path: String, takenKinds: Set<String>) throws(Refusal) -> LoadedModule {
        try checkFile(path)
        let digest = try sha256(ofFileAt: path)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw Refusal(file: path, reason: "dlopen failed: \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        // From here on the library stays loaded, whatever happens: Swift code may have run.
        guard let symbol = dlsym(handle, ModuleABI.entryPointSymbol) else {
            throw Refusal(file: path, reason: "has no entry point \(ModuleABI.entryPointSymbol); it is not a Steward connector module")
        }
        let entry = unsafeBitCast(symbol, to: ModuleEntryPoint.self)
        var moduleVersion: UInt32 = 0
        var moduleFingerprint: UnsafePointer<CChar>?
        let object = ModuleABI.buildFingerprint.withCString { host in
            entry(ModuleABI.version, host, &moduleVersion, &moduleFingerprint)
        }
        let fingerprint = moduleFingerprint.map { String(cString: $0) } ?? "none"
        guard moduleVersion == ModuleABI.version else {
            throw Refusal(file: path, reason: "was built for connector ABI \(moduleVersion); this stewardd speaks \(ModuleABI.version); rebuild the module with this release")
        }
        guard fingerprint == ModuleABI.buildFingerprint, let object else {
            throw Refusal(file: path, reason: "was built as \(fingerprint); this stewardd is \(ModuleABI.buildFingerprint); rebuild the module with this release")
        }
        let instance = Unmanaged<AnyObject>.fromOpaque(object).takeRetainedValue()
        guard let module = instance as? any ConnectorModule else {
            throw Refusal(file: path, reason: "its module object is not a ConnectorKit.ConnectorModule of this process; the module links its own copy of ConnectorKit instead of libConnectorKit.so")
        }
        let kinds = module.kinds.map(\.name)
        if let malformed = module.kinds.first(where: { !$0.isWellFormed }) {
            throw Refusal(file: path, reason: "provides a kind with a malformed name '\(malformed.name)'")
        }
        if let taken = kinds.first(where: takenKinds.contains) ?? duplicate(in: kinds) {
            throw Refusal(file: path, reason: "provides the connector kind '\(taken)', which another module already provides")
        }
        return LoadedModule(module: module, info: ModuleInfo(
            name: module.name, file: path, sha256: digest, abiVersion: moduleVersion, kinds: kinds))
    }

    /// Loads each named module in order. A refused module is reported and skipped; the rest load.
    public static func loadAll(_ names: [String], from directory: String, alreadyLoaded: [LoadedModule] = [])
        -> (loaded: [LoadedModule], refused: [Refusal])
    {
        var loaded: [LoadedModule] = []
        var refused: [Refusal] = []
        var taken = Set(alreadyLoaded.flatMap(\.info.kinds))
        let loadedFiles = Set(alreadyLoaded.map(\.info.file))
        for name in names {
            let path = file(for: name, in: directory)
            if loadedFiles.contains(path) { continue }
            do {
                let module = try load(path, takenKinds: taken)
                taken.formUnion(module.info.kinds)
                loaded.append(module)
            } catch {
                refused.append(error)
            }
        }
        return (loaded, refused)
    }

    private static func duplicate(in kinds: [String]) -> String? {
        var seen = Set<String>()
        return kinds.first { !seen.insert($0).inserted }
    }

    private static func sha256(ofFileAt path: String) throws(Refusal) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Refusal(file: path, reason: "cannot be read")
        }
        return Digest.sha256([UInt8](data)).hex
    }
}

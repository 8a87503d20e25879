#if canImport(Glibc)
import Glibc
#endif

/// The contract between `stewardd` and a connector module loaded with `dlopen`.
///
/// A module exports exactly one C symbol, ``ModuleABI/entryPointSymbol``, with the signature of
/// ``ModuleEntryPoint``. The daemon passes its own ABI version and build fingerprint; the module
/// writes its own into the two out-parameters and, only when they match, returns a retained
/// object that conforms to ``ConnectorModule``. The daemon checks both values itself before it
/// touches the object, and never unloads a module once loaded.
public enum ModuleABI {
    /// The name of the one entry point every module exports with `@_cdecl`.
    public static let entryPointSymbol = "steward_connector_module"

    /// Bumped whenever a type in ConnectorKit changes shape. Inlined into every client at build
    /// time, so a module reports the version it was compiled against, not the one it runs with.
    @_alwaysEmitIntoClient
    public static var version: UInt32 { 5 }

    /// What a module and the daemon must agree on beyond the version: the interface revision and
    /// the Swift compiler that laid out the shared types. Inlined at build time like ``version``.
    @_alwaysEmitIntoClient
    public static var buildFingerprint: String {
        #if compiler(>=6.4)
        let compiler = "swift-6.4+"
        #elseif compiler(>=6.3)
        let compiler = "swift-6.3"
        #elseif compiler(>=6.2)
        let compiler = "swift-6.2"
        #else
        let compiler = "swift-older"
        #endif
        return "ConnectorKit/abi-\(version)/\(compiler)"
    }
}

/// The C signature of ``ModuleABI/entryPointSymbol``:
/// `(hostVersion, hostFingerprint, moduleVersionOut, moduleFingerprintOut) -> retained object or nil`.
/// The fingerprint written out is a NUL-terminated string owned by the module for the life of the
/// process.
public typealias ModuleEntryPoint = @convention(c) (
    UInt32,
    UnsafePointer<CChar>?,
    UnsafeMutablePointer<UInt32>?,
    UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> UnsafeMutableRawPointer?

/// Helpers a module calls from its entry point, so each module's entry point is three lines.
public enum ModuleExport {
    /// Reports the module's ABI version and fingerprint, and hands over the module retained when
    /// the host's match. Inlined into the module, so the values are the ones it was built with.
    @_alwaysEmitIntoClient
    public static func export(
        _ make: () -> any ConnectorModule,
        hostVersion: UInt32,
        hostFingerprint: UnsafePointer<CChar>?,
        versionOut: UnsafeMutablePointer<UInt32>?,
        fingerprintOut: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    ) -> UnsafeMutableRawPointer? {
        versionOut?.pointee = ModuleABI.version
        // The daemon calls the entry point once per module and never unloads it, so this copy
        // lives as long as the process, as the ABI promises.
        fingerprintOut?.pointee = UnsafePointer(strdup(ModuleABI.buildFingerprint))
        guard hostVersion == ModuleABI.version,
              let hostFingerprint,
              String(cString: hostFingerprint) == ModuleABI.buildFingerprint
        else { return nil }
        return Unmanaged.passRetained(make() as AnyObject).toOpaque()
    }
}

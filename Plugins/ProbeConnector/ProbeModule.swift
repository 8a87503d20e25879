import ConnectorKit

/// The smallest connector module: it provides the `probe` kind, which shares nothing. It exists
/// so that the module loader, the ABI check and the cast across the `dlopen` boundary are proven
/// by tests against a real dynamic library, and so operators can check an installation.
final class ProbeModule: ConnectorModule {
    let name = "probe"
    let kinds = [ConnectorKind(name: "probe", summary: "Loads and answers; shares no data. Proves the module path works.")]

    /// The probe takes one optional setting, `Endpoint=`, checked as every connector checks its
    /// endpoints: https only.
    func check(_ settings: [ConnectorSetting], kind: String) -> [ConnectorSettingProblem] {
        ConnectorSettingProblem.basicProblems(in: settings, known: ["Endpoint"], required: [], endpoints: ["Endpoint"], kind: kind)
    }
}

@_cdecl("steward_connector_module")
public func stewardConnectorModule(
    hostVersion: UInt32,
    hostFingerprint: UnsafePointer<CChar>?,
    versionOut: UnsafeMutablePointer<UInt32>?,
    fingerprintOut: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> UnsafeMutableRawPointer? {
    ModuleExport.export(
        { ProbeModule() },
        hostVersion: hostVersion, hostFingerprint: hostFingerprint,
        versionOut: versionOut, fingerprintOut: fingerprintOut
    )
}

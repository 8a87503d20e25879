import ConnectorKit

/// Clever's Data API v3.0 and Events API, read-only, served from a partner's view at `/v3.0`,
/// for partners that pull as they would from Clever.
///
/// Every answer is built from the partner's view alone: persons in its scope, fields of its
/// grant, its own ids. A property whose fields the grant withholds is left out; an id outside
/// the view is 404, as one that never existed. Each answer tells the daemon which records it
/// sent with which fields, for the record of disclosures.
final class CleverModule: PullConnector {
    let name = "clever"
    let kinds = [ConnectorKind(name: "clever-v3", summary: "Clever Data API v3.0 and Events API, read-only, for partners that pull.")]
    let facts = ViewFacts()

    func check(_ settings: [ConnectorSetting], kind: String) -> [ConnectorSettingProblem] {
        ConnectorSettingProblem.basicProblems(in: settings, known: [], required: [], endpoints: [], kind: kind)
    }

    func routePrefixes(for kind: String) -> [String] { [Route.basePath] }

    func serve(_ request: PartnerRequest, kind: String) -> PartnerResponse {
        do throws(CleverError) {
            guard request.method == "GET" else {
                throw CleverError(status: 405, message: "the Clever API is read-only: use GET", headers: [("Allow", "GET")])
            }
            guard !Route.asksForResources(request.path) else {
                throw .notFound("resources: Steward serves no resources, only the roster")
            }
            guard let route = Route.parse(request.path) else { throw .notFound("endpoint") }
            return try Responder(request: request, route: route, facts: facts).answer()
        } catch {
            return error.response
        }
    }

    func refuse(_ refusal: PartnerRefusal, kind: String) -> PartnerResponse {
        CleverError(refusal: refusal).response
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
        { CleverModule() },
        hostVersion: hostVersion, hostFingerprint: hostFingerprint,
        versionOut: versionOut, fingerprintOut: fingerprintOut
    )
}

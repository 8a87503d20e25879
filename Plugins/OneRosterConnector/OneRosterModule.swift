import ConnectorKit

/// OneRoster REST rostering, read-only, for partners that pull: 1.2 at
/// `/ims/oneroster/rostering/v1p2/…` and 1.1 at `/ims/oneroster/v1p1/…`.
///
/// Every answer is built from the partner's view alone: persons in its scope, fields of its
/// grant, its own ids. A property whose fields the grant withholds is never sent, selected,
/// filtered or sorted on; a required one is sent empty. Each answer tells the daemon which
/// records it sent with which fields, for the record of disclosures.
final class OneRosterModule: PullConnector {
    let name = "oneroster"
    let kinds = [ConnectorKind(name: "oneroster-rest", summary: "OneRoster REST 1.1 and 1.2 rostering, read-only, for partners that pull.")]
    let cache = ViewCache()

    /// The scopes of OneRoster 1.2 a token may carry, as full URIs.
    enum Scope {
        static let prefix = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
        static let roster = prefix + "roster.readonly"
        static let core = prefix + "roster-core.readonly"
        static let demographics = prefix + "roster-demographics.readonly"
    }

    func check(_ settings: [ConnectorSetting], kind: String) -> [ConnectorSettingProblem] {
        ConnectorSettingProblem.basicProblems(in: settings, known: [], required: [], endpoints: [], kind: kind)
    }

    func routePrefixes(for kind: String) -> [String] { ["/ims/oneroster"] }

    func serve(_ request: PartnerRequest, kind: String) -> PartnerResponse {
        do throws(StatusInfo) {
            guard request.method == "GET" else {
                throw StatusInfo(status: 405, codeMinor: .invalidData, description: "OneRoster rostering is read-only: use GET",
                                 headers: [("Allow", "GET")])
            }
            guard let route = Route.parse(request.path) else { throw .notFound("endpoint") }
            try Self.authorize(route.entity, scopes: request.scopes)
            let responder = Responder(request: request, route: route, query: try Query.parse(request.query), cache: cache)
            if let id = route.id { return try responder.single(id) }
            return try responder.collection()
        } catch {
            return error.response
        }
    }

    func refuse(_ refusal: PartnerRefusal, kind: String) -> PartnerResponse {
        StatusInfo(refusal: refusal).response
    }

    /// Demographics need `roster-demographics.readonly`; everything else `roster.readonly` or
    /// `roster-core.readonly` (403 otherwise).
    static func authorize(_ entity: Entity, scopes: Set<String>) throws(StatusInfo) {
        let needed = entity.needsDemographicsScope ? [Scope.demographics] : [Scope.roster, Scope.core]
        guard !scopes.isDisjoint(with: needed) else {
            throw .forbidden("the token's scopes do not include \(needed.map { $0.dropFirst(Scope.prefix.count) }.joined(separator: " or "))")
        }
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
        { OneRosterModule() },
        hostVersion: hostVersion, hostFingerprint: hostFingerprint,
        versionOut: versionOut, fingerprintOut: fingerprintOut
    )
}

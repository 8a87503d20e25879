import ConnectorKit
import Foundation

/// The smallest connector module. It proves that the module loader, the ABI check and the cast
/// across the `dlopen` boundary work against a real dynamic library, and lets an operator check
/// a whole installation end to end: a partner whose file names `Connector=probe` can read its
/// own view, as plain JSON, at `GET /probe/{collection}` with its bearer token (`?limit=` up to
/// 1000, `?cursor=` from the previous page's `next`), and one record at `/probe/{collection}/{id}`.
final class ProbeModule: PullConnector {
    let name = "probe"
    let kinds = [ConnectorKind(name: "probe", summary: "Serves a partner its own view as plain JSON at /probe/…, to check an installation end to end.")]

    /// The probe takes one optional setting, `Endpoint=`, checked as every connector checks its
    /// endpoints: https only.
    func check(_ settings: [ConnectorSetting], kind: String) -> [ConnectorSettingProblem] {
        ConnectorSettingProblem.basicProblems(in: settings, known: ["Endpoint"], required: [], endpoints: ["Endpoint"], kind: kind)
    }

    func routePrefixes(for kind: String) -> [String] { ["/probe"] }

    static let collections: [String: SharedRecordKind] = [
        "students": .student, "teachers": .teacher, "administrators": .administrator, "aides": .aide, "sections": .section,
        "orgs": .org, "academicSessions": .academicSession, "courses": .course, "enrollments": .enrollment,
    ]

    func serve(_ request: PartnerRequest, kind: String) -> PartnerResponse {
        let parts = request.path.split(separator: "/")
        guard (2...3).contains(parts.count), let recordKind = Self.collections[String(parts[1])] else {
            return Self.json(404, ["error": "not found; try /probe/students, /probe/teachers or /probe/sections"])
        }
        if parts.count == 3 {
            do throws(SharedViewError) {
                guard let record = try request.view.record(recordKind, id: String(parts[2])) else {
                    return Self.json(404, ["error": "not found"])
                }
                request.disclosures.sent([record.id], fields: Set(record.fields.keys))
                return Self.json(200, ["record": Self.object(record)])
            } catch {
                return Self.json(503, ["error": error.message])
            }
        }
        let limit = request.queryValue("limit").map { Int($0) ?? -1 } ?? 100
        guard (1...1000).contains(limit) else { return Self.json(400, ["error": "limit is 1 to 1000"]) }
        do throws(SharedViewError) {
            let page = try request.view.page(SharedViewRequest(
                kind: recordKind, cursor: request.queryValue("cursor").map(SharedViewCursor.init(token:)), limit: limit))
            request.disclosures.sent(page.records.map(\.id), fields: Set(page.records.flatMap(\.fields.keys)))
            var body: [String: Any] = ["records": page.records.map(Self.object)]
            if let next = page.next { body["next"] = next.token }
            return Self.json(200, body)
        } catch {
            return Self.json(error.code == .invalidCursor || error.code == .invalidLimit ? 400 : 503, ["error": error.message])
        }
    }

    static func object(_ record: SharedViewRecord) -> [String: Any] {
        ["id": record.id, "kind": record.kind.rawValue, "version": record.version, "fields": record.fields.dictionary.mapValues { value -> Any in
            switch value {
            case .text(let text): return text
            case .list(let list): return list
            }
        }]
    }

    func refuse(_ refusal: PartnerRefusal, kind: String) -> PartnerResponse {
        var response: PartnerResponse
        switch refusal {
        case .unauthenticated:
            response = Self.json(401, ["error": "a valid bearer token is required"])
            response.headers.append(("WWW-Authenticate", "Bearer realm=\"steward\""))
        case .forbidden(let reason): response = Self.json(403, ["error": reason])
        case .rateLimited(let seconds):
            response = Self.json(429, ["error": "too many requests"])
            response.headers.append(("Retry-After", String(seconds)))
        case .unavailable: response = Self.json(503, ["error": "try again later"])
        }
        return response
    }

    static func json(_ status: Int, _ object: [String: Any]) -> PartnerResponse {
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return PartnerResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(body))
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

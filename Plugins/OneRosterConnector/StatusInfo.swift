import ConnectorKit

/// A OneRoster error answer: an `imsx_StatusInfo` object with code major `failure`, severity
/// `error`, a description that names no student data, and one code minor.
struct StatusInfo: Error, Sendable, Equatable {
    /// OneRoster's code minor values, with the HTTP status each is sent with.
    enum CodeMinor: String, Sendable {
        case unknownObject = "unknownobject"
        case invalidFilterField = "invalid_filter_field"
        case invalidSelectionField = "invalid_selection_field"
        case invalidData = "invaliddata"
        case unauthorisedRequest = "unauthorisedrequest"
        case forbidden
        case serverBusy = "server_busy"
        case internalServerError = "internal_server_error"
    }

    var status: Int
    var codeMinor: CodeMinor
    var description: String
    var headers: [(name: String, value: String)] = []

    static func == (left: StatusInfo, right: StatusInfo) -> Bool {
        left.status == right.status && left.codeMinor == right.codeMinor && left.description == right.description
    }

    static func notFound(_ what: String) -> StatusInfo {
        StatusInfo(status: 404, codeMinor: .unknownObject, description: "\(what) not found")
    }

    static func invalidFilter(_ message: String) -> StatusInfo {
        StatusInfo(status: 400, codeMinor: .invalidFilterField, description: message)
    }

    static func invalidSelection(_ message: String) -> StatusInfo {
        StatusInfo(status: 400, codeMinor: .invalidSelectionField, description: message)
    }

    static func invalidData(_ message: String) -> StatusInfo {
        StatusInfo(status: 400, codeMinor: .invalidData, description: message)
    }

    static func forbidden(_ message: String) -> StatusInfo {
        StatusInfo(status: 403, codeMinor: .forbidden, description: message)
    }

    static func unavailable(_ message: String) -> StatusInfo {
        StatusInfo(status: 503, codeMinor: .serverBusy, description: message, headers: [("Retry-After", "5")])
    }

    /// The answer the daemon sends for a request it refused before the connector served it.
    init(refusal: PartnerRefusal) {
        switch refusal {
        case .unauthenticated:
            self.init(status: 401, codeMinor: .unauthorisedRequest, description: "a valid bearer token is required",
                      headers: [("WWW-Authenticate", "Bearer realm=\"steward\"")])
        case .forbidden(let reason):
            self.init(status: 403, codeMinor: .forbidden, description: reason)
        case .rateLimited(let seconds):
            self.init(status: 429, codeMinor: .serverBusy, description: "too many requests; retry after \(seconds) s",
                      headers: [("Retry-After", String(seconds))])
        case .unavailable:
            self.init(status: 503, codeMinor: .serverBusy, description: "the service is unavailable; try again later",
                      headers: [("Retry-After", "5")])
        }
    }

    init(status: Int, codeMinor: CodeMinor, description: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.codeMinor = codeMinor
        self.description = description
        self.headers = headers
    }

    /// The `imsx_StatusInfo` body.
    var body: JSONObject {
        ["imsx_codeMajor": .string("failure"), "imsx_severity": .string("error"), "imsx_description": .string(description),
         "imsx_CodeMinor": .object(["imsx_codeMinorField": .array([.object([
             "imsx_codeMinorFieldName": .string("TargetEndSystem"), "imsx_codeMinorFieldValue": .string(codeMinor.rawValue),
         ])])])]
    }

    var response: PartnerResponse {
        PartnerResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: JSONValue.encode(body))
    }
}

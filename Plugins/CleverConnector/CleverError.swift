import ConnectorKit

/// A Clever error answer: `{"message": …}` with its HTTP status. The message names ids and
/// counts at most, never a value of a student's record.
struct CleverError: Error, Sendable, Equatable {
    var status: Int
    var message: String
    var headers: [(name: String, value: String)] = []

    static func == (left: CleverError, right: CleverError) -> Bool {
        left.status == right.status && left.message == right.message
    }

    static func badRequest(_ message: String) -> CleverError { CleverError(status: 400, message: message) }
    static func forbidden(_ message: String) -> CleverError { CleverError(status: 403, message: message) }
    /// An id outside the view is not found, exactly as one that never existed.
    static func notFound(_ what: String) -> CleverError { CleverError(status: 404, message: "\(what) not found") }
    static func unavailable() -> CleverError {
        CleverError(status: 503, message: "the roster cannot be read now; try again", headers: [("Retry-After", "5")])
    }

    /// The answer the daemon sends for a request it refused before the connector served it.
    init(refusal: PartnerRefusal) {
        switch refusal {
        case .unauthenticated:
            self.init(status: 401, message: "a valid bearer token is required", headers: [("WWW-Authenticate", "Bearer realm=\"steward\"")])
        case .forbidden(let reason):
            self.init(status: 403, message: reason)
        case .rateLimited(let seconds):
            self.init(status: 429, message: "too many requests; retry after \(seconds) s", headers: [("Retry-After", String(seconds))])
        case .unavailable:
            self.init(status: 503, message: "the service is unavailable; try again later", headers: [("Retry-After", "5")])
        }
    }

    init(status: Int, message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    var response: PartnerResponse {
        PartnerResponse(status: status, headers: [("Content-Type", "application/json")] + headers,
                        body: JSONValue.encode(["message": .string(message)]))
    }

    /// Runs a read of the view, turning its failure into the answer a partner gets.
    static func reading<Value>(_ body: () throws(SharedViewError) -> Value) throws(CleverError) -> Value {
        do throws(SharedViewError) {
            return try body()
        } catch {
            switch error.code {
            case .notSharing: throw .forbidden("sharing with this partner is stopped")
            // A cursor or limit the view refuses came from the request: the partner's to fix.
            case .invalidCursor, .invalidLimit: throw .badRequest(error.message)
            case .unavailable: throw .unavailable()
            }
        }
    }
}

import Foundation
import StewardCore
import StewardCrypto
import StewardStore
import StewardTLS
import Synchronization

/// What the token endpoint needs to know of a partner, published by the service queue whenever
/// partners, their states or the configuration change, and read from any queue.
struct PartnerAccess: Sendable, Equatable {
    var state: PartnerState
    /// The scopes the partner's grant allows it to ask for.
    var scopes: Set<OAuthScope>
    /// SPKI SHA-256 pins (base64) of the client certificates the partner must present; empty
    /// when it is not bound to one.
    var clientCertificatePins: Set<String>
    /// The partner's `Connector=` kind: it may pull only through that connector's routes.
    var connector: String = ""
    /// What its view holds, with the Library adoptions in force when it was published.
    var policy: SharingPolicy?
    var requestsPerMinute: Int = 600
    /// The roster version the published policy was made for.
    var rosterVersion: Int64 = 0

    /// Whether a request over a connection with `context` comes from the partner's own client
    /// certificate, when its file binds one.
    func acceptsClient(_ context: HTTPRequestContext) -> Bool {
        clientCertificatePins.isEmpty || clientCertificatePins.contains(context.clientCertificateSPKISHA256 ?? "")
    }
}

/// Every partner's `PartnerAccess`: written by the service queue, read by the token endpoint.
final class PartnerAccessTable: Sendable {
    private let table = Mutex<[String: PartnerAccess]>([:])

    subscript(partner: String) -> PartnerAccess? { table.withLock { $0[partner] } }

    func replace(with entries: [String: PartnerAccess]) { table.withLock { $0 = entries } }
}

/// `POST /oauth/token`: OAuth 2.0 client credentials (RFC 6749 §4.4), the client authenticated
/// by HTTP Basic or by `client_id` and `client_secret` in the form body (§2.3.1), never both.
/// Answers are JSON with `Cache-Control: no-store` (§5.1, §5.2). Checking a secret takes a
/// PBKDF2 of about 0.1 s, so `respond` runs on a queue of its own, never on an event loop.
struct TokenEndpoint: Sendable {
    let store: Store
    /// Seconds a token is valid.
    let lifetime: Int
    let partners: PartnerAccessTable
    /// Failed attempts per client address: past the limit, 429 without checking or auditing,
    /// so guessing costs the guesser, not the daemon or the audit log.
    let failures = FailureLimiter(attempts: 10, per: 60)

    static let path = "/oauth/token"

    /// The 429 for a client address that has used up its failed attempts, or nil. Cheap: the
    /// listener asks it on the event loop, before queuing the request behind slow hashes.
    func refusal(for context: HTTPRequestContext) -> HTTPResponse? {
        let address = context.clientAddress.map(FailureLimiter.host) ?? "?"
        guard let wait = failures.retryAfter(address) else { return nil }
        return Self.json(.tooManyRequests, ["error": "slow_down", "error_description": "too many failed attempts; try again later"],
                         headers: [("Retry-After", String(wait))])
    }

    func respond(to request: HTTPRequest, context: HTTPRequestContext) -> HTTPResponse {
        if let refusal = refusal(for: context) { return refusal }
        let address = context.clientAddress.map(FailureLimiter.host) ?? "?"
        let response = answer(request, context: context)
        if response.status == .unauthorized { failures.record(address) }
        return response
    }

    private func answer(_ request: HTTPRequest, context: HTTPRequestContext) -> HTTPResponse {
        let basic = request.headers.values(for: "Authorization").first
        guard request.headers.values(for: "Content-Type").first?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased() == "application/x-www-form-urlencoded" else {
            return Self.error(.badRequest, "invalid_request", "send the request as application/x-www-form-urlencoded")
        }
        guard let form = FormBody(request.body) else {
            return Self.error(.badRequest, "invalid_request", "the form body cannot be read")
        }
        if let repeated = form.repeatedKeys.first {
            return Self.error(.badRequest, "invalid_request", "\(repeated) is given more than once")
        }
        guard form["grant_type"] == "client_credentials" else {
            return Self.error(.badRequest, form["grant_type"] == nil ? "invalid_request" : "unsupported_grant_type",
                              "grant_type must be client_credentials")
        }
        let credentials: (id: String, secret: String)
        switch (basic, form["client_id"], form["client_secret"]) {
        case (let header?, nil, nil):
            guard let pair = Self.basicCredentials(header) else {
                return Self.unauthorized("the Authorization header is not HTTP Basic with a client id and secret")
            }
            credentials = pair
        case (nil, let id?, let secret?): credentials = (id, secret)
        case (.some, _, _): return Self.error(.badRequest, "invalid_request", "authenticate with HTTP Basic or with the form body, not both")
        default: return Self.unauthorized("client authentication is missing")
        }
        let stored: StoredCredentials?
        do { stored = try store.read { db throws(StewardError) in try CredentialRecords.credentials(clientId: credentials.id, db: db) } }
        catch { return Self.error(.serviceUnavailable, "temporarily_unavailable", "the store cannot be read now") }
        // An unknown client id costs the same hash as a known one, so timing does not tell.
        guard let stored, stored.accepts(secret: credentials.secret) else {
            if stored == nil { _ = StoredCredentials.decoy.accepts(secret: credentials.secret) }
            audit(partner: stored?.partner, context: context, outcome: "refused", detail: "invalid client credentials")
            return Self.unauthorized("the client id or secret is wrong")
        }
        guard let access = partners[stored.partner], access.state == .active else {
            let state = partners[stored.partner]?.state.rawValue ?? "removed"
            audit(partner: stored.partner, context: context, outcome: "refused", detail: "partner is \(state)")
            return Self.error(.badRequest, "unauthorized_client", "partner \(stored.partner) is \(state); it receives nothing")
        }
        if !access.acceptsClient(context) {
            audit(partner: stored.partner, context: context, outcome: "refused", detail: "client certificate missing or not the partner's")
            return Self.unauthorized("this client must present its client certificate")
        }
        var scopes = access.scopes
        if let requested = form["scope"] {
            let words = requested.split(separator: " ").map(String.init)
            guard !words.isEmpty else { return Self.error(.badRequest, "invalid_scope", "scope names at least one scope, or leave it out") }
            let asked = words.compactMap(OAuthScope.init(word:))
            guard asked.count == words.count, Set(asked).isSubset(of: access.scopes) else {
                return Self.error(.badRequest, "invalid_scope", "the scopes this client may ask for: "
                    + access.scopes.map(\.rawValue).sorted().joined(separator: " "))
            }
            scopes = Set(asked)
        }
        do {
            let event = auditEvent(partner: stored.partner, context: context, outcome: "ok",
                                   detail: "token for \(lifetime) s; scopes \(scopes.map(\.shortName).sorted().joined(separator: " "))")
            let issued = try store.write { db throws(StewardError) in
                try CredentialRecords.issueToken(partner: stored.partner, scopes: scopes, lifetime: lifetime, audit: event, db: db)
            }
            return Self.json(.ok, [
                "access_token": issued.token, "token_type": "Bearer", "expires_in": lifetime,
                "scope": scopes.map(\.rawValue).sorted().joined(separator: " "),
            ])
        } catch {
            Log.error("oauth token for \(stored.partner): \(error)")
            return Self.error(.serviceUnavailable, "temporarily_unavailable", "the token cannot be stored now")
        }
    }

    private func auditEvent(partner: String?, context: HTTPRequestContext, outcome: String, detail: String) -> AuditEvent {
        AuditEvent(method: "oauth.token", target: partner ?? "unknown client", outcome: outcome,
                   detail: detail + "; \(context.tlsVersion ?? "?") \(context.cipherSuite ?? "?") from \(context.clientAddress ?? "?")")
    }

    private func audit(partner: String?, context: HTTPRequestContext, outcome: String, detail: String) {
        do { try store.audit(auditEvent(partner: partner, context: context, outcome: outcome, detail: detail)) }
        catch { Log.error("audit: cannot append oauth.token: \(error)") }
    }

    /// `Basic base64(urlencoded id ":" urlencoded secret)`.
    static func basicCredentials(_ header: String) -> (id: String, secret: String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic", let data = Data(base64Encoded: String(parts[1])),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":"),
              let id = FormBody.decode(text[..<colon]), let secret = FormBody.decode(text[text.index(after: colon)...]) else { return nil }
        return (id, secret)
    }

    static func json(_ status: HTTPStatus, _ object: [String: Any], headers extra: [(String, String)] = []) -> HTTPResponse {
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var response = HTTPResponse(status: status, body: Array(body))
        response.headers.set("Content-Type", "application/json")
        response.headers.set("Cache-Control", "no-store")
        response.headers.set("Pragma", "no-cache")
        for (name, value) in extra { response.headers.add(name, value) }
        return response
    }

    static func error(_ status: HTTPStatus, _ code: String, _ description: String) -> HTTPResponse {
        json(status, ["error": code, "error_description": description])
    }

    static func unauthorized(_ description: String) -> HTTPResponse {
        json(.unauthorized, ["error": "invalid_client", "error_description": description],
             headers: [("WWW-Authenticate", "Basic realm=\"steward\"")])
    }
}

/// An `application/x-www-form-urlencoded` body.
struct FormBody {
    private var values: [String: String] = [:]
    private(set) var repeatedKeys: [String] = []

    init?(_ body: [UInt8]) {
        guard let text = String(bytes: body, encoding: .utf8) else { return nil }
        for pair in text.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else { return nil }
            if values[key] != nil { repeatedKeys.append(key) }
            values[key] = value
        }
    }

    subscript(key: String) -> String? { values[key] }

    /// Percent-decoding with `+` as a space; nil for a malformed escape.
    static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// Counts failures per key in a sliding window: `attempts` within `per` seconds, then wait.
final class FailureLimiter: Sendable {
    private let attempts: Int
    private let window: TimeInterval
    private let failures = Mutex<[String: [Date]]>([:])
    private let sweptAt = Mutex(0)

    init(attempts: Int, per seconds: TimeInterval) {
        self.attempts = attempts
        window = seconds
    }

    /// `203.0.113.7` from `203.0.113.7:51234`; for IPv6 the /64 a host is given, `2001:db8:0:1`
    /// from `[2001:db8:0:1::7]:51234`, since one host may use any address of it.
    static func host(_ address: String) -> String {
        guard address.hasPrefix("["), let end = address.firstIndex(of: "]") else {
            return address.split(separator: ":").first.map(String.init) ?? address
        }
        let ip = address[address.index(after: address.startIndex)..<end]
        var groups = ip.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if let gap = groups.firstIndex(of: ""), groups.count < 8 {
            groups.replaceSubrange(gap...gap, with: Array(repeating: "0", count: 8 - groups.count + 1))
        }
        return groups.prefix(4).joined(separator: ":")
    }

    /// Seconds to wait when `key` has used up its attempts; nil when it may try.
    func retryAfter(_ key: String, now: Date = Date()) -> Int? {
        failures.withLock { table in
            let recent = (table[key] ?? []).filter { now.timeIntervalSince($0) < window }
            table[key] = recent.isEmpty ? nil : recent
            guard recent.count >= attempts, let oldest = recent.first else { return nil }
            return max(1, Int((window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
    }

    func record(_ key: String, now: Date = Date()) {
        failures.withLock { table in
            // Forget stale keys when the table has doubled since the last time, so a flood of
            // addresses costs a sweep now and then, not one per failure.
            if table.count > max(10_000, 2 * sweptAt.withLock { $0 }) {
                table = table.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
                sweptAt.withLock { $0 = table.count }
            }
            table[key, default: []].append(now)
        }
    }
}

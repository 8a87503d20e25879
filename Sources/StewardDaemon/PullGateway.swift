import ConnectorKit
import Foundation
import StewardCore
import StewardCrypto
import StewardStore
import StewardTLS
import Synchronization

/// Every partner request to a pull connector's routes passes here: the bearer token is
/// resolved, the partner checked (active, using this connector, presenting its client
/// certificate when bound to one) and rate-limited; the connector is handed that partner's
/// view; what it sent is recorded per person before the answer leaves; and the request is
/// audited as a summary (partner, path, status, records, bytes, TLS), never with its query.
struct PullGateway: Sendable {
    let store: Store
    let secret: DistrictSecret
    let partners: PartnerAccessTable
    let rates = RateLimiter()
    let rateAudits = OncePerMinute()
    /// Views' members in id order and change orders, kept between requests.
    let indexes = ViewIndexes()
    /// Pages read ahead for partners paging in order, on idle cores.
    let readAhead = ReadAhead()

    /// Answers `request` for `connector`'s `kind`, counted as running for the read-ahead. Slow
    /// (reads the store): call it off the loops.
    func respond(to request: HTTPRequest, context: HTTPRequestContext, connector: any PullConnector, kind: String) -> HTTPResponse {
        readAhead.answering { answer(request, context: context, connector: connector, kind: kind) }
    }

    private func answer(_ request: HTTPRequest, context: HTTPRequestContext, connector: any PullConnector, kind: String) -> HTTPResponse {
        let method = request.method.rawValue
        // Segments are decoded one by one: an encoded `/` or a dot segment is refused, so no
        // spelling of a path reaches a connector other than the one its plain spelling does.
        guard let path = Self.decodedPath(request.path) else {
            return HTTPResponse.text(.badRequest, "The path has an encoded / or a . or .. segment; send it plainly.\n")
        }
        func refuse(_ refusal: PartnerRefusal, partner: String?, detail: String) -> HTTPResponse {
            // Requests without a valid token are not audited (anyone can send them); a partner's
            // refusals are audited once a minute per kind of refusal, so a partner that keeps
            // asking cannot flood the audit log.
            if let partner, rateAudits.shouldRecord("\(partner)|\(refusal.status)") {
                audit(partner: partner, method: method, path: path, status: refusal.status, detail: detail, context: context)
            }
            return Self.http(connector.refuse(refusal, kind: kind))
        }
        guard let token = Self.bearerToken(request) else { return refuse(.unauthenticated, partner: nil, detail: "no bearer token") }
        let found: AccessGrant?
        do { found = try store.read { db throws(StewardError) in try CredentialRecords.grant(of: token, db: db) } }
        catch { return refuse(.unavailable, partner: nil, detail: "the store cannot be read") }
        guard let grant = found else { return refuse(.unauthenticated, partner: nil, detail: "no valid bearer token") }
        // The rate comes first: whatever else is wrong, a partner's requests are bounded.
        let perMinute = partners[grant.partner]?.requestsPerMinute ?? 600
        if let wait = rates.retryAfter(grant.partner, perMinute: perMinute) {
            return refuse(.rateLimited(retryAfterSeconds: wait), partner: grant.partner, detail: "rate limit \(perMinute)/min")
        }
        guard let access = partners[grant.partner], access.state == .active, var policy = access.policy else {
            let state = partners[grant.partner]?.state.rawValue ?? "removed"
            return refuse(.forbidden(reason: "partner \(grant.partner) is \(state)"), partner: grant.partner, detail: "partner is \(state)")
        }
        guard access.connector == kind else {
            return refuse(.forbidden(reason: "partner \(grant.partner) uses the \(access.connector) connector"), partner: grant.partner,
                          detail: "uses \(access.connector), not \(kind)")
        }
        guard access.acceptsClient(context) else {
            return refuse(.forbidden(reason: "this partner must present its client certificate"), partner: grant.partner,
                          detail: "client certificate missing or not the partner's")
        }
        // A token's scopes bound what it reads, whatever the connector does: without the
        // demographics scope (or once the grant no longer offers it) no demographic field.
        let scopes = grant.scopes.intersection(access.scopes)
        policy.fields.formIntersection(OAuthScope.fields(for: scopes))
        let view = ConnectorSharedView(
            view: StewardCore.SharedView(policy: policy, pseudonym: PseudonymMemo(secret: secret, partner: grant.partner).pseudonym,
                                         personPseudonym: { [secret, partner = grant.partner] in secret.pseudonym(partner: partner, sourcedId: $0) }),
            store: store, secret: secret, rosterVersion: access.rosterVersion, indexes: indexes, readAhead: readAhead)
        let recorder = SentRecords()
        let answer = connector.serve(PartnerRequest(
            method: method, path: path, query: Self.queryPairs(request.query),
            headers: request.headers.map { ($0.name, $0.value) }, partner: grant.partner,
            scopes: Set(scopes.map(\.rawValue)), view: view, disclosures: recorder), kind: kind)
        // A HEAD answer carries no body: nothing was disclosed.
        let sent = request.method == .head ? [] : recorder.entries
        do {
            // Recorded under the newest roster version the answer's reads saw: a person sent
            // after an import is never taken for one the partner held before it.
            let sentAt = Date()
            let version = view.versionRead.withLock { $0 }
            let (persons, enrollments, records) = view.sentPersons(sent)
            try store.write { db throws(StewardError) in
                var groups = persons
                for person in try DisclosureRecords.persons(ofEnrollments: enrollments, db: db) {
                    groups.add(person.sourcedId, kind: person.kind, fields: ["sections"])
                }
                for group in groups.groups {
                    try DisclosureRecords.record(partner: grant.partner, persons: group.persons, fields: group.fields,
                                                 at: sentAt, rosterVersion: version, db: db)
                }
                _ = try AuditLog.append(auditEvent(partner: grant.partner, method: method, path: path, status: answer.status,
                    detail: "\(records) record(s), \(answer.body.count) bytes", context: context), in: db)
            }
        } catch {
            // Nothing leaves unrecorded.
            Log.error("pull \(grant.partner) \(path): the disclosures cannot be recorded: \(error)")
            return Self.http(connector.refuse(.unavailable, kind: kind))
        }
        return Self.http(answer)
    }

    private func auditEvent(partner: String?, method: String, path: String, status: Int, detail: String,
                            context: HTTPRequestContext) -> AuditEvent {
        AuditEvent(method: "partner.pull", target: partner ?? "unknown client", outcome: status < 400 ? "ok" : "refused",
                   detail: "\(method) \(path.prefix(200)) → \(status); \(detail); \(context.tlsVersion ?? "?") \(context.cipherSuite ?? "?")")
    }

    private func audit(partner: String?, method: String, path: String, status: Int, detail: String, context: HTTPRequestContext) {
        do { try store.audit(auditEvent(partner: partner, method: method, path: path, status: status, detail: detail, context: context)) }
        catch { Log.error("audit: cannot append partner.pull: \(error)") }
    }

    /// `path` with each segment percent-decoded; nil when a segment decodes to something with a
    /// `/`, to `.` or `..`, or does not decode.
    static func decodedPath(_ path: String) -> String? {
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard let segment = raw.removingPercentEncoding, !segment.contains("/"), segment != ".", segment != ".." else { return nil }
            segments.append(segment)
        }
        return segments.joined(separator: "/")
    }

    static func bearerToken(_ request: HTTPRequest) -> String? {
        guard let header = request.headers.values(for: "Authorization").first else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    static func queryPairs(_ query: String?) -> [(name: String, value: String)] {
        (query ?? "").split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = FormBody.decode(parts[0]) else { return nil }
            return (name, parts.count > 1 ? FormBody.decode(parts[1]) ?? "" : "")
        }
    }

    static func http(_ answer: PartnerResponse) -> HTTPResponse {
        var response = HTTPResponse(status: HTTPStatus(integerLiteral: answer.status), body: answer.body)
        for (name, value) in answer.headers { response.headers.add(name, value) }
        if !response.headers.contains("Cache-Control") { response.headers.set("Cache-Control", "no-store") }
        return response
    }
}

/// A partner's pseudonyms for one request, each computed once: a page of students names the
/// same sections again and again.
final class PseudonymMemo: Sendable {
    private let secret: DistrictSecret
    private let partner: String
    private let known = Mutex<[String: String]>([:])

    init(secret: DistrictSecret, partner: String) {
        self.secret = secret
        self.partner = partner
    }

    @Sendable func pseudonym(_ sourcedId: String) -> String {
        if let id = known.withLock({ $0[sourcedId] }) { return id }
        let id = secret.pseudonym(partner: partner, sourcedId: sourcedId)
        known.withLock { $0[sourcedId] = id }
        return id
    }
}

/// What a connector reports it sent in one response.
final class SentRecords: DisclosureRecorder {
    private let sent = Mutex<[(ids: [String], fields: Set<String>)]>([])

    func sent(_ ids: [String], fields: Set<String>) {
        sent.withLock { $0.append((ids, fields)) }
    }

    var entries: [(ids: [String], fields: Set<String>)] { sent.withLock { $0 } }
}

/// A token bucket per partner: `perMinute` requests a minute, in bursts of up to that many.
final class RateLimiter: Sendable {
    private let buckets = Mutex<[String: (tokens: Double, at: Date)]>([:])

    /// Takes one token for `key`; the seconds to wait when there is none.
    func retryAfter(_ key: String, perMinute: Int, now: Date = Date()) -> Int? {
        buckets.withLock { buckets in
            let rate = Double(perMinute) / 60
            var bucket = buckets[key] ?? (Double(perMinute), now)
            bucket.tokens = min(Double(perMinute), bucket.tokens + now.timeIntervalSince(bucket.at) * rate)
            bucket.at = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}

/// Says yes to a key at most once a minute.
final class OncePerMinute: Sendable {
    private let last = Mutex<[String: Date]>([:])

    func shouldRecord(_ key: String, now: Date = Date()) -> Bool {
        last.withLock { last in
            if let previous = last[key], now.timeIntervalSince(previous) < 60 { return false }
            last[key] = now
            return true
        }
    }
}

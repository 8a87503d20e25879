import Foundation
import StewardCore
import StewardCrypto

/// A partner's OAuth client credentials, as stored: the secret never, only its salted hash.
public struct StoredCredentials: Sendable, Equatable {
    public var partner: String
    public var clientId: String
    public var salt: [UInt8]
    public var hash: [UInt8]
    public var iterations: Int
    public var createdAt: String

    /// Credentials no secret matches, checked for an unknown client id so that it costs the
    /// same time as a known one.
    public static let decoy = StoredCredentials(partner: "", clientId: "", salt: Array(repeating: 0, count: 16),
                                                hash: Array(repeating: 0, count: 32), iterations: SecretHash.defaultIterations,
                                                createdAt: "")

    /// Whether `secret` is this client's secret (PBKDF2, compared in constant time).
    public func accepts(secret: String) -> Bool {
        Digest.isEqual(SecretHash.pbkdf2SHA256(secret: Array(secret.utf8), salt: salt, iterations: iterations), hash)
    }
}

/// An access token as its holder presents it, resolved.
public struct AccessGrant: Sendable, Equatable {
    public var partner: String
    public var scopes: Set<OAuthScope>
    /// UTC, as the audit log writes times.
    public var expiresAt: String
}

/// Partners' client credentials and the access tokens issued to them.
public enum CredentialRecords {
    /// Makes new credentials for `partner`, replacing any: the old secret fails at once and
    /// every token issued under it is revoked. Returns the client id and the secret, which is
    /// shown once and kept nowhere.
    public static func rotate(_ partner: String, audit event: AuditEvent, db: Database) throws(StewardError) -> (clientId: String, secret: String) {
        let clientId = "stw-" + Digest.randomBytes(12).hex
        let secret = RandomToken.make(bytes: 32)
        let salt = Digest.randomBytes(16)
        let hash = SecretHash.pbkdf2SHA256(secret: Array(secret.utf8), salt: salt, iterations: SecretHash.defaultIterations)
        try db.prepare("""
            INSERT INTO partner_credentials (partner, client_id, salt, hash, iterations, created_at, created_by)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (partner) DO UPDATE SET client_id = excluded.client_id, salt = excluded.salt, hash = excluded.hash,
                iterations = excluded.iterations, created_at = excluded.created_at, created_by = excluded.created_by
            """).run([.text(partner), .text(clientId), .blob(salt), .blob(hash), .int(Int64(SecretHash.defaultIterations)),
                      .text(Timestamp.string(Date())), .optional(event.uid)])
        try db.prepare("DELETE FROM access_tokens WHERE partner = ?").run([.text(partner)])
        _ = try AuditLog.append(event, in: db)
        return (clientId, secret)
    }

    /// Deletes `partner`'s credentials and every token issued to it.
    public static func revoke(_ partner: String, db: Database) throws(StewardError) {
        try db.prepare("DELETE FROM access_tokens WHERE partner = ?").run([.text(partner)])
        try db.prepare("DELETE FROM partner_credentials WHERE partner = ?").run([.text(partner)])
    }

    /// The credentials with `clientId`, or of `partner`.
    public static func credentials(clientId: String? = nil, partner: String? = nil, db: Database) throws(StewardError) -> StoredCredentials? {
        let query = try db.prepare("""
            SELECT partner, client_id, salt, hash, iterations, created_at FROM partner_credentials
            WHERE client_id = ?1 OR partner = ?2
            """)
        try query.bind([.optional(clientId), .optional(partner)])
        guard try query.step() else { return nil }
        return StoredCredentials(partner: query.text(0) ?? "", clientId: query.text(1) ?? "", salt: query.blob(2), hash: query.blob(3),
                                 iterations: Int(query.int(4)), createdAt: query.text(5) ?? "")
    }

    /// Issues a token for `partner` with `scopes`, valid for `lifetime` seconds; returns it.
    /// Only its SHA-256 is stored. Expired tokens are purged on the way.
    public static func issueToken(partner: String, scopes: Set<OAuthScope>, lifetime: Int, audit event: AuditEvent,
                                  db: Database) throws(StewardError) -> (token: String, expiresAt: Date) {
        let token = RandomToken.make(bytes: 32)
        let now = Date()
        let expiresAt = now.addingTimeInterval(TimeInterval(lifetime))
        try db.prepare("DELETE FROM access_tokens WHERE expires_at < ?").run([.text(Timestamp.string(now))])
        try db.prepare("INSERT INTO access_tokens (token_hash, partner, scopes, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)")
            .run([.blob(Digest.sha256(Array(token.utf8))), .text(partner),
                  .text(scopes.map(\.rawValue).sorted().joined(separator: " ")), .text(Timestamp.string(now)),
                  .text(Timestamp.string(expiresAt))])
        _ = try AuditLog.append(event, in: db)
        return (token, expiresAt)
    }

    /// What `token` grants, or nil when it is unknown, revoked or expired.
    public static func grant(of token: String, now: Date = Date(), db: Database) throws(StewardError) -> AccessGrant? {
        let query = try db.prepare("SELECT partner, scopes, expires_at FROM access_tokens WHERE token_hash = ? AND expires_at > ?")
        try query.bind([.blob(Digest.sha256(Array(token.utf8))), .text(Timestamp.string(now))])
        guard try query.step() else { return nil }
        let scopes = Set((query.text(1) ?? "").split(separator: " ").compactMap { OAuthScope(rawValue: String($0)) })
        return AccessGrant(partner: query.text(0) ?? "", scopes: scopes, expiresAt: query.text(2) ?? "")
    }
}

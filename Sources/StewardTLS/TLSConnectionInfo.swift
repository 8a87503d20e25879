import Foundation

/// What a finished handshake agreed on, for the audit log and for handlers that authorize a
/// mutual-TLS client by its key or subject.
public struct TLSConnectionInfo: Sendable, Hashable {
    /// "TLSv1.3" or "TLSv1.2".
    public var protocolVersion: String
    /// OpenSSL's name of the suite, such as "TLS_AES_256_GCM_SHA384" or "ECDHE-ECDSA-AES128-GCM-SHA256".
    public var cipher: String
    /// Whether the session was resumed rather than fully negotiated.
    public var isResumed: Bool
    /// The peer's leaf certificate: the server's on a client, the client's on a mutual-TLS server
    /// (nil on a server that asks for none).
    public var peerCertificate: TLSPeerCertificate?
}

/// The facts about a peer's leaf certificate that identify it without keeping it.
public struct TLSPeerCertificate: Sendable, Hashable {
    /// The subject in RFC 2253 form ("CN=sync.partner.example,O=Partner").
    public var subject: String
    /// SHA-256 of the whole certificate, lowercase hexadecimal.
    public var fingerprintSHA256: String
    /// SHA-256 of the SubjectPublicKeyInfo: stable across renewals that keep the key, and the
    /// value an SPKI pin names.
    public var publicKey: TLSPin
    /// When the certificate expires.
    public var notAfter: Date?

    init(_ certificate: X509Certificate) {
        subject = certificate.subject
        fingerprintSHA256 = hexEncoded(certificate.fingerprintSHA256)
        // A certificate OpenSSL accepted has a public key, whose SHA-256 is 32 bytes.
        publicKey = try! TLSPin(sha256: certificate.publicKeySHA256)
        notAfter = certificate.notAfter
    }
}

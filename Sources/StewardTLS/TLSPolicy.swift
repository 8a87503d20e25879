import COpenSSL

/// The one TLS policy every connection in Steward is held to. It follows Mozilla's
/// "intermediate" server-side profile as it applies to OpenSSL 3.0; the `modern` profile narrows
/// it to TLS 1.3. No setting goes below it, and none turns certificate verification off.
///
/// These values are its single source, so nothing else in the tree spells a cipher list;
/// `TLSServerContext` and `TLSClientContext` apply them.
public enum TLSPolicy: String, Sendable, CaseIterable {
    /// TLS 1.2 and 1.3 with forward-secret AEAD suites only.
    case intermediate
    /// TLS 1.3 only.
    case modern

    /// The TLS 1.2 suites: ECDHE with AES-GCM or ChaCha20-Poly1305, nothing else.
    public static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The three standard TLS 1.3 suites.
    public static let tls13Ciphersuites = [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    ].joined(separator: ":")

    /// Key-exchange groups, in order of preference.
    public static let groups = "X25519:P-256:P-384"
}

/// Which end of a connection a context or connection is.
enum TLSRole: Sendable {
    case server
    case client
}

extension TLSPolicy {
    /// OpenSSL's security level 2: at least 112-bit security, so RSA and DH keys of 2048 bits or
    /// more, ECC of 224 bits or more, no SHA-1 signatures.
    static let securityLevel: Int32 = 2

    /// A new SSL_CTX for `role` with this policy applied and nothing else: no certificates, no
    /// trust. Settings from the system's openssl.cnf that would go below the policy are undone.
    func makeContext(for role: TLSRole) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let context = SSL_CTX_new(role == .server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError(.setupFailed, "OpenSSL could not create a TLS context", detail: OpenSSLErrorQueue.drainWords())
        }
        let minimum = self == .modern ? TLS1_3_VERSION : TLS1_2_VERSION
        // Options an openssl.cnf could set that would allow renegotiation or hide a truncated stream.
        let forbidden = steward_SSL_OP_ALLOW_CLIENT_RENEGOTIATION() | steward_SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION()
            | steward_SSL_OP_LEGACY_SERVER_CONNECT() | steward_SSL_OP_IGNORE_UNEXPECTED_EOF()
        SSL_CTX_clear_options(context, forbidden)
        SSL_CTX_set_options(context, steward_SSL_OP_NO_COMPRESSION() | steward_SSL_OP_NO_RENEGOTIATION())
        SSL_CTX_set_security_level(context, Self.securityLevel)
        // Non-blocking writes: report partial progress, allow the caller's buffer to move between
        // retries, and free idle connections' buffers.
        _ = steward_SSL_CTX_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                                                    | SSL_MODE_RELEASE_BUFFERS))
        guard steward_SSL_CTX_set_min_proto_version(context, minimum) == 1,
              steward_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) == 1,
              SSL_CTX_set_cipher_list(context, Self.tls12Ciphers) == 1,
              SSL_CTX_set_ciphersuites(context, Self.tls13Ciphersuites) == 1,
              steward_SSL_CTX_set1_groups_list(context, Self.groups) == 1
        else {
            let detail = OpenSSLErrorQueue.drainWords()
            SSL_CTX_free(context)
            throw TLSError(.setupFailed, "OpenSSL refused a setting of the TLS policy (\(rawValue)); is this OpenSSL 3?",
                           detail: detail)
        }
        return context
    }
}

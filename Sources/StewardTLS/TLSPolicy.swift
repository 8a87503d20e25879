/// The one TLS policy every connection in Steward is held to. It follows Mozilla's
/// "intermediate" server-side profile as it applies to OpenSSL 3.0; the `modern` profile narrows
/// it to TLS 1.3. No setting goes below it, and none turns certificate verification off.
///
/// The contexts and connections that enforce it arrive with the transport work; these values are
/// its single source, so nothing else in the tree spells a cipher list.
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

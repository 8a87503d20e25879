import COpenSSL

/// Why a TLS context could not be built or a TLS connection failed: a code to act on, a message
/// that tells the operator what to do, the file it concerns, and OpenSSL's own words.
///
/// Messages name files, host names and certificate subjects, never anything a peer sent as data.
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public var description: String { name }
        private init(_ name: String) { self.name = name }

        // Building a context from files.
        /// A certificate, key or CA file cannot be read.
        public static let unreadableFile = Code("unreadable-file")
        /// The file holds no PEM block of the kind expected, or one that does not decode.
        public static let notPEM = Code("not-pem")
        /// The private key is protected by a passphrase; Steward reads unencrypted keys only.
        public static let encryptedPrivateKey = Code("encrypted-private-key")
        /// The private key is not the one the certificate was issued for.
        public static let keyMismatch = Code("key-mismatch")
        /// The certificate's validity has ended.
        public static let certificateExpired = Code("certificate-expired")
        /// The certificate's validity has not begun yet (or the clock is wrong).
        public static let certificateNotYetValid = Code("certificate-not-yet-valid")
        /// A CA file holds no usable certificate.
        public static let invalidCertificateAuthority = Code("invalid-certificate-authority")
        /// An SPKI pin is neither 32 bytes of base64 nor 64 hexadecimal digits.
        public static let invalidPin = Code("invalid-pin")
        /// The host name to verify is empty or cannot be used.
        public static let invalidHostName = Code("invalid-host-name")
        /// OpenSSL refused a setting of the policy or could not allocate; not the operator's doing.
        public static let setupFailed = Code("setup-failed")

        // Handshakes and connections.
        /// The peers share no protocol version, cipher suite or group allowed by the policy.
        public static let protocolMismatch = Code("protocol-mismatch")
        /// The peer's certificate chain does not verify (unknown CA, expired, wrong purpose, …).
        public static let untrustedCertificate = Code("untrusted-certificate")
        /// The server's certificate is valid but names neither the host name nor the IP address dialled.
        public static let hostMismatch = Code("host-mismatch")
        /// The server's key matches none of the configured SPKI pins.
        public static let pinMismatch = Code("pin-mismatch")
        /// Mutual TLS is required and the client sent no certificate.
        public static let missingClientCertificate = Code("missing-client-certificate")
        /// The peer refused this side's certificate (or its absence) with an alert.
        public static let certificateRejectedByPeer = Code("certificate-rejected-by-peer")
        /// The handshake failed for another reason, named in the detail.
        public static let handshakeFailed = Code("handshake-failed")
        /// After the handshake, the peer broke the protocol or sent a fatal alert.
        public static let protocolError = Code("protocol-error")
        /// The socket failed (reset by the peer, for example).
        public static let socketError = Code("socket-error")
    }

    public var code: Code
    /// What happened and what to do about it.
    public var message: String
    /// The certificate, key or CA file concerned, when there is one.
    public var file: String?
    /// OpenSSL's words for the failure, from its error queue or its verifier.
    public var detail: String?

    public init(_ code: Code, _ message: String, file: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.detail = detail
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let file { text += " (file \(file))" }
        if let detail, !detail.isEmpty { text += " [OpenSSL: \(detail)]" }
        return text
    }
}

/// OpenSSL's thread-local error queue. Read it on the thread that made the failing call, right
/// after the call; clear it before each call so that an old entry is never blamed.
enum OpenSSLErrorQueue {
    /// Empties the queue and returns its packed error codes, oldest first.
    static func take() -> [UInt] {
        var codes: [UInt] = []
        var code = ERR_get_error()
        while code != 0 {
            codes.append(code)
            code = ERR_get_error()
        }
        return codes
    }

    /// The reasons of `codes` in words ("certificate verify failed; …"); nil when there are none.
    static func words(_ codes: [UInt]) -> String? {
        guard !codes.isEmpty else { return nil }
        return codes.map { code -> String in
            if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }.joined(separator: "; ")
    }

    /// Empties the queue and returns its reasons in words.
    static func drainWords() -> String? {
        words(take())
    }

    /// Whether `code` is OpenSSL library `library`'s reason `reason`.
    static func matches(_ code: UInt, library: Int32, reason: Int32) -> Bool {
        ERR_GET_LIB(code) == library && ERR_GET_REASON(code) == reason
    }
}

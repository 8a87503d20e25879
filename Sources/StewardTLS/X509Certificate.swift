#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import Foundation

/// An OpenSSL X509 owned by Swift: freed when the last reference goes.
final class X509Certificate {
    let pointer: OpaquePointer

    /// Takes over a certificate OpenSSL handed out with a reference for the caller.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    /// Takes a reference of its own to a certificate someone else owns.
    init(borrowing pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.pointer = pointer
    }

    deinit {
        X509_free(pointer)
    }

    /// The end of the validity period.
    var notAfter: Date? {
        Self.date(X509_get0_notAfter(pointer))
    }

    /// Whether the validity period has ended.
    var hasExpired: Bool {
        X509_cmp_current_time(X509_get0_notAfter(pointer)) < 0
    }

    /// Whether the validity period has not begun.
    var isNotYetValid: Bool {
        X509_cmp_current_time(X509_get0_notBefore(pointer)) > 0
    }

    /// The SHA-256 of the whole certificate (DER), as `openssl x509 -fingerprint -sha256` shows it.
    var fingerprintSHA256: [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        var length: UInt32 = 0
        guard X509_digest(pointer, EVP_sha256(), &digest, &length) == 1 else {
            preconditionFailure("X509_digest failed: \(OpenSSLErrorQueue.drainWords() ?? "out of memory")")
        }
        return digest
    }

    /// The SHA-256 of the DER SubjectPublicKeyInfo: what an SPKI pin names. It survives renewals
    /// that keep the key.
    var publicKeySHA256: [UInt8] {
        guard let key = X509_get0_pubkey(pointer) else { return [] }
        let length = i2d_PUBKEY(key, nil)
        guard length > 0 else { return [] }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_PUBKEY(key, &cursor)
        }
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = SHA256(der, der.count, &digest)
        return digest
    }

    /// The subject's distinguished name in RFC 2253 form ("CN=partner.example,O=Partner").
    var subject: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, X509_get_subject_name(pointer), 0, steward_XN_FLAG_RFC2253()) >= 0 else { return "" }
        var text = [UInt8](repeating: 0, count: Int(BIO_ctrl_pending(bio)))
        let count = BIO_read(bio, &text, Int32(text.count))
        return String(decoding: text.prefix(Int(max(count, 0))), as: UTF8.self)
    }

    /// Throws when the certificate is outside its validity period: a server or client presenting
    /// it would be refused by every peer, so the context is not built.
    func checkValidity(file: String) throws(TLSError) {
        if hasExpired {
            let when = notAfter.map { " on \($0)" } ?? ""
            throw TLSError(.certificateExpired, "the certificate expired\(when); install a renewed certificate and reload",
                           file: file)
        }
        if isNotYetValid {
            throw TLSError(.certificateNotYetValid,
                           "the certificate is not valid yet; check the system clock, or wait until its validity begins",
                           file: file)
        }
    }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}

/// An OpenSSL EVP_PKEY owned by Swift.
final class PrivateKey {
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }
}

/// Lowercase hexadecimal.
func hexEncoded(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] }, as: UTF8.self)
}

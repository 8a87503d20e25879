import COpenSSL
import Foundation

/// Keyed primitives from OpenSSL: HMAC-SHA-256 for pseudonymous identifiers, and AES-256-GCM to
/// seal small tokens (a view's paging cursor) that leave the daemon and come back.
public enum KeyedHash {
    /// HMAC-SHA-256 of `message` under `key`, through OpenSSL's one-shot `HMAC`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                out.withUnsafeMutableBytes { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count,
                         o.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
                }
            }
        }
        // HMAC fails only when OpenSSL cannot allocate; there is nothing to carry on with.
        precondition(result != nil, "HMAC(SHA-256) failed: \(OpenSSLErrors.drain())")
        return Array(out.prefix(Int(length)))
    }
}

/// HMAC-SHA-256 under one key, set up once (OpenSSL's `EVP_MAC` with the key and digest
/// fetched and applied a single time) and copied for each message: what a view needs to make
/// thousands of pseudonymous ids a page. Safe to share between threads: each message works on
/// its own copy of the keyed context.
public final class HMACKey: @unchecked Sendable {
    // Sound: `context` is set up in init and only read afterwards (EVP_MAC_CTX_dup); it is
    // freed in deinit, when no copy is being made.
    private let context: OpaquePointer

    public init(_ key: [UInt8]) {
        let mac = EVP_MAC_fetch(nil, "HMAC", nil)
        precondition(mac != nil, "OpenSSL has no HMAC: \(OpenSSLErrors.drain())")
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { preconditionFailure("EVP_MAC_CTX_new failed: \(OpenSSLErrors.drain())") }
        // The parameter keeps pointers to both names: they must outlive EVP_MAC_init.
        let ok = "digest".withCString { name in
            "SHA256".withCString { digest -> Bool in
                var parameters = [OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0), OSSL_PARAM_construct_end()]
                return key.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &parameters) } == 1
            }
        }
        precondition(ok, "HMAC(SHA-256) setup failed: \(OpenSSLErrors.drain())")
        self.context = context
    }

    deinit { EVP_MAC_CTX_free(context) }

    /// HMAC-SHA-256 of `message`.
    public func mac(_ message: [UInt8]) -> [UInt8] {
        guard let copy = EVP_MAC_CTX_dup(context) else { preconditionFailure("EVP_MAC_CTX_dup failed: \(OpenSSLErrors.drain())") }
        defer { EVP_MAC_CTX_free(copy) }
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        let ok = message.withUnsafeBufferPointer { EVP_MAC_update(copy, $0.baseAddress, $0.count) } == 1
            && EVP_MAC_final(copy, &out, &length, out.count) == 1
        precondition(ok && length == 32, "HMAC(SHA-256) failed: \(OpenSSLErrors.drain())")
        return out
    }
}

/// AES-256-GCM through `EVP_aes_256_gcm`: `seal` gives nonce ‖ ciphertext ‖ tag; `open` returns
/// nil for anything that was not sealed under the same key, or was altered.
public struct SealingKey: Sendable, CustomStringConvertible {
    private let key: [UInt8]
    static let nonceLength = 12
    static let tagLength = 16

    public var description: String { "SealingKey(redacted)" }

    /// `key` must be 32 bytes.
    public init(_ key: [UInt8]) {
        precondition(key.count == 32, "AES-256-GCM takes a 32-byte key")
        self.key = key
    }

    public func seal(_ plaintext: [UInt8]) -> [UInt8] {
        let nonce = Digest.randomBytes(Self.nonceLength)
        var output = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        let context = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(context) }
        var length: Int32 = 0
        var total: Int32 = 0
        var ok = EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1
        ok = ok && EVP_EncryptUpdate(context, &output, &length, plaintext, Int32(plaintext.count)) == 1
        total = length
        ok = ok && output.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(context, $0.baseAddress! + Int(total), &length) } == 1
        total += length
        ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1
        precondition(ok, "AES-256-GCM sealing failed: \(OpenSSLErrors.drain())")
        return nonce + output.prefix(Int(total)) + tag
    }

    public func open(_ sealed: [UInt8]) -> [UInt8]? {
        guard sealed.count >= Self.nonceLength + Self.tagLength else { return nil }
        let nonce = Array(sealed.prefix(Self.nonceLength))
        var tag = Array(sealed.suffix(Self.tagLength))
        let ciphertext = Array(sealed.dropFirst(Self.nonceLength).dropLast(Self.tagLength))
        var output = [UInt8](repeating: 0, count: ciphertext.count + 16)
        let context = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(context) }
        var length: Int32 = 0
        var ok = EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1
        ok = ok && EVP_DecryptUpdate(context, &output, &length, ciphertext, Int32(ciphertext.count)) == 1
        let total = length
        ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1
        ok = ok && output.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(context, $0.baseAddress! + Int(total), &length) } == 1
        _ = OpenSSLErrors.drain()
        return ok ? Array(output.prefix(Int(total))) : nil
    }
}

/// Slow, salted hashing of secrets that partners hold (OAuth client secrets), through OpenSSL's
/// PBKDF2-HMAC-SHA-256. A leaked store then costs an attacker hundreds of milliseconds per guess.
public enum SecretHash {
    /// OWASP's figure for PBKDF2-HMAC-SHA-256 (2023): about 0.1 s on one core here.
    public static let defaultIterations = 600_000

    public static func pbkdf2SHA256(secret: [UInt8], salt: [UInt8], iterations: Int, length: Int = 32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let ok = secret.withUnsafeBytes { s in
            salt.withUnsafeBytes { t in
                PKCS5_PBKDF2_HMAC(s.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(s.count),
                                  t.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(t.count), Int32(iterations),
                                  EVP_sha256(), Int32(length), &out)
            }
        }
        precondition(ok == 1, "PKCS5_PBKDF2_HMAC failed: \(OpenSSLErrors.drain())")
        return out
    }
}

/// Random tokens as text: base64url without padding, safe in headers, URLs and JSON.
public enum RandomToken {
    public static func make(bytes count: Int = 32) -> String {
        Base64URL.encode(Digest.randomBytes(count))
    }
}

/// Base64url without padding (RFC 4648 §5).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// nil when `text` is not base64url.
    public static func decode(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}

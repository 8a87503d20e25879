import Foundation

/// The SHA-256 of a certificate's SubjectPublicKeyInfo. A client context with pins accepts a
/// server only when its leaf key matches one of them (the current key and a backup), on top of
/// — never instead of — chain and host name verification.
public struct TLSPin: Sendable, Hashable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let sha256: [UInt8]

    public init(sha256: [UInt8]) throws(TLSError) {
        guard sha256.count == 32 else {
            throw TLSError(.invalidPin, "an SPKI pin is a SHA-256 digest of 32 bytes; this one has \(sha256.count)")
        }
        self.sha256 = sha256
    }

    /// Reads a pin written as base64 (44 characters, as `openssl pkey -pubin -outform der |
    /// openssl dgst -sha256 -binary | base64` prints it; an optional `sha256/` or `sha256//`
    /// prefix is allowed) or as 64 hexadecimal digits (colons allowed).
    public init(parsing text: String) throws(TLSError) {
        var body = text.trimmingCharacters(in: .whitespaces)
        for prefix in ["sha256//", "sha256/"] where body.hasPrefix(prefix) {
            body.removeFirst(prefix.count)
            break
        }
        let hexDigits = body.replacingOccurrences(of: ":", with: "")
        if hexDigits.count == 64, let bytes = Self.bytes(hex: hexDigits) {
            try self.init(sha256: bytes)
        } else if let data = Data(base64Encoded: body), data.count == 32 {
            try self.init(sha256: Array(data))
        } else {
            throw TLSError(.invalidPin,
                           "an SPKI pin must be the SHA-256 of the server's public key as 44 characters of base64 "
                               + "or 64 hexadecimal digits; compute it with `openssl x509 -in CERT -pubkey -noout | "
                               + "openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`")
        }
    }

    /// Base64, the form pins are usually exchanged in.
    public var base64: String { Data(sha256).base64EncodedString() }

    /// Lowercase hexadecimal.
    public var hex: String { hexEncoded(sha256) }

    public var description: String { "sha256/" + base64 }

    private static func bytes(hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var high: UInt8?
        for character in hex {
            guard let nibble = character.hexDigitValue.map(UInt8.init) else { return nil }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? bytes : nil
    }
}

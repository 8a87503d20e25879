#if canImport(Glibc)
import Glibc
#endif
import StewardSystem
import COpenSSL

/// A certificate, key or CA file read into memory once, so that every error can say which file
/// is wrong and how: unreadable, not PEM, encrypted, or holding nothing of the expected kind.
struct PEMFile {
    let path: String
    /// What the file is for, in the operator's words ("certificate chain", "private key", "CA").
    let purpose: String
    let bytes: [UInt8]

    /// Certificate and key files are small; anything larger is the wrong file.
    static let sizeLimit = 1 << 20

    init(path: String, purpose: String) throws(TLSError) {
        self.path = path
        self.purpose = purpose
        bytes = try Self.readAll(path: path, purpose: purpose)
        guard contains("-----BEGIN ") else {
            let hint = bytes.first == 0x30
                ? "it looks like DER; convert it with `openssl x509 -inform der -in FILE -out FILE.pem` (or `openssl pkey` for a key)"
                : "give the PEM file (text starting with -----BEGIN)"
            throw TLSError(.notPEM, "the \(purpose) file is not PEM: \(hint)", file: path)
        }
    }

    /// Every CERTIFICATE block, in file order; throws when there is none or one does not decode.
    func certificates() throws(TLSError) -> [X509Certificate] {
        var certificates: [X509Certificate] = []
        var failure: [UInt] = []
        withMemoryBIO { bio in
            while true {
                ERR_clear_error()
                guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else {
                    // The end of the file shows as "no start line"; anything else is damage.
                    let codes = OpenSSLErrorQueue.take()
                    let isEnd = codes.allSatisfy { OpenSSLErrorQueue.matches($0, library: ERR_LIB_PEM, reason: PEM_R_NO_START_LINE) }
                    if !isEnd { failure = codes }
                    return
                }
                certificates.append(X509Certificate(owning: certificate))
            }
        }
        guard failure.isEmpty, !certificates.isEmpty else {
            let what = contains("-----BEGIN CERTIFICATE-----")
                ? "holds a CERTIFICATE block that does not decode; export the certificate again"
                : "holds no CERTIFICATE block"
            throw TLSError(.notPEM, "the \(purpose) file \(what)", file: path, detail: OpenSSLErrorQueue.words(failure))
        }
        return certificates
    }

    /// The first private key in the file; throws when it is encrypted or does not decode.
    func privateKey() throws(TLSError) -> PrivateKey {
        guard !contains("ENCRYPTED") else {
            throw TLSError(.encryptedPrivateKey,
                           "the private key is protected by a passphrase; Steward reads unencrypted keys only: "
                               + "decrypt it with `openssl pkey -in KEY -out KEY.plain` and make it readable by the steward user alone",
                           file: path)
        }
        let key = withMemoryBIO { bio -> OpaquePointer? in
            ERR_clear_error()
            // A callback that offers no passphrase, so OpenSSL never prompts on a terminal.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let key else {
            throw TLSError(.notPEM, "the private key file holds no PRIVATE KEY block that decodes", file: path,
                           detail: OpenSSLErrorQueue.drainWords())
        }
        return PrivateKey(owning: key)
    }

    private func contains(_ text: String) -> Bool {
        String(decoding: bytes, as: UTF8.self).contains(text)
    }

    /// Runs `body` with a read-only memory BIO over the file's bytes.
    private func withMemoryBIO<Result>(_ body: (OpaquePointer) -> Result) -> Result {
        bytes.withUnsafeBytes { raw in
            // The BIO only reads `raw`, which outlives it: it is freed before this closure returns.
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                preconditionFailure("BIO_new_mem_buf failed: \(OpenSSLErrorQueue.drainWords() ?? "out of memory")")
            }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    private static func readAll(path: String, purpose: String) throws(TLSError) -> [UInt8] {
        func unreadable(_ reason: String) -> TLSError {
            TLSError(.unreadableFile,
                     "cannot read the \(purpose) file (\(reason)); check the path and that the steward user may read it",
                     file: path)
        }
        let descriptor = retryingInterrupts { open(path, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { throw unreadable(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingInterrupts { read(descriptor, buffer.baseAddress, buffer.count) }
            }
            guard count >= 0 else { throw unreadable(String(cString: strerror(errno))) }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= sizeLimit else { throw unreadable("larger than 1 MiB, so not a certificate or key file") }
        }
    }
}


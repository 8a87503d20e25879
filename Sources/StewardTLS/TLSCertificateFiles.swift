import COpenSSL

/// The certificate chain and private key one side of a connection presents: a server's, or a
/// client's for mutual TLS. Both are PEM files; the chain file holds the leaf first, then the
/// intermediates.
public struct TLSCertificateFiles: Sendable, Hashable {
    public var chainFile: String
    public var privateKeyFile: String

    public init(chainFile: String, privateKeyFile: String) {
        self.chainFile = chainFile
        self.privateKeyFile = privateKeyFile
    }

    /// Reads both files, checks that the key belongs to the leaf and that the leaf is within its
    /// validity, and installs them in `context`. Returns the leaf.
    func install(into context: OpaquePointer) throws(TLSError) -> X509Certificate {
        let chain = try PEMFile(path: chainFile, purpose: "certificate chain").certificates()
        let key = try PEMFile(path: privateKeyFile, purpose: "private key").privateKey()
        let leaf = chain[0]
        ERR_clear_error()
        guard X509_check_private_key(leaf.pointer, key.pointer) == 1 else {
            throw TLSError(.keyMismatch,
                           "the private key does not belong to the first certificate of the chain file; "
                               + "give the key the certificate was issued for, and put the leaf certificate first",
                           file: privateKeyFile, detail: OpenSSLErrorQueue.drainWords())
        }
        try leaf.checkValidity(file: chainFile)
        ERR_clear_error()
        guard SSL_CTX_use_certificate(context, leaf.pointer) == 1,
              chain.dropFirst().allSatisfy({ steward_SSL_CTX_add1_chain_cert(context, $0.pointer) == 1 }),
              SSL_CTX_use_PrivateKey(context, key.pointer) == 1
        else {
            // At security level 2 OpenSSL refuses, for example, RSA keys under 2048 bits.
            throw TLSError(.setupFailed,
                           "OpenSSL refused the certificate or key; the policy needs RSA keys of 2048 bits or more, "
                               + "or EC keys on P-256 or P-384, signed with SHA-256 or better",
                           file: chainFile, detail: OpenSSLErrorQueue.drainWords())
        }
        return leaf
    }
}

/// The certificate authorities a context trusts, read from one PEM file.
enum CertificateAuthorityFile {
    /// Adds every certificate of `path` to `context`'s trust store. A server also names them to
    /// clients (`namesForClients`), so that a client with several certificates picks the right one.
    static func install(_ path: String, into context: OpaquePointer, namesForClients: Bool) throws(TLSError) {
        let authorities: [X509Certificate]
        do throws(TLSError) {
            authorities = try PEMFile(path: path, purpose: "CA").certificates()
        } catch where error.code == .notPEM {
            throw TLSError(.invalidCertificateAuthority,
                           error.message + "; a CA file holds one or more PEM CA certificates", file: path, detail: error.detail)
        }
        let store = SSL_CTX_get_cert_store(context)
        for authority in authorities {
            ERR_clear_error()
            guard X509_STORE_add_cert(store, authority.pointer) == 1,
                  !namesForClients || SSL_CTX_add_client_CA(context, authority.pointer) == 1
            else {
                throw TLSError(.invalidCertificateAuthority, "OpenSSL refused a certificate of the CA file", file: path,
                               detail: OpenSSLErrorQueue.drainWords())
            }
        }
    }
}

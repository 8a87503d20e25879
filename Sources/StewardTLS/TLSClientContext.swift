#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import Foundation

/// Which certificate authorities a client trusts for a partner's server.
public enum TLSTrust: Sendable, Hashable {
    /// The operating system's CA bundle, for partners with publicly trusted certificates.
    case systemBundle
    /// Only the CAs in this PEM file.
    case certificateAuthorities(file: String)
}

/// A TLS client's configuration under the one policy: whom it trusts, the certificate it
/// presents for mutual TLS, and optional SPKI pins. Every connection verifies the server's
/// chain and host name; there is no way to turn that off.
///
/// Build one per partner at start-up and on reload, never per connection: a context that
/// trusts the system bundle takes 20–25 ms to build, because OpenSSL parses the whole bundle
/// (one with a CA file takes well under a millisecond). Making a connection from it is cheap.
public final class TLSClientContext: @unchecked Sendable {
    // Sound because the SSL_CTX is configured in init and never changed after; `pins` is immutable.
    let context: OpaquePointer
    let pins: [TLSPin]

    public let profile: TLSPolicy
    /// When the client certificate expires, if there is one: warn the operator ahead of it.
    public let clientCertificateExpiry: Date?

    /// Reads the trusted CAs and the client certificate; every error names the file and says
    /// what to change. With `pins`, a server is accepted only when its leaf key matches one of
    /// them, in addition to chain and host name verification.
    public init(trust: TLSTrust, clientCertificate: TLSCertificateFiles? = nil, pins: [TLSPin] = [],
                profile: TLSPolicy = .intermediate) throws(TLSError) {
        let context = try profile.makeContext(for: .client)
        do throws(TLSError) {
            try Self.install(trust, into: context)
            clientCertificateExpiry = try clientCertificate?.install(into: context).notAfter
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        self.context = context
        self.pins = pins
        self.profile = profile
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// A client-side connection on `socket` (a connected non-blocking stream socket the caller
    /// keeps owning) to the server known as `serverName`: a DNS name, sent as SNI and verified
    /// against the certificate without partial wildcards, or an IPv4 or IPv6 literal (brackets
    /// allowed), verified against the certificate's IP addresses, with no SNI.
    public func makeConnection(socket: Int32, serverName: String) throws(TLSError) -> TLSConnection {
        let connection = try TLSConnection(context: context, socket: socket, role: .client, pins: pins)
        connection.serverName = try Self.expect(serverName, on: connection.ssl)
        return connection
    }

    private static func install(_ trust: TLSTrust, into context: OpaquePointer) throws(TLSError) {
        switch trust {
        case .systemBundle:
            ERR_clear_error()
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSError(.setupFailed, "OpenSSL could not load the system CA bundle; is ca-certificates installed?",
                               detail: OpenSSLErrorQueue.drainWords())
            }
        case .certificateAuthorities(let file):
            try CertificateAuthorityFile.install(file, into: context, namesForClients: false)
        }
    }

    /// Sets the name or address the server's certificate must match, and SNI for names; returns
    /// the name as verified.
    private static func expect(_ serverName: String, on ssl: OpaquePointer) throws(TLSError) -> String {
        var name = serverName
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, !name.contains("\0") else {
            throw TLSError(.invalidHostName, "the server's host name is empty; give the partner's host name or IP address")
        }
        ERR_clear_error()
        let isSet: Bool
        if isIPAddress(name) {
            isSet = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
        } else {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            isSet = SSL_set1_host(ssl, name) == 1 && steward_SSL_set_tlsext_host_name(ssl, name) == 1
        }
        guard isSet else {
            throw TLSError(.invalidHostName, "OpenSSL cannot verify the host name \"\(name)\"; check the partner's address",
                           detail: OpenSSLErrorQueue.drainWords())
        }
        return name
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, text, &address) == 1 || inet_pton(AF_INET6, text, &address) == 1
    }
}

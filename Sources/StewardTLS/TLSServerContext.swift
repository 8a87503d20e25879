import COpenSSL
import Foundation
import Synchronization

/// A TLS server's configuration under the one policy, built once from PEM files and shared by
/// every connection it accepts: the certificate chain and key, and for mutual TLS the CA that
/// client certificates must chain to.
///
/// Build it at start-up and on reload, never per connection. Reloading means building a new
/// context from the files and swapping it in a ``TLSServerContextHolder``: connections already
/// open keep the context they started with. A reloaded context has new session ticket keys, so
/// clients resume sessions only with the context that issued them.
public final class TLSServerContext: @unchecked Sendable {
    // Sound because the SSL_CTX is configured in init and never changed after; OpenSSL locks
    // the session cache it updates internally.
    let context: OpaquePointer

    public let profile: TLSPolicy
    /// Whether clients must present a certificate that chains to the client CA file.
    public let requiresClientCertificate: Bool
    /// When the server certificate expires: warn the operator ahead of it.
    public let certificateExpiry: Date?

    /// Resumed sessions are bound to this context id, which OpenSSL requires for resumption
    /// when client certificates are verified.
    private static let sessionIDContext = Array("steward-tls-server".utf8)

    /// Reads `certificate` and, for mutual TLS, `clientCAFile`; every error names the file and
    /// says what to change. An expired or not yet valid server certificate is an error: every
    /// client would refuse it.
    public init(certificate: TLSCertificateFiles, clientCAFile: String? = nil,
                profile: TLSPolicy = .intermediate) throws(TLSError) {
        let context = try profile.makeContext(for: .server)
        do throws(TLSError) {
            let leaf = try certificate.install(into: context)
            if let clientCAFile {
                try CertificateAuthorityFile.install(clientCAFile, into: context, namesForClients: true)
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            }
            guard SSL_CTX_set_session_id_context(context, Self.sessionIDContext, UInt32(Self.sessionIDContext.count)) == 1 else {
                throw TLSError(.setupFailed, "OpenSSL refused the session id context", detail: OpenSSLErrorQueue.drainWords())
            }
            certificateExpiry = leaf.notAfter
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
        self.profile = profile
        requiresClientCertificate = clientCAFile != nil
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// A server-side connection on `socket`, a connected non-blocking stream socket the caller
    /// keeps owning (and closes after the connection is done).
    public func makeConnection(socket: Int32) throws(TLSError) -> TLSConnection {
        try TLSConnection(context: context, socket: socket, role: .server)
    }
}

/// The server context new connections use, swapped atomically on reload. Connections that are
/// open keep the context they were made with.
public final class TLSServerContextHolder: Sendable {
    private let slot: Mutex<TLSServerContext>

    public init(_ context: TLSServerContext) {
        slot = Mutex(context)
    }

    /// The context for the next connection.
    public var current: TLSServerContext {
        slot.withLock { $0 }
    }

    /// Makes `context` the one new connections use.
    public func replace(with context: TLSServerContext) {
        slot.withLock { $0 = context }
    }
}

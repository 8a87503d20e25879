#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import Foundation

/// What one non-blocking TLS operation came to.
public enum TLSResult: Sendable, Hashable {
    /// The operation made progress: bytes read or written (0 for a finished handshake or a
    /// sent close_notify). Call `read` or `write` again: only the other results say what to wait for.
    case done(Int)
    /// Wait until the socket is readable, then call the same operation again.
    case wantRead
    /// Wait until the socket is writable, then call the same operation again.
    case wantWrite
    /// The peer ended its side: nothing more will be read. After close_notify `write` still
    /// works (TLS allows a half-close); otherwise, and once done, close the socket.
    case closed(TLSCloseReason)
    /// The connection failed; close the socket. Every later call returns the same.
    case failed(TLSError)
}

/// How a peer ended a connection.
public enum TLSCloseReason: Sendable, Hashable {
    /// The peer sent close_notify: everything it sent has arrived.
    case closeNotify
    /// The socket ended without close_notify: what arrived may be cut short, by a careless peer
    /// or by an attacker. Trust the data only when its own framing (a Content-Length, a last
    /// chunk) shows it is whole.
    case unexpectedEOF
}

/// One TLS connection on a connected, non-blocking stream socket, made by a
/// ``TLSServerContext`` or ``TLSClientContext``. Every operation returns at once with a
/// ``TLSResult``; a Dispatch read or write source on the connection's serial queue calls it
/// again when the socket is ready.
///
/// The caller owns the socket and closes it after the connection is done. OpenSSL writes to the
/// socket with write(2), which raises SIGPIPE when the peer has gone: the process must ignore
/// SIGPIPE (stewardd does at start), so that a gone peer is an error, not the end of the process.
public final class TLSConnection: @unchecked Sendable {
    // Sound because a connection is confined to the one serial queue that drives it: its SSL*
    // and state are never touched from two threads at once.
    let ssl: OpaquePointer
    /// The socket the connection runs on.
    public let socket: Int32
    let role: TLSRole
    private let pins: [TLSPin]
    /// The host name or address a client verifies, for messages.
    var serverName = ""

    /// What the handshake agreed on; nil until it finished.
    public private(set) var info: TLSConnectionInfo?
    /// A closed or failed connection stays so.
    private var ending: TLSResult?
    /// What stopped a read or write loop after it had made progress, returned by the next call.
    private var pendingRead: TLSResult?
    private var pendingWrite: TLSResult?
    /// Whether the connection failed or was cut: OpenSSL must then not be asked to send anything.
    private var isBroken: Bool { ending != nil && ending != .closed(.closeNotify) }

    /// How much one `read` call decrypts into the caller's buffer at most before it returns.
    public static let readLimit = 256 * 1024

    init(context: OpaquePointer, socket: Int32, role: TLSRole, pins: [TLSPin] = []) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context) else {
            throw TLSError(.setupFailed, "OpenSSL could not create a connection", detail: OpenSSLErrorQueue.drainWords())
        }
        guard SSL_set_fd(ssl, socket) == 1 else {
            SSL_free(ssl)
            throw TLSError(.setupFailed, "OpenSSL could not use socket \(socket)", detail: OpenSSLErrorQueue.drainWords())
        }
        if role == .server { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
        self.ssl = ssl
        self.socket = socket
        self.role = role
        self.pins = pins
    }

    deinit {
        SSL_free(ssl)
    }

    /// Whether the handshake finished (and, on a client with pins, the server's key matched).
    public var isHandshakeComplete: Bool { info != nil }

    /// Advances the handshake; `.done(0)` once it has finished and `info` is set, `.closed` when
    /// the peer went away before that. `read` and `write` run it themselves when it has not
    /// finished yet.
    public func handshake() -> TLSResult {
        if info != nil { return .done(0) }
        if let ending { return ending }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        guard rc == 1 else { return outcome(of: rc, during: .handshake) }
        let peer = SSL_get0_peer_certificate(ssl).map { TLSPeerCertificate(X509Certificate(borrowing: $0)) }
        if role == .client, !pins.isEmpty, !pins.contains(where: { $0 == peer?.publicKey }) {
            return end(.failed(TLSError(
                .pinMismatch,
                "the server \(serverName) presented a valid certificate whose key (\(peer?.publicKey.description ?? "none")) "
                    + "matches none of the \(pins.count) configured pins; if the partner changed its key, confirm it with "
                    + "the partner and update the pins")))
        }
        info = TLSConnectionInfo(
            protocolVersion: String(cString: SSL_get_version(ssl)),
            cipher: SSL_get_current_cipher(ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? "",
            isResumed: SSL_session_reused(ssl) == 1,
            peerCertificate: peer)
        return .done(0)
    }

    /// Decrypts what has arrived and appends it to `buffer`: up to ``readLimit`` bytes, until
    /// OpenSSL needs more from the socket. `.done(n)` with n > 0 bytes appended; call again after
    /// handling them. In TLS 1.3 a server refuses a client certificate after the client's
    /// handshake has finished, so that refusal surfaces here, as `certificateRejectedByPeer`.
    public func read(into buffer: inout [UInt8]) -> TLSResult {
        if let status = take(&pendingRead) ?? ending { return status }
        let handshaken = handshake()
        guard case .done = handshaken else { return handshaken }
        let chunk = 16 * 1024
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chunk) { scratch -> TLSResult in
            var total = 0
            while total < Self.readLimit {
                var count = 0
                ERR_clear_error()
                let rc = SSL_read_ex(ssl, scratch.baseAddress, min(chunk, Self.readLimit - total), &count)
                guard rc == 1 else { return progress(total, then: outcome(of: rc, during: .transfer), pending: &pendingRead) }
                buffer.append(contentsOf: scratch[..<count])
                total += count
            }
            return .done(total)
        }
    }

    /// Encrypts and sends as much of `bytes` as the socket takes. `.done(n)`: the first n bytes
    /// are sent; call again with the rest. After `.wantWrite`, call again with the same bytes.
    /// A peer's close_notify ends only its direction, so writing goes on until the connection fails.
    public func write(_ bytes: some ContiguousBytes) -> TLSResult {
        if let status = take(&pendingWrite) ?? (isBroken ? ending : nil) { return status }
        let handshaken = handshake()
        guard case .done = handshaken else { return handshaken }
        return bytes.withUnsafeBytes { raw -> TLSResult in
            var total = 0
            while total < raw.count {
                var count = 0
                ERR_clear_error()
                let rc = SSL_write_ex(ssl, raw.baseAddress! + total, raw.count - total, &count)
                guard rc == 1 else { return progress(total, then: outcome(of: rc, during: .transfer), pending: &pendingWrite) }
                total += count
            }
            return .done(total)
        }
    }

    /// Sends close_notify, without waiting for the peer's; `.done(0)` once it is sent (or when
    /// there is nothing to close: no finished handshake, or a connection that failed).
    public func shutdown() -> TLSResult {
        guard info != nil, !isBroken else { return .done(0) }
        ERR_clear_error()
        let rc = SSL_shutdown(ssl)
        return rc >= 0 ? .done(0) : outcome(of: rc, during: .shutdown)
    }

    // MARK: Results

    private enum Phase {
        case handshake, transfer, shutdown
    }

    private func take(_ pending: inout TLSResult?) -> TLSResult? {
        defer { pending = nil }
        return pending
    }

    /// `.done(total)` when a loop made progress, keeping `status` for the next call; else `status`.
    private func progress(_ total: Int, then status: TLSResult, pending: inout TLSResult?) -> TLSResult {
        guard total > 0 else { return status }
        if case .wantRead = status { pending = status } else if case .wantWrite = status { pending = status }
        return .done(total)
    }

    private func end(_ status: TLSResult) -> TLSResult {
        ending = status
        return status
    }

    /// Turns a failed OpenSSL call's return code into a result; call it right after the call.
    private func outcome(of rc: Int32, during phase: Phase) -> TLSResult {
        let systemError = errno
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            return end(.closed(.closeNotify))
        case SSL_ERROR_SYSCALL:
            let codes = OpenSSLErrorQueue.take()
            if systemError == 0 && codes.isEmpty { return end(.closed(.unexpectedEOF)) }
            return end(.failed(TLSError(
                .socketError, "the connection to the \(peerName) failed (\(String(cString: strerror(systemError))))",
                detail: OpenSSLErrorQueue.words(codes))))
        case SSL_ERROR_SSL:
            return end(classify(OpenSSLErrorQueue.take(), during: phase))
        case let other:
            return end(.failed(TLSError(phase == .handshake ? .handshakeFailed : .protocolError,
                                        "OpenSSL reported error \(other)", detail: OpenSSLErrorQueue.drainWords())))
        }
    }

    private var peerName: String { role == .client ? "server" : "client" }

    /// Reasons OpenSSL gives locally when the peers share no version, suite, group or signature
    /// algorithm that the policy allows.
    private static let mismatchReasons: Set<Int32> = [
        SSL_R_NO_SHARED_CIPHER, SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_VERSION_TOO_LOW, SSL_R_NO_PROTOCOLS_AVAILABLE,
        SSL_R_NO_SUITABLE_KEY_SHARE, SSL_R_NO_CIPHERS_AVAILABLE, SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM,
        SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS, SSL_R_NO_SHARED_GROUPS, SSL_R_WRONG_CIPHER_RETURNED,
    ]

    /// TLS alerts (RFC 8446 §6.2) by which a peer refuses a certificate, or the lack of one.
    private static let certificateAlerts: Set<Int32> = [42, 43, 44, 45, 46, 48, 49, 116]
    /// TLS alerts by which a peer says it shares no protocol version or suite.
    private static let mismatchAlerts: Set<Int32> = [40, 70, 71]

    /// Turns OpenSSL's error queue after SSL_ERROR_SSL into a close reason or an error that says
    /// what to do.
    private func classify(_ codes: [UInt], during phase: Phase) -> TLSResult {
        let detail = OpenSSLErrorQueue.words(codes)
        let reasons = codes.filter { ERR_GET_LIB($0) == ERR_LIB_SSL }.map { ERR_GET_REASON($0) }
        let alert = reasons.first { (SSL_AD_REASON_OFFSET..<(SSL_AD_REASON_OFFSET + 256)).contains($0) }
            .map { $0 - SSL_AD_REASON_OFFSET }
        func failure(_ code: TLSError.Code, _ message: String) -> TLSResult {
            .failed(TLSError(code, message, detail: detail))
        }
        if reasons.contains(SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            return .closed(.unexpectedEOF)
        }
        if reasons.contains(SSL_R_CERTIFICATE_VERIFY_FAILED) {
            return verificationFailure(detail: detail)
        }
        if reasons.contains(SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
            return failure(.missingClientCertificate,
                           "the client sent no certificate, and this server requires one issued by its client CA; "
                               + "the partner must configure its client certificate")
        }
        if let alert, Self.certificateAlerts.contains(alert) {
            return failure(.certificateRejectedByPeer, role == .client
                ? "the server \(serverName) refused Steward's client certificate (or its absence); check that a client "
                    + "certificate is configured, that it has not expired, and that the partner trusts the CA that issued it"
                : "the client refused this server's certificate; check that the chain file holds the intermediate "
                    + "certificates and that the partner trusts the CA that issued it")
        }
        if reasons.contains(where: Self.mismatchReasons.contains)
            || (phase == .handshake && alert.map(Self.mismatchAlerts.contains) == true) {
            return failure(.protocolMismatch,
                           "the \(peerName) supports no protocol version or cipher suite that Steward allows (TLS 1.3, "
                               + "or TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305); the partner must enable them")
        }
        return phase == .handshake
            ? failure(.handshakeFailed, "the TLS handshake with the \(peerName) failed; is the peer speaking TLS?")
            : failure(.protocolError, "the \(peerName) broke the TLS protocol or ended the connection with an alert")
    }

    /// A chain or host name the verifier refused, explained from its verify result.
    private func verificationFailure(detail: String?) -> TLSResult {
        let result = Int32(truncatingIfNeeded: SSL_get_verify_result(ssl))
        let words = String(cString: X509_verify_cert_error_string(Int(result)))
        let error: TLSError
        switch (role, result) {
        case (.client, X509_V_ERR_HOSTNAME_MISMATCH), (.client, X509_V_ERR_IP_ADDRESS_MISMATCH):
            error = TLSError(.hostMismatch,
                             "the server's certificate is valid but not for \(serverName); check the partner's address, "
                                 + "or ask the partner for a certificate that names it", detail: words)
        case (.client, _):
            error = TLSError(.untrustedCertificate,
                             "the certificate of the server \(serverName) did not verify (\(words)); if the partner uses "
                                 + "a private CA, configure its CA file; otherwise the partner must fix its certificate",
                             detail: detail)
        case (.server, _):
            error = TLSError(.untrustedCertificate,
                             "the client's certificate did not verify (\(words)); the partner must present a certificate "
                                 + "issued by the configured client CA, within its validity", detail: detail)
        }
        return .failed(error)
    }
}

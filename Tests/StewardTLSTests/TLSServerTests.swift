import Foundation
import StewardHarness
import StewardTLS
import Testing

/// A Swift TLS server against real `openssl s_client` peers.
@Suite struct TLSServerTests {
    let pki: TestPKI
    init() throws { pki = try TestPKI.get() }

    private var mutualTLS: TLSServerContext {
        get throws { try TLSServerContext(certificate: pki.server, clientCAFile: pki.caFile) }
    }

    private func clientCertificate(_ files: TLSCertificateFiles) -> [String] {
        ["-cert", files.chainFile, "-key", files.privateKeyFile]
    }

    @Test func acceptsATLS13ClientAndExchangesDataUntilCloseNotify() throws {
        let session = try PeerSession(TLSServerContext(certificate: pki.server),
                                        clientArguments: ["-brief", "-tls1_3", "-CAfile", pki.caFile])
        #expect(session.handshake == .done(0))
        let info = try #require(session.connection.info)
        #expect(info.protocolVersion == "TLSv1.3")
        #expect(TLSPolicy.tls13Ciphersuites.split(separator: ":").contains(Substring(info.cipher)))
        #expect(info.peerCertificate == nil)

        #expect(try session.connection.send("hello from steward\n") == .done(19))
        #expect(session.peer.waitForOutput("hello from steward"))
        session.peer.type("ping\n")
        #expect(try session.connection.receive(until: "ping").text == "ping\n")
        session.peer.closeInput()
        #expect(try session.connection.receive().result == .closed(.closeNotify))
        #expect(session.connection.shutdown() == .done(0))
        session.hangUp()
        #expect(session.peer.exitStatus() == 0)
        #expect(session.peer.output.contains("Verification: OK"))
    }

    @Test(arguments: [("server", "ECDHE-ECDSA-"), ("server-rsa", "ECDHE-RSA-")])
    func acceptsATLS12ClientWithAnECDHESuite(certificate: String, suitePrefix: String) throws {
        let session = try PeerSession(TLSServerContext(certificate: pki.files(certificate)),
                                        clientArguments: ["-brief", "-tls1_2", "-CAfile", pki.caFile])
        #expect(session.handshake == .done(0))
        let info = try #require(session.connection.info)
        #expect(info.protocolVersion == "TLSv1.2")
        #expect(info.cipher.hasPrefix(suitePrefix))
        #expect(TLSPolicy.tls12Ciphers.split(separator: ":").contains(Substring(info.cipher)))
        session.peer.type("ping\n")
        #expect(try session.connection.receive(until: "ping").text == "ping\n")
    }

    @Test(arguments: ["-tls1", "-tls1_1"])
    func refusesAClientOfferingOnlyAnOldProtocolVersion(version: String) throws {
        // SECLEVEL=0 makes OpenSSL 3's s_client really offer TLS 1.0 or 1.1.
        let session = try PeerSession(TLSServerContext(certificate: pki.serverRSA),
                                        clientArguments: ["-brief", version, "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(failure(session.handshake)?.code == .protocolMismatch)
        #expect(session.peer.exitStatus() != 0)
        #expect(session.peer.output.contains("alert protocol version"))
    }

    /// CBC with ECDHE, CBC with RSA key exchange, and AES-GCM with RSA key exchange (no forward
    /// secrecy) are all refused, on an RSA certificate that could serve each of them.
    @Test(arguments: ["ECDHE-RSA-AES128-SHA256", "AES128-SHA256", "AES128-GCM-SHA256"])
    func refusesATLS12ClientOfferingOnlySuitesOutsideThePolicy(suite: String) throws {
        let session = try PeerSession(TLSServerContext(certificate: pki.serverRSA),
                                        clientArguments: ["-brief", "-tls1_2", "-cipher", suite])
        #expect(failure(session.handshake)?.code == .protocolMismatch)
        #expect(session.peer.exitStatus() != 0)
        #expect(session.peer.output.contains("handshake failure"))
    }

    @Test func theModernProfileRefusesATLS12Client() throws {
        let session = try PeerSession(TLSServerContext(certificate: pki.server, profile: .modern),
                                        clientArguments: ["-brief", "-tls1_2"])
        #expect(failure(session.handshake)?.code == .protocolMismatch)
        #expect(session.peer.exitStatus() != 0)
    }

    /// s_client's `R` command starts a TLS 1.2 renegotiation; the server answers with a
    /// no_renegotiation alert, the client gives up, and no second handshake ever happens.
    @Test func refusesAClientInitiatedRenegotiation() throws {
        let session = try PeerSession(TLSServerContext(certificate: pki.server),
                                        clientArguments: ["-tls1_2", "-CAfile", pki.caFile])
        #expect(session.handshake == .done(0))
        #expect(try session.connection.send("ready\n") == .done(6))
        #expect(session.peer.waitForOutput("ready"))
        session.peer.type("R\n")
        #expect(session.peer.waitForOutput("RENEGOTIATING"))
        let outcome = try session.connection.receive()
        #expect(failure(outcome.result) != nil, "\(outcome)")
        #expect(outcome.text.isEmpty)
        #expect(session.peer.waitForOutput("no renegotiation"))
        #expect(session.peer.exitStatus() != 0)
    }

    @Test(arguments: ["-tls1_3", "-tls1_2"])
    func mutualTLSRefusesAClientWithoutCertificate(version: String) throws {
        let session = try PeerSession(mutualTLS, clientArguments: ["-brief", version, "-CAfile", pki.caFile])
        let error = failure(session.handshake)
        #expect(error?.code == .missingClientCertificate)
        #expect(error?.message.contains("client certificate") == true)
    }

    @Test(arguments: ["-tls1_3", "-tls1_2"])
    func mutualTLSRefusesACertificateFromAnotherCA(version: String) throws {
        let session = try PeerSession(mutualTLS, clientArguments: ["-brief", version, "-CAfile", pki.caFile]
                                            + clientCertificate(pki.strangerClient))
        let error = failure(session.handshake)
        #expect(error?.code == .untrustedCertificate)
        #expect(error?.message.contains("unable to get local issuer certificate") == true)
        #expect(session.peer.waitForOutput("alert unknown ca"))
    }

    @Test func mutualTLSTellsWhoTheClientIs() throws {
        let session = try PeerSession(mutualTLS, clientArguments: ["-brief", "-CAfile", pki.caFile]
                                            + clientCertificate(pki.client))
        #expect(session.handshake == .done(0))
        let client = try #require(session.connection.info?.peerCertificate)
        #expect(client.subject == "O=Partner,CN=partner-client")
        #expect(client.publicKey.base64 == (try pki.pin(of: pki.client)))
        #expect(client.fingerprintSHA256 == (try pki.fingerprint(of: pki.client)))
        #expect(client.notAfter.map { $0 > Date() } == true)
    }

    @Test(arguments: ["-tls1_3", "-tls1_2"])
    func mutualTLSSessionsResume(version: String) throws {
        let context = try mutualTLS
        let saved = pki.path("session-\(UUID().uuidString).pem")
        let arguments = [version, "-CAfile", pki.caFile] + clientCertificate(pki.client)

        let first = try PeerSession(context, clientArguments: arguments + ["-sess_out", saved])
        #expect(first.handshake == .done(0))
        #expect(first.connection.info?.isResumed == false)
        // The TLS 1.3 ticket arrives before this line, so the session is saved once it is printed.
        #expect(try first.connection.send("hello\n") == .done(6))
        #expect(first.peer.waitForOutput("hello"))
        first.peer.closeInput()
        #expect(try first.connection.receive().result == .closed(.closeNotify))
        first.hangUp()
        #expect(first.peer.exitStatus() == 0)

        let second = try PeerSession(context, clientArguments: arguments + ["-sess_in", saved])
        #expect(second.handshake == .done(0))
        let info = try #require(second.connection.info)
        #expect(info.isResumed)
        #expect(info.peerCertificate?.subject == "O=Partner,CN=partner-client")
        #expect(second.peer.waitForOutput("Reused, "))
    }

    @Test func aReloadedContextServesNewConnectionsWhileOpenOnesKeepTheirs() throws {
        let holder = try TLSServerContextHolder(TLSServerContext(certificate: pki.server))
        let listener = try LoopbackListener()
        let before = try OpenSSLPeer.client(port: listener.port, ["-brief"])
        let socket = try listener.accept()
        defer { close(socket) }
        let open = try holder.current.makeConnection(socket: socket)

        holder.replace(with: try TLSServerContext(certificate: pki.serverRSA))
        #expect(try open.completeHandshake() == .done(0))
        #expect(before.waitForOutput("Peer certificate: CN = localhost\n"))

        let after = try PeerSession(holder.current, clientArguments: ["-brief"])
        #expect(after.handshake == .done(0))
        #expect(after.peer.waitForOutput("Peer certificate: CN = localhost-rsa"))
    }
}

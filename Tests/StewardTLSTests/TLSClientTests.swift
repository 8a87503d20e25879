import Foundation
import StewardHarness
import StewardTLS
import Testing

/// A Swift TLS client against real `openssl s_server` peers.
@Suite struct TLSClientTests {
    let pki: TestPKI
    init() throws { pki = try TestPKI.get() }

    private var trustingTestCA: TLSClientContext {
        get throws { try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile)) }
    }

    /// s_server presenting `certificate`, echoing each line reversed, printing the client's hello.
    private func serving(_ certificate: TLSCertificateFiles, _ extra: [String] = []) -> [String] {
        ["-cert", certificate.chainFile, "-key", certificate.privateKeyFile, "-rev", "-tlsextdebug"] + extra
    }

    private var requiringClientCertificates: [String] {
        ["-Verify", "1", "-verify_return_error", "-CAfile", pki.caFile]
    }

    @Test func talksToAGoodServerAndOffersOnlyThePolicy() throws {
        let session = try PeerSession(trustingTestCA, serverArguments: serving(pki.server))
        #expect(session.handshake == .done(0))
        let info = try #require(session.connection.info)
        #expect(info.protocolVersion == "TLSv1.3")
        let server = try #require(info.peerCertificate)
        #expect(server.subject == "CN=localhost")
        #expect(server.fingerprintSHA256 == (try pki.fingerprint(of: pki.server)))
        #expect(server.publicKey.base64 == (try pki.pin(of: pki.server)))

        #expect(try session.connection.send("ping\n") == .done(5))
        #expect(try session.connection.receive(until: "\n").text == "gnip\n")
        #expect(session.connection.shutdown() == .done(0))

        let offered = session.peer.output.lines(startingWith: "Client cipher list: ")
        let policy = (TLSPolicy.tls13Ciphersuites + ":" + TLSPolicy.tls12Ciphers).split(separator: ":")
        #expect(Set(offered.split(separator: ":")).subtracting(["TLS_EMPTY_RENEGOTIATION_INFO_SCSV"]) == Set(policy))
        #expect(session.peer.output.lines(startingWith: "Supported groups: ") == "x25519:secp256r1:secp384r1")
        #expect(session.peer.output.contains("TLS client extension \"server name\""))
    }

    /// The socket goes to 127.0.0.1 every time; the name given is what the certificate must carry.
    @Test(arguments: ["127.0.0.1", "::1", "[::1]"])
    func verifiesAnIPAddressAgainstTheCertificateAndSendsNoServerName(address: String) throws {
        let session = try PeerSession(trustingTestCA, serverName: address, serverArguments: serving(pki.server))
        #expect(session.handshake == .done(0))
        #expect(try session.connection.send("ping\n") == .done(5))
        #expect(try session.connection.receive(until: "\n").text == "gnip\n")
        #expect(session.peer.output.contains("TLS client extension") && !session.peer.output.contains("server name"))
    }

    @Test func refusesAServerFromAnUnknownCA() throws {
        let session = try PeerSession(trustingTestCA, serverArguments: serving(pki.strangerServer))
        let error = failure(session.handshake)
        #expect(error?.code == .untrustedCertificate)
        #expect(error?.message.contains("unable to get local issuer certificate") == true)
        #expect(session.connection.info == nil)
    }

    @Test func refusesAnExpiredCertificate() throws {
        let session = try PeerSession(trustingTestCA, serverArguments: serving(pki.expiredServer))
        let error = failure(session.handshake)
        #expect(error?.code == .untrustedCertificate)
        #expect(error?.message.contains("certificate has expired") == true)
    }

    @Test func refusesACertificateForAnotherHostName() throws {
        let session = try PeerSession(trustingTestCA, serverArguments: serving(pki.elsewhereServer))
        let error = failure(session.handshake)
        #expect(error?.code == .hostMismatch)
        #expect(error?.message.contains("not for localhost") == true)
    }

    /// OpenSSL would let ww*.steward.test match www.steward.test; the policy does not.
    @Test func refusesAPartialWildcard() throws {
        let session = try PeerSession(trustingTestCA, serverName: "www.steward.test",
                                        serverArguments: serving(pki.partialWildcardServer))
        #expect(failure(session.handshake)?.code == .hostMismatch)
    }

    @Test(arguments: ["10.9.8.7", "::2"])
    func refusesACertificateForAnotherIPAddress(address: String) throws {
        let session = try PeerSession(trustingTestCA, serverName: address, serverArguments: serving(pki.server))
        let error = failure(session.handshake)
        #expect(error?.code == .hostMismatch)
        #expect(error?.message.contains("not for \(address)") == true)
    }

    @Test func refusesAServerWhoseKeyMatchesNoPin() throws {
        let pins = [try TLSPin(parsing: pki.pin(of: pki.serverRSA)), try TLSPin(parsing: pki.pin(of: pki.client))]
        let context = try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile), pins: pins)
        let session = try PeerSession(context, serverArguments: serving(pki.server))
        let error = failure(session.handshake)
        #expect(error?.code == .pinMismatch)
        #expect(error?.message.contains(try pki.pin(of: pki.server)) == true, "names the key the server has")
        #expect(session.connection.info == nil)
        var buffer: [UInt8] = []
        #expect(failure(session.connection.read(into: &buffer)) == error, "stays failed")
    }

    /// The pin is the current one or the backup, written in base64 or in hex.
    @Test(arguments: [(true, "base64"), (false, "base64"), (true, "hex"), (false, "hex")])
    func acceptsAServerMatchingTheCurrentOrTheBackupPin(serverHasCurrent: Bool, form: String) throws {
        let serverPin = try TLSPin(parsing: pki.pin(of: pki.server))
        let otherPin = try TLSPin(parsing: pki.pin(of: pki.serverRSA))
        let written = (serverHasCurrent ? [serverPin, otherPin] : [otherPin, serverPin]).map { form == "hex" ? $0.hex : $0.base64 }
        let context = try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile),
                                           pins: written.map { try TLSPin(parsing: $0) })
        let session = try PeerSession(context, serverArguments: serving(pki.server))
        #expect(session.handshake == .done(0))
        #expect(session.connection.info?.peerCertificate?.publicKey == serverPin)
    }

    /// SECLEVEL=0 lets OpenSSL 3's s_server offer TLS 1.1 at all.
    @Test func refusesAServerOfferingOnlyTLS11() throws {
        let session = try PeerSession(trustingTestCA, serverArguments: serving(pki.server, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]))
        #expect(failure(session.handshake)?.code == .protocolMismatch)
    }

    @Test func theModernProfileRefusesATLS12Server() throws {
        let context = try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile), profile: .modern)
        let session = try PeerSession(context, serverArguments: serving(pki.server, ["-tls1_2"]))
        #expect(failure(session.handshake)?.code == .protocolMismatch)
    }

    @Test func presentsItsCertificateToAMutualTLSServer() throws {
        let context = try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile), clientCertificate: pki.client)
        let session = try PeerSession(context, serverArguments: serving(pki.server, requiringClientCertificates))
        #expect(session.handshake == .done(0))
        #expect(try session.connection.send("ping\n") == .done(5))
        #expect(try session.connection.receive(until: "\n").text == "gnip\n")
        #expect(session.peer.output.contains("Peer certificate: CN = partner-client, O = Partner"))
    }

    /// In TLS 1.3 the client's handshake ends before the server has judged its certificate: the
    /// refusal arrives as an alert, read after the handshake, and must say what it means.
    @Test(arguments: ["stranger-client", "none"])
    func aClientCertificateTheServerRefusesSurfacesAtTheFirstRead(certificate: String) throws {
        let context = try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile),
                                           clientCertificate: certificate == "none" ? nil : pki.files(certificate))
        let session = try PeerSession(context, serverArguments: serving(pki.server, requiringClientCertificates))
        #expect(session.handshake == .done(0))
        _ = try session.connection.send("ping\n")
        let error = failure(try session.connection.receive().result)
        #expect(error?.code == .certificateRejectedByPeer)
        #expect(error?.message.contains("refused Steward's client certificate") == true)
    }

    @Test func theSystemBundleDoesNotTrustAPrivateCA() throws {
        let context = try TLSClientContext(trust: .systemBundle)
        let session = try PeerSession(context, serverArguments: serving(pki.server))
        #expect(failure(session.handshake)?.code == .untrustedCertificate)
    }

    @Test func anEmptyServerNameIsRefusedBeforeAnyByteIsSent() throws {
        let context = try trustingTestCA
        let error = tlsError { _ = try context.makeConnection(socket: 0, serverName: "") }
        #expect(error?.code == .invalidHostName)
    }
}

extension String {
    /// The rest of the first line that starts with `prefix`, or "".
    func lines(startingWith prefix: String) -> String {
        split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) } ?? ""
    }
}

import Foundation
import StewardCore
@testable import StewardDaemon
import StewardTLS
import Testing

/// A partner file's `[Transport]` becomes the TLS client context Steward uses for that partner:
/// its CA file, its client certificate for mutual TLS, its pins and its profile, proven against
/// a real `openssl s_server` that demands a client certificate.
@Suite struct PartnerTransportTests {
    let pki: TestPKI
    init() throws { pki = try TestPKI.get() }

    private func partnerFile(_ transport: String) throws -> PartnerFile {
        let text = """
            [Partner]
            Name=mathfacts
            Type=district
            Connector=probe
            Contact=privacy@mathfacts.example
            [Agreement]
            Signed=2026-01-01
            Expires=2099-01-01
            Attests=coppa
            DataElements=given_name
            [Grant]
            Schools=all
            Roles=student
            Fields=given_name
            [Transport]
            \(transport)
            """
        let (file, problems) = PartnerFile.read(path: pki.folder + "/mathfacts.conf", text: text)
        #expect(problems.isEmpty, "\(problems)")
        return try #require(file)
    }

    /// s_server that requires a client certificate from the test CA.
    private var mutualTLSServer: [String] {
        ["-cert", pki.server.chainFile, "-key", pki.server.privateKeyFile, "-rev",
         "-Verify", "1", "-verify_return_error", "-CAfile", pki.caFile]
    }

    @Test func theFilesCAClientCertificateAndPinsConnectToAServerThatDemandsMutualTLS() throws {
        let partner = try partnerFile("""
            CAFile=ca.pem
            ClientCertificate=client.pem
            ClientKey=client.key
            Pins=\(try pki.pin(of: pki.server)) sha256/\(Data(repeating: 7, count: 32).base64EncodedString())
            Profile=modern
            """)
        #expect(partner.transport.caFile == pki.caFile, "relative paths resolve against the partner file's folder")
        let context = try PartnerDirectory.makeTransport(partner.transport)
        #expect(context.profile == .modern)
        let session = try PeerSession(context, serverArguments: mutualTLSServer)
        #expect(session.handshake == .done(0))
        #expect(try session.connection.send("ping\n") == .done(5))
        #expect(try session.connection.receive(until: "\n").text == "gnip\n")
        #expect(session.peer.output.contains("Peer certificate: CN = partner-client, O = Partner"))
    }

    @Test func aPinThatDoesNotMatchTheServerRefusesIt() throws {
        let partner = try partnerFile("CAFile=\(pki.caFile)\nPins=sha256/\(Data(repeating: 1, count: 32).base64EncodedString())")
        let session = try PeerSession(try PartnerDirectory.makeTransport(partner.transport),
                                      serverArguments: ["-cert", pki.server.chainFile, "-key", pki.server.privateKeyFile])
        #expect(failure(session.handshake)?.code == .pinMismatch)
    }

    /// In TLS 1.3 the refusal arrives as an alert at the first read after the handshake.
    @Test func withoutItsClientCertificateTheServerRefusesSteward() throws {
        let partner = try partnerFile("CAFile=\(pki.caFile)")
        let session = try PeerSession(try PartnerDirectory.makeTransport(partner.transport), serverArguments: mutualTLSServer)
        #expect(session.handshake == .done(0))
        _ = try? session.connection.send("ping\n")
        #expect(failure(try session.connection.receive().result) != nil)
    }

    @Test func aMissingCAFileOrAMalformedPinIsNamed() throws {
        let missing = tlsError { _ = try PartnerDirectory.makeTransport(try partnerFile("CAFile=/nonexistent/ca.pem").transport) }
        #expect(missing?.file == "/nonexistent/ca.pem")
        let malformed = tlsError { _ = try PartnerDirectory.makeTransport(try partnerFile("Pins=not-a-pin").transport) }
        #expect(malformed?.code == .invalidPin)
    }
}

import Foundation
import StewardTLS
import Testing

/// Building contexts from files: every mistake an operator can make is named, with its file.
@Suite struct TLSContextTests {
    let pki: TestPKI
    init() throws { pki = try TestPKI.get() }

    private func serverError(_ certificate: TLSCertificateFiles, clientCAFile: String? = nil) -> TLSError? {
        tlsError { _ = try TLSServerContext(certificate: certificate, clientCAFile: clientCAFile) }
    }

    private func with(chain: String? = nil, key: String? = nil) -> TLSCertificateFiles {
        TLSCertificateFiles(chainFile: chain ?? pki.server.chainFile, privateKeyFile: key ?? pki.server.privateKeyFile)
    }

    @Test func aMissingFileIsUnreadable() {
        let missing = pki.path("missing.pem")
        let error = serverError(with(chain: missing))
        #expect(error?.code == .unreadableFile)
        #expect(error?.file == missing)
        #expect(error?.message.contains("No such file or directory") == true)
    }

    @Test func aFileThatIsNotPEMIsNamedAsSuch() throws {
        let text = try pki.write("this is not a certificate\n", named: "text.pem")
        #expect(serverError(with(chain: text))?.code == .notPEM)
        #expect(serverError(with(chain: text))?.file == text)

        let der = pki.path("server.der")
        try openssl(["x509", "-in", pki.server.chainFile, "-outform", "der", "-out", der])
        let error = serverError(with(chain: der))
        #expect(error?.code == .notPEM)
        #expect(error?.message.contains("DER") == true)
    }

    @Test func aKeyGivenAsTheCertificateHoldsNoCertificate() {
        let error = serverError(with(chain: pki.server.privateKeyFile))
        #expect(error?.code == .notPEM)
        #expect(error?.message.contains("no CERTIFICATE block") == true)
    }

    @Test func aDamagedCertificateBlockIsNamed() throws {
        let damaged = try pki.write("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
                                    named: "damaged.pem")
        let error = serverError(with(chain: damaged))
        #expect(error?.code == .notPEM)
        #expect(error?.message.contains("does not decode") == true)
    }

    @Test func anEncryptedKeyIsRefusedWithoutPrompting() throws {
        let encrypted = pki.path("encrypted.key")
        try openssl(["pkey", "-in", pki.server.privateKeyFile, "-aes256", "-passout", "pass:secret", "-out", encrypted])
        let error = serverError(with(key: encrypted))
        #expect(error?.code == .encryptedPrivateKey)
        #expect(error?.file == encrypted)
    }

    @Test func aKeyOfAnotherCertificateIsAMismatch() {
        let error = serverError(with(key: pki.serverRSA.privateKeyFile))
        #expect(error?.code == .keyMismatch)
        #expect(error?.file == pki.serverRSA.privateKeyFile)
    }

    @Test func anExpiredCertificateIsRefusedAtBuildTime() {
        let error = serverError(pki.expiredServer)
        #expect(error?.code == .certificateExpired)
        #expect(error?.file == pki.expiredServer.chainFile)
        #expect(error?.message.contains("renewed certificate") == true)
    }

    @Test func anExpiredClientCertificateIsRefusedToo() {
        let error = tlsError {
            _ = try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile), clientCertificate: pki.expiredServer)
        }
        #expect(error?.code == .certificateExpired)
    }

    @Test func aCAFileWithoutCertificatesIsInvalid() throws {
        let empty = try pki.write("# no certificates here\n-----BEGIN NOTHING-----\n-----END NOTHING-----\n", named: "empty-ca.pem")
        let serverSide = serverError(pki.server, clientCAFile: empty)
        #expect(serverSide?.code == .invalidCertificateAuthority)
        #expect(serverSide?.file == empty)
        let clientSide = tlsError { _ = try TLSClientContext(trust: .certificateAuthorities(file: empty)) }
        #expect(clientSide?.code == .invalidCertificateAuthority)
        #expect(serverError(pki.server, clientCAFile: pki.path("missing-ca.pem"))?.code == .unreadableFile)
    }

    @Test func aChainFileKeepsItsIntermediates() throws {
        let chain = try pki.write(String(contentsOfFile: pki.server.chainFile, encoding: .utf8)
                                    + String(contentsOfFile: pki.caFile, encoding: .utf8), named: "chain.pem")
        let context = try TLSServerContext(certificate: with(chain: chain))
        #expect(context.certificateExpiry.map { $0 > Date() } == true)
        #expect(!context.requiresClientCertificate)
    }

    @Test func pinsAreReadAsBase64OrHex() throws {
        let pin = try TLSPin(parsing: pki.pin(of: pki.server))
        #expect(try TLSPin(parsing: pin.hex) == pin)
        #expect(try TLSPin(parsing: pin.hex.uppercased()) == pin)
        let colons = stride(from: 0, to: 64, by: 2).map { i in
            String(pin.hex[pin.hex.index(pin.hex.startIndex, offsetBy: i)...].prefix(2))
        }.joined(separator: ":")
        #expect(try TLSPin(parsing: colons) == pin)
        #expect(try TLSPin(parsing: "sha256//" + pin.base64) == pin)
        #expect(pin.description == "sha256/" + pin.base64)
    }

    @Test(arguments: ["", "abc", String(repeating: "a", count: 63), String(repeating: "g", count: 64), "c2hvcnQ="])
    func aMalformedPinIsRefused(text: String) {
        #expect(tlsError { _ = try TLSPin(parsing: text) }?.code == .invalidPin)
    }
}

import Foundation
import StewardControl
import StewardHarness
import Testing

/// A test CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI.
struct TestCertificates {
    let folder: String
    var caFile: String { folder + "/ca.pem" }
    var certificateFile: String { folder + "/server.pem" }
    var keyFile: String { folder + "/server.key" }

    init(in folder: String) throws {
        self.folder = folder
        try run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                "-subj", "/CN=Steward Test CA", "-keyout", folder + "/ca.key", "-out", caFile)
        try issue(commonName: "steward-one")
    }

    /// (Re)issues the server certificate with `commonName`, as a renewal would.
    func issue(commonName: String) throws {
        try run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=\(commonName)",
                "-keyout", keyFile, "-out", folder + "/server.csr")
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: folder + "/ext.cnf", atomically: true, encoding: .utf8)
        try run("x509", "-req", "-in", folder + "/server.csr", "-CA", caFile, "-CAkey", folder + "/ca.key", "-CAcreateserial",
                "-days", "30", "-extfile", folder + "/ext.cnf", "-out", certificateFile)
    }

    private func run(_ arguments: String...) throws {
        let result = try runCommand("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw SandboxError("openssl \(arguments[0]) failed: \(result.stderr)") }
    }
}

@Suite struct PartnerListenerTests {
    func startWithAPI(_ extra: (TestCertificates) -> String = { _ in "" }) throws -> (RunningDaemonWithAPI) {
        let sandbox = try Sandbox(roles: People.roles)
        let certificates = try TestCertificates(in: sandbox.root)
        try sandbox.writeConfiguration(roles: People.roles, extra: """

            [API]
            Listen=127.0.0.1:0
            Certificate=server.pem
            PrivateKey=server.key
            \(extra(certificates))
            """)
        let daemon = try DaemonProcess(sandbox: sandbox)
        try daemon.waitUntilReady()
        let status = try daemon.client().call(ControlRequest(method: ControlMethod.status.rawValue)).decode(ServiceStatus.self)
        return RunningDaemonWithAPI(sandbox: sandbox, daemon: daemon, certificates: certificates, port: status.api?.port ?? 0)
    }

    struct RunningDaemonWithAPI {
        let sandbox: Sandbox
        let daemon: DaemonProcess
        let certificates: TestCertificates
        let port: Int

        func finish() {
            #expect(daemon.stop() == 0, "\(daemon.log)")
            sandbox.remove()
        }

        /// The subject of the certificate a new TLS connection is served.
        func servedSubject() throws -> String {
            let result = try runCommand("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", certificates.caFile,
                                                            "-verify_return_error", "-brief"], input: "")
            return result.stderr.split(separator: "\n").first { $0.hasPrefix("Peer certificate:") }.map(String.init)
                ?? "no peer certificate: \(result.stderr)"
        }
    }

    @Test func thePartnerListenerServesHTTPSUnderThePolicyAndCountsInStatus() throws {
        let api = try startWithAPI()
        defer { api.finish() }
        #expect(api.port > 0)
        let curl = try runCommand("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}",
                                                    "--cacert", api.certificates.caFile, "https://127.0.0.1:\(api.port)/ims/oneroster/v1p1/users"])
        #expect(curl.stdout == "404 0", "\(curl.stdout) \(curl.stderr)")
        let old = try runCommand("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(api.port)", "-tls1_1",
                                                     "-cipher", "DEFAULT@SECLEVEL=0", "-brief"], input: "")
        #expect(old.status != 0)
        let plain = try runCommand("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(api.port)/"])
        #expect(plain.stdout != "200" && plain.stdout != "404")
        let status = try runCommand(Binaries.stewardctl, ["--socket", api.sandbox.socketPath, "status"])
        #expect(status.stdout.contains("Partner API:  https on 127.0.0.1:0 (port \(api.port), intermediate)"))
        let json = try runCommand(Binaries.stewardctl, ["--socket", api.sandbox.socketPath, "--json", "status"])
        let decoded = try JSONDecoder().decode(ServiceStatus.self, from: Data(json.stdout.utf8))
        #expect((decoded.api?.acceptedConnections ?? 0) >= 2 && (decoded.api?.responses ?? 0) >= 1)
        #expect((decoded.api?.failedHandshakes ?? 0) >= 1)
    }

    @Test func reloadServesARenewedCertificateWithoutARestart() throws {
        let api = try startWithAPI()
        defer { api.finish() }
        #expect(try api.servedSubject().contains("steward-one"))
        try api.certificates.issue(commonName: "steward-two")
        let reload = try runCommand(Binaries.stewardctl, ["--socket", api.sandbox.socketPath, "reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(reload.stdout.contains("partner listener certificate loaded again"))
        #expect(try api.servedSubject().contains("steward-two"))
    }

    @Test func aKeyThatDoesNotMatchIsAConfigurationErrorNamingItsLine() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        let certificates = try TestCertificates(in: sandbox.root)
        try sandbox.writeConfiguration(roles: People.roles, extra: """

            [API]
            Listen=127.0.0.1:8443
            Certificate=server.pem
            PrivateKey=ca.key
            Profile=legacy
            """)
        _ = certificates
        let result = try runCommand(Binaries.stewardd, ["--check-config", "--config", sandbox.configPath])
        #expect(result.status == 78)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let text = try String(contentsOfFile: sandbox.configPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let keyLine = (text.firstIndex { $0.hasPrefix("PrivateKey=") } ?? 0) + 1
        let profileLine = (text.firstIndex { $0.hasPrefix("Profile=") } ?? 0) + 1
        #expect(lines.contains { $0.hasPrefix("\(sandbox.configPath):\(profileLine): Profile: 'legacy' is not a TLS profile") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(sandbox.configPath):\(keyLine): PrivateKey: the private key does not belong") }, "\(lines)")
    }

    @Test func plainHTTPIsRefusedAtConfigurationTime() throws {
        let sandbox = try Sandbox(roles: People.roles)
        defer { sandbox.remove() }
        _ = try TestCertificates(in: sandbox.root)
        try sandbox.writeConfiguration(roles: People.roles, extra: "\n[API]\nListen=http://0.0.0.0:8080\nCertificate=server.pem\nPrivateKey=server.key\n")
        let result = try runCommand(Binaries.stewardd, ["--check-config", "--config", sandbox.configPath])
        #expect(result.status == 78)
        #expect(result.stdout.contains("Listen: plain http is never served; Steward listens for HTTPS only"))
    }
}

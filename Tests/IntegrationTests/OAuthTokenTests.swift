import Foundation
import StewardControl
import StewardHarness
import Testing

/// The OAuth 2.0 token endpoint (client credentials) on the real partner listener, with curl as
/// the partner, and `stewardctl partners credentials` as the district's side.
@Suite(.serialized) struct OAuthTokenTests {
    /// A daemon with the partner listener and `partners` in its folder; mutual TLS when `clientCA`.
    final class Listener {
        let sandbox: Sandbox
        let daemon: DaemonProcess
        let certificates: TestCertificates
        let port: Int

        init(partners: [PartnerFileText], mutualTLS: Bool = false) throws {
            sandbox = try Sandbox(roles: People.roles)
            certificates = try TestCertificates(in: sandbox.root)
            for partner in partners {
                try sandbox.write(partner.text, to: sandbox.partnerDirectory + "/\(partner.name).conf")
            }
            try sandbox.writeConfiguration(roles: People.roles, extra: """

                [API]
                Listen=127.0.0.1:0
                Certificate=server.pem
                PrivateKey=server.key
                TokenLifetime=30m
                \(mutualTLS ? "ClientCA=ca.pem" : "")
                """)
            daemon = try DaemonProcess(sandbox: sandbox)
            try daemon.waitUntilReady()
            let status = try daemon.client().call(ControlRequest(method: ControlMethod.status.rawValue)).decode(ServiceStatus.self)
            port = status.api?.port ?? 0
        }

        func finish() {
            #expect(daemon.stop() == 0, "\(daemon.log)")
            sandbox.remove()
        }

        func ctl(_ arguments: String..., as user: (uid: UInt32, gid: UInt32, groups: [UInt32])? = nil) throws -> CommandResult {
            try runCommand(Binaries.stewardctl, ["--socket", sandbox.socketPath] + arguments, asUser: user)
        }

        func rotate(_ partner: String) throws -> PartnerCredentials {
            let result = try ctl("partners", "credentials", partner, "--rotate", "--json")
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONDecoder().decode(PartnerCredentials.self, from: Data(result.stdout.utf8))
        }

        /// POSTs to /oauth/token with curl; returns the status, the headers and the JSON body.
        func token(_ arguments: [String], client: (certificate: String, key: String)? = nil) throws -> (status: Int, headers: String, body: [String: Any]) {
            var words = ["-s", "-D", "-", "--cacert", certificates.caFile, "-X", "POST", "https://127.0.0.1:\(port)/oauth/token"]
            if let client { words += ["--cert", client.certificate, "--key", client.key] }
            let result = try runCommand("/usr/bin/curl", ["-S"] + words + arguments)
            let parts = result.stdout.components(separatedBy: "\r\n\r\n")
            let status = Int(parts[0].split(separator: " ").dropFirst().first ?? "") ?? 0
            let body = (try? JSONSerialization.jsonObject(with: Data((parts.last ?? "").utf8))) as? [String: Any] ?? [:]
            // No answer at all: what curl said instead, for the failure's message.
            return (status, status == 0 ? "curl exited \(result.status): \(result.stderr)" : parts[0], body)
        }
    }

    static let form = ["-d", "grant_type=client_credentials"]

    @Test func aPartnerGetsABearerTokenWithBasicOrFormCredentialsAndOnlyItsScopes() throws {
        let listener = try Listener(partners: [.district("mathfacts")])
        defer { listener.finish() }
        let credentials = try listener.rotate("mathfacts")
        let id = try #require(credentials.clientId), secret = try #require(credentials.clientSecret)

        let basic = try listener.token(["-u", "\(id):\(secret)"] + Self.form)
        #expect(basic.status == 200, "\(basic)")
        #expect(basic.body["token_type"] as? String == "Bearer")
        #expect(basic.body["expires_in"] as? Int == 1800)
        let token = try #require(basic.body["access_token"] as? String)
        #expect(token.count >= 43)
        #expect(basic.headers.lowercased().contains("cache-control: no-store"))
        #expect((basic.body["scope"] as? String)?.contains("roster-demographics") == false, "no demographic field is granted")

        let body = try listener.token(Self.form + ["-d", "client_id=\(id)", "--data-urlencode", "client_secret=\(secret)",
                                                   "-d", "scope=roster-core.readonly"])
        #expect(body.status == 200, "\(body)")
        #expect(body.body["scope"] as? String == "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly")

        let demographics = try listener.token(["-u", "\(id):\(secret)", "-d", "scope=roster-demographics.readonly"] + Self.form)
        #expect(demographics.status == 400 && demographics.body["error"] as? String == "invalid_scope", "\(demographics)")

        // Only hashes are kept: neither the secret nor the token is anywhere in the database file.
        let database = try Data(contentsOf: URL(fileURLWithPath: listener.sandbox.databasePath))
            + ((try? Data(contentsOf: URL(fileURLWithPath: listener.sandbox.databasePath + "-wal"))) ?? Data())
        #expect(database.range(of: Data(secret.utf8)) == nil)
        #expect(database.range(of: Data(token.utf8)) == nil)

        let audit = try listener.ctl("audit", "--json")
        #expect(audit.stdout.contains("oauth.token") && audit.stdout.contains("steward.Partners.Credentials"))
        #expect(!audit.stdout.contains(secret) && !audit.stdout.contains(token))
    }

    @Test func wrongRotatedOrMissingCredentialsAre401AndMalformedRequests400() throws {
        let listener = try Listener(partners: [.district("mathfacts")])
        defer { listener.finish() }
        let first = try listener.rotate("mathfacts")
        let id = try #require(first.clientId), secret = try #require(first.clientSecret)
        #expect(try listener.token(["-u", "\(id):\(secret)"] + Self.form).status == 200)

        let wrong = try listener.token(["-u", "\(id):not-the-secret"] + Self.form)
        #expect(wrong.status == 401 && wrong.body["error"] as? String == "invalid_client")
        #expect(wrong.headers.contains("WWW-Authenticate: Basic"))
        #expect(try listener.token(Self.form).status == 401, "no credentials")

        let second = try listener.rotate("mathfacts")
        #expect(second.clientId != id)
        #expect(try listener.token(["-u", "\(id):\(secret)"] + Self.form).status == 401, "the rotated secret fails at once")
        #expect(try listener.token(["-u", "\(second.clientId!):\(second.clientSecret!)"] + Self.form).status == 200)

        let password = try listener.token(["-u", "\(second.clientId!):\(second.clientSecret!)", "-d", "grant_type=password"])
        #expect(password.status == 400 && password.body["error"] as? String == "unsupported_grant_type")
        let both = try listener.token(["-u", "\(second.clientId!):\(second.clientSecret!)", "-d", "client_id=x", "-d", "client_secret=y"] + Self.form)
        #expect(both.status == 400 && both.body["error"] as? String == "invalid_request")
        let json = try listener.token(["-u", "\(second.clientId!):\(second.clientSecret!)", "-H", "Content-Type: application/json",
                                       "-d", "{\"grant_type\":\"client_credentials\"}"])
        #expect(json.status == 400 && json.body["error"] as? String == "invalid_request")

        // Guessing is cut off after ten failures a minute from one address, before any hashing:
        // three failed above, seven more here, then even the right secret waits.
        var statuses: [Int] = []
        for _ in 0..<7 { statuses.append(try listener.token(["-u", "\(id):guess"] + Self.form).status) }
        let limited = try listener.token(["-u", "\(second.clientId!):\(second.clientSecret!)"] + Self.form)
        #expect(statuses.allSatisfy { $0 == 401 })
        #expect(limited.status == 429 && limited.headers.contains("Retry-After:"), "\(limited)")
    }

    @Test func anInactivePartnerGetsNoTokenAndOnlyAStewardRotates() throws {
        var dormant = PartnerFileText.district("dormant")
        dormant.enabled = "no"
        let listener = try Listener(partners: [dormant])
        defer { listener.finish() }
        let credentials = try listener.rotate("dormant")
        let refused = try listener.token(["-u", "\(credentials.clientId!):\(credentials.clientSecret!)"] + Self.form)
        #expect(refused.status == 400 && refused.body["error"] as? String == "unauthorized_client", "\(refused)")

        guard isRoot else { return }
        let shown = try listener.ctl("partners", "credentials", "dormant", "--json", as: People.anOperator)
        #expect(shown.status == 0 && shown.stdout.contains(credentials.clientId!) && !shown.stdout.contains("clientSecret"))
        #expect(try listener.ctl("partners", "credentials", "dormant", "--rotate", as: People.anOperator).status == 77)
        #expect(try listener.ctl("partners", "credentials", "dormant", "--rotate", as: People.aSteward).status == 0)
    }

    @Test func aPartnerBoundToItsClientCertificateNeedsItAsWellAsItsSecret() throws {
        // The listener's CA issues both client certificates, so both pass the TLS layer; only
        // the pin in the partner file tells the partner's from another's.
        let listener = try Listener(partners: [], mutualTLS: true)
        defer { listener.finish() }
        let ours = try Self.clientCertificate("ours", certificates: listener.certificates)
        let theirs = try Self.clientCertificate("theirs", certificates: listener.certificates)
        let pin = try runCommand("/bin/sh", ["-c", "openssl x509 -in \(ours.certificate) -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var bound = PartnerFileText.district("mathfacts")
        bound.access = ["ClientCertificatePins=sha256/\(pin)"]
        try listener.sandbox.write(bound.text, to: listener.sandbox.partnerDirectory + "/mathfacts.conf")
        #expect(try listener.ctl("reload").status == 0)
        let credentials = try listener.rotate("mathfacts")
        let auth = ["-u", "\(credentials.clientId!):\(credentials.clientSecret!)"] + Self.form
        let refused = try listener.token(auth, client: theirs), accepted = try listener.token(auth, client: ours)
        #expect(refused.status == 401, "\(refused)")
        #expect(accepted.status == 200, "\(accepted)")
    }

    /// A client certificate issued by the test CA.
    static func clientCertificate(_ name: String, certificates: TestCertificates) throws -> (certificate: String, key: String) {
        let folder = certificates.folder
        for arguments in [
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=\(name)",
             "-keyout", "\(folder)/\(name).key", "-out", "\(folder)/\(name).csr"],
            ["x509", "-req", "-in", "\(folder)/\(name).csr", "-CA", certificates.caFile, "-CAkey", "\(folder)/ca.key",
             "-CAcreateserial", "-days", "30", "-out", "\(folder)/\(name).pem"],
        ] {
            let result = try runCommand("/usr/bin/openssl", arguments)
            guard result.status == 0 else { throw SandboxError("openssl: \(result.stderr)") }
        }
        return ("\(folder)/\(name).pem", "\(folder)/\(name).key")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardTLS
import Testing

@Suite("HTTPSClient")
struct ClientTests {
    // MARK: Requests

    @Test func getReturnsTheBodyAndTheTLSFactsForTheAuditLog() throws {
        let pki = try TestPKI.get()
        let partner = try PartnerServer()
        let response = try testClient().send(HTTPSClient.Request(url: partner.url("/x?page=2")))
        #expect(response.status == .ok)
        #expect(String(decoding: response.body, as: UTF8.self) == "routed /x\n")
        #expect(response.tls.protocolVersion == "TLSv1.3")
        #expect(!response.tls.cipher.isEmpty)
        #expect(response.tls.peerCertificate?.fingerprintSHA256 == (try pki.fingerprint(of: pki.server)))
    }

    @Test(arguments: ["127.0.0.1", "[::1]"])
    func aNumericAddressIsDialledAndVerifiedAgainstTheCertificate(host: String) throws {
        let partner = try PartnerServer(address: "\(host):0")
        let response = try testClient().send(HTTPSClient.Request(url: URL(string: "https://\(host):\(partner.port)/x")!))
        #expect(response.status == .ok)
    }

    @Test func postDeliversTheBody() throws {
        let partner = try PartnerServer()
        let body = [UInt8](repeating: UInt8(ascii: "r"), count: 100_000)
        let response = try testClient().send(HTTPSClient.Request(method: .post, url: partner.url("/upload"), body: body))
        #expect(response.status == .ok)
        #expect(String(decoding: response.body, as: UTF8.self) == "received 100000 bytes\n")
    }

    @Test func aSecondRequestReusesTheKeptAliveConnection() throws {
        let partner = try PartnerServer()
        let client = try testClient()
        let first = try client.send(HTTPSClient.Request(url: partner.url("/x")))
        let second = try client.send(HTTPSClient.Request(url: partner.url("/echo")))
        #expect(!first.reusedConnection)
        #expect(second.reusedConnection)
        #expect(String(decoding: second.body, as: UTF8.self) == "path=/echo\n")
        #expect(partner.events.wait { $0.served.count == 2 })
        #expect(partner.events.accepted == 1)
    }

    @Test func aKeptAliveConnectionTheServerClosedIsReplaced() throws {
        let partner = try PartnerServer()
        let client = try testClient()
        _ = try client.send(HTTPSClient.Request(url: partner.url("/x")))
        // The quick server limits close an idle connection after a second.
        #expect(partner.events.wait { $0.closings.count == 1 })
        let again = try client.send(HTTPSClient.Request(method: .put, url: partner.url("/x")))
        #expect(again.status == .methodNotAllowed)
        #expect(!again.reusedConnection)
        #expect(partner.events.accepted == 2)
    }

    @Test func anIdempotentRequestIsRetriedOnceWhenTheKeptAliveConnectionDrops() throws {
        let partner = try DroppingPartner(plan: [1, 1])
        let client = try testClient()
        let url = URL(string: "https://localhost:\(partner.port)/roster")!
        _ = try client.send(HTTPSClient.Request(url: url))
        let retried = try client.send(HTTPSClient.Request(url: url))
        #expect(String(decoding: retried.body, as: UTF8.self) == "ok")
        #expect(!retried.reusedConnection)
        #expect(partner.accepted == 2)
    }

    @Test func aPostIsNotResentWhenTheKeptAliveConnectionDropsAfterItWasSent() throws {
        let partner = try DroppingPartner(plan: [1])
        let client = try testClient()
        let url = URL(string: "https://localhost:\(partner.port)/roster")!
        _ = try client.send(HTTPSClient.Request(url: url))
        let error = failure(of: HTTPSClient.Request(method: .post, url: url, body: Array("1 record".utf8)), by: client)
        #expect(error?.code == .connectionClosed)
        #expect(partner.accepted == 1)
    }

    // MARK: Refusals

    @Test func plainHTTPIsRefusedBeforeAnythingIsSent() throws {
        let listener = try LoopbackListener()
        let error = failure(of: HTTPSClient.Request(url: URL(string: "http://127.0.0.1:\(listener.port)/x")!), by: try testClient())
        #expect(error?.code == .plainHTTPRefused)
        #expect(error?.message.contains("https://") == true)
    }

    @Test func aServerFromAnUnknownCAFailsTLS() throws {
        let pki = try TestPKI.get()
        let partner = try PartnerServer()
        let client = try testClient(caFile: pki.otherCAFile)
        let error = failure(of: HTTPSClient.Request(url: partner.url("/x")), by: client)
        #expect(error?.code == .tlsFailed)
        #expect(error?.tlsError?.code == .untrustedCertificate)
        #expect(error?.origin == "https://localhost:\(partner.port)")
    }

    @Test func aCertificateForAnotherHostFailsTLS() throws {
        let pki = try TestPKI.get()
        let partner = try PartnerServer(certificate: pki.elsewhereServer)
        let error = failure(of: HTTPSClient.Request(url: partner.url("/x")), by: try testClient())
        #expect(error?.code == .tlsFailed)
        #expect(error?.tlsError?.code == .hostMismatch)
    }

    @Test func aBodyOverTheLimitIsRefused() throws {
        let partner = try PartnerServer()
        var limits = HTTPSClient.Limits.quick
        limits.http.maximumBodyLength = 1024 * 1024
        let error = failure(of: HTTPSClient.Request(url: partner.url("/large")), by: try testClient(limits: limits))
        #expect(error?.code == .responseTooLarge)
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        // The kernel completes the TCP handshake into the backlog; nobody ever accepts or answers.
        let listener = try LoopbackListener()
        var limits = HTTPSClient.Limits.quick
        limits.ioTimeout = .milliseconds(500)
        let client = try testClient(limits: limits)
        let started = ContinuousClock.now
        let error = failure(of: HTTPSClient.Request(url: URL(string: "https://127.0.0.1:\(listener.port)/x")!), by: client)
        #expect(error?.code == .timeout)
        #expect(started.duration(to: .now) < .seconds(4))
    }

    @Test func aClosedPortFailsToConnect() throws {
        let port = try LoopbackListener().port
        let error = failure(of: HTTPSClient.Request(url: URL(string: "https://127.0.0.1:\(port)/x")!), by: try testClient())
        #expect(error?.code == .connectFailed)
        #expect(error?.origin == "https://127.0.0.1:\(port)")
    }

    @Test func anUnknownHostFailsToResolve() throws {
        let error = failure(of: HTTPSClient.Request(url: URL(string: "https://no-such-host.invalid/x")!), by: try testClient())
        #expect(error?.code == .dnsFailed)
    }

    // MARK: Redirects

    @Test func aRedirectIsReturnedUnfollowedByDefault() throws {
        let partner = try PartnerServer()
        let response = try testClient().send(HTTPSClient.Request(url: partner.url("/moved/secure")))
        #expect(response.status == .found)
        #expect(response.headers["Location"] == "/x")
    }

    @Test func anHTTPSRedirectIsFollowedWhenAsked() throws {
        let partner = try PartnerServer()
        let request = HTTPSClient.Request(url: partner.url("/moved/secure"), redirectPolicy: HTTPRedirectPolicy(maximumRedirects: 2))
        let response = try testClient().send(request)
        #expect(response.status == .ok)
        #expect(String(decoding: response.body, as: UTF8.self) == "routed /x\n")
        #expect(response.url.path == "/x")
    }

    @Test func aRedirectToPlainHTTPIsRefused() throws {
        let partner = try PartnerServer()
        let request = HTTPSClient.Request(url: partner.url("/moved/plain"),
                                          redirectPolicy: HTTPRedirectPolicy(maximumRedirects: 2, allowsOtherHosts: true))
        let error = failure(of: request, by: try testClient())
        #expect(error?.code == .redirectRefused)
        #expect(error?.message.contains("not-https") == true)
    }
}

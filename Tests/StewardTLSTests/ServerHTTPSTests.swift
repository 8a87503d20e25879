import Foundation
import StewardHarness
import StewardTLS
import Testing

/// The HTTPS server as partners meet it: real curl and openssl clients, the test CA, real sockets.
@Suite struct ServerHTTPSTests {
    let pki: TestPKI
    init() throws { pki = try TestPKI.get() }

    @Test func curlGetsTheRoutedResponseWithADate() throws {
        let server = try TestServer()
        let result = try curl(["--include", "https://localhost:\(server.port)/x"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(result.stdout.contains("\r\nDate: "))
        #expect(result.stdout.contains("\r\nContent-Length: 10\r\n"))
        #expect(result.stdout.hasSuffix("\r\n\r\nrouted /x\n"))
        #expect(server.events.wait { $0.served.map(\.status) == [200] })
        let summary = try #require(server.events.served.first)
        #expect(summary.method == .get && summary.path == "/x" && summary.bytesSent == result.stdout.utf8.count)
    }

    @Test func twoURLsInOneCurlShareOneKeepAliveConnection() throws {
        let server = try TestServer()
        let result = try curl(["--verbose", "https://localhost:\(server.port)/x", "https://localhost:\(server.port)/echo/2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "routed /x\npath=/echo/2\n")
        #expect(result.stderr.contains("Re-using existing connection"))
        #expect(server.events.accepted == 1)
        #expect(server.server.statistics.responses == 2)
    }

    @Test func anUnroutedPathIs404() throws {
        let server = try TestServer()
        let result = try curl(["--write-out", "%{http_code}", "--output", "/dev/null", "https://localhost:\(server.port)/nowhere"])
        #expect(result.stdout == "404")
    }

    @Test func servesTLS13AndTLS12AndTellsTheHandlerWhich() throws {
        let server = try TestServer()
        let tls13 = try curl(["--tlsv1.3", "https://localhost:\(server.port)/whoami"])
        #expect(tls13.stdout.contains("version=TLSv1.3\n"), "\(tls13.stderr)")
        #expect(tls13.stdout.contains("client=127.0.0.1:"))
        #expect(tls13.stdout.contains("subject=-\n"))
        let tls12 = try curl(["--tlsv1.2", "--tls-max", "1.2", "https://localhost:\(server.port)/whoami"])
        #expect(tls12.stdout.contains("version=TLSv1.2\ncipher=ECDHE-ECDSA-"), "\(tls12.stderr)")
    }

    @Test func refusesATLS11Client() throws {
        let server = try TestServer()
        // SECLEVEL=0 makes OpenSSL 3's s_client really offer TLS 1.1.
        let peer = try OpenSSLPeer.client(port: server.port, ["-brief", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(peer.exitStatus() != 0)
        #expect(peer.output.contains("alert protocol version"))
        #expect(server.events.wait { $0.closings.count == 1 })
        let closing = try #require(server.events.closings.first)
        #expect(closing.reason == .handshakeFailed)
        #expect(closing.detail?.hasPrefix("protocol-mismatch") == true)
        #expect(server.server.statistics.failedHandshakes == 1)
    }

    @Test func mutualTLSServesOnlyClientsWithACertificateAndTellsTheHandlerWhoTheyAre() throws {
        let server = try TestServer(TLSServerContext(certificate: pki.server, clientCAFile: pki.caFile))
        let url = "https://localhost:\(server.port)/whoami"

        let anonymous = try curl([url])
        #expect(anonymous.status != 0)
        #expect(!anonymous.stdout.contains("version="))

        let partner = try curl(["--cert", pki.client.chainFile, "--key", pki.client.privateKeyFile, url])
        #expect(partner.status == 0, "\(partner.stderr)")
        #expect(partner.stdout.contains("subject=O=Partner,CN=partner-client\n"))
        #expect(partner.stdout.contains("spki=\(try pki.pin(of: pki.client))\n"))

        #expect(server.events.wait { $0.closings.count == 2 })
        #expect(server.events.closings.contains { $0.reason == .handshakeFailed || $0.reason == .tlsFailed })
    }

    @Test func aReloadServesNewConnectionsWithTheNewCertificateWhileAnOpenOneKeepsWorking() throws {
        let server = try TestServer()
        let open = try RawHTTPSClient.connected(port: server.port)
        try open.send("GET /x HTTP/1.1\nHost: localhost\n\n")
        #expect(try open.responses().responses.map(\.status) == [200])

        server.contexts.replace(with: try TLSServerContext(certificate: pki.serverRSA))
        let fresh = try curl(["--verbose", "https://localhost:\(server.port)/x"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.stderr.contains("subject: CN=localhost-rsa"))

        try open.send("GET /echo/again HTTP/1.1\nHost: localhost\n\n")
        let again = try open.responses()
        #expect(again.responses.map(\.body) == [Array("path=/echo/again\n".utf8)])
        #expect(open.connection.info?.peerCertificate?.subject == "CN=localhost")
        #expect(server.events.accepted == 2)
    }

    @Test func aWildcardAddressServesIPv4ClientsAndNamesThemPlainly() throws {
        let server = try TestServer(address: "*:0")
        let result = try curl(["https://127.0.0.1:\(server.port)/whoami"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("client=127.0.0.1:"))
    }

    @Test func servesOnIPv6Loopback() throws {
        let server: TestServer
        do {
            server = try TestServer(address: "[::1]:0")
        } catch let error as HTTPSServerError where error.code == .addressUnavailable || error.code == .socketFailed {
            return  // This machine has no IPv6 loopback.
        }
        let result = try curl(["https://[::1]:\(server.port)/whoami"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("client=[::1]:"))
    }

    @Test func aLargeResponseArrivesWhole() throws {
        let server = try TestServer()
        let result = try curl(["--output", "/dev/null", "--write-out", "%{size_download}", "https://localhost:\(server.port)/large"])
        #expect(result.stdout == String(largeBody.count), "\(result.stderr)")
    }

    @Test func aBodyIsReadAndAnExpectationOfContinueIsAnswered() throws {
        let server = try TestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("POST /upload HTTP/1.1\nHost: localhost\nContent-Length: 5\nExpect: 100-continue\n\n")
        let interim = try client.connection.receive(until: "\r\n\r\n")
        #expect(interim.text == "HTTP/1.1 100 Continue\r\n\r\n")
        _ = try client.connection.send("hello")
        let answer = try client.responses(to: .post)
        #expect(answer.responses.map(\.body) == [Array("received 5 bytes\n".utf8)])
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndTheLastOneCloses() throws {
        let server = try TestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /echo/a HTTP/1.1\nHost: localhost\n\nGET /echo/b HTTP/1.1\nHost: localhost\n\n"
                            + "GET /echo/c HTTP/1.1\nHost: localhost\nConnection: close\n\n")
        let result = try client.responses(3)
        #expect(result.responses.map { String(decoding: $0.body, as: UTF8.self) } == ["path=/echo/a\n", "path=/echo/b\n", "path=/echo/c\n"])
        #expect(result.responses.map(\.closesConnection) == [false, false, true])
        #expect(try client.end() == .closed(.closeNotify))
        #expect(server.events.wait { $0.closings.map(\.reason) == [.finished] })
        #expect(server.events.closings.first?.requests == 3)
    }

    @Test func aBodyNearTheLimitArrivesWholeOverManyReads() throws {
        let server = try TestServer()
        let upload = pki.path("upload-\(UUID().uuidString).bin")
        try Data(repeating: 0x62, count: 900 * 1024).write(to: URL(fileURLWithPath: upload))
        defer { try? FileManager.default.removeItem(atPath: upload) }
        let result = try curl(["--header", "Expect:", "--data-binary", "@" + upload, "https://localhost:\(server.port)/upload"])
        #expect(result.stdout == "received \(900 * 1024) bytes\n", "\(result.stderr)")
    }

    @Test func aThousandPipelinedRequestsAreAllAnsweredInOrder() throws {
        let server = try TestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send((0..<1000).map { "GET /echo/\($0) HTTP/1.1\nHost: localhost\n\n" }.joined())
        let result = try client.responses(1000)
        #expect(result.responses.map { String(decoding: $0.body, as: UTF8.self) } == (0..<1000).map { "path=/echo/\($0)\n" })
    }

    /// Behind a large answer the socket cannot take at once, the server stops answering (and
    /// reading) until the client has read it, then goes on in order.
    @Test func pipelinedRequestsBehindALargeAnswerWaitForIt() throws {
        var limits = HTTPSServer.Limits.quick
        limits.maximumQueuedResponseBytes = 16 * 1024
        limits.sendTimeout = .seconds(10)
        let server = try TestServer(limits: limits)
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send(["/large", "/echo/after", "/large", "/echo/end"].map { "GET \($0) HTTP/1.1\nHost: localhost\n\n" }.joined())
        let result = try client.responses(4)
        #expect(result.responses.map(\.body.count) == [largeBody.count, 17, largeBody.count, 15])
        #expect(result.responses.last?.body == Array("path=/echo/end\n".utf8))
    }

    @Test func anHTTP10ClientAskingForKeepAliveIsToldItIsKept() throws {
        let server = try TestServer()
        let client = try RawHTTPSClient.connected(port: server.port)
        try client.send("GET /x HTTP/1.0\nConnection: keep-alive\n\nGET /x HTTP/1.0\n\n")
        let result = try client.responses(2)
        #expect(result.responses.map { $0.headers["Connection"] } == ["keep-alive", "close"])
        #expect(try client.end() == .closed(.closeNotify))
    }
}

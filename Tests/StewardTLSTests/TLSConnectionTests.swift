#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardHarness
import StewardTLS
import Testing

/// A Swift client and a Swift server on the two ends of a socket pair, driven by one poll()
/// loop: the non-blocking paths that an openssl CLI peer rarely exercises.
@Suite struct TLSConnectionTests {
    let pki: TestPKI
    let server: TLSConnection
    let client: TLSConnection
    private let sockets: SocketPair

    init() throws {
        pki = try TestPKI.get()
        sockets = try SocketPair()
        server = try TLSServerContext(certificate: pki.server).makeConnection(socket: sockets.first)
        client = try TLSClientContext(trust: .certificateAuthorities(file: pki.caFile))
            .makeConnection(socket: sockets.second, serverName: "localhost")
    }

    /// One MiB from the client, echoed back by the server as it arrives: writes stop on a full
    /// socket buffer and resume, reads stop at their limit and resume, nothing is lost or reordered.
    @Test func largeTransfersCrossBothWaysThroughFullSocketBuffers() throws {
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 13) }
        var clientSent = 0, echoed: [UInt8] = []
        var serverInbox: [UInt8] = [], serverSent = 0
        var clientWaitedToWrite = false
        let deadline = Date().addingTimeInterval(20)
        while echoed.count < payload.count {
            guard Date() < deadline else { throw SandboxError("the transfer stalled at \(echoed.count) bytes") }
            if clientSent < payload.count {
                let result = client.write(payload[clientSent...])
                if case .done(let count) = result { clientSent += count }
                if result == .wantWrite { clientWaitedToWrite = true }
                try expectProgressOrWait(result)
            }
            try expectProgressOrWait(server.read(into: &serverInbox))
            if serverSent < serverInbox.count {
                let result = server.write(serverInbox[serverSent...])
                if case .done(let count) = result { serverSent += count }
                try expectProgressOrWait(result)
            }
            try expectProgressOrWait(client.read(into: &echoed))
            sockets.waitForEither(timeout: 0.01)
        }
        #expect(echoed == payload)
        #expect(clientWaitedToWrite, "the socket buffer filled up")
        #expect(client.info?.protocolVersion == "TLSv1.3")
    }

    @Test func anEndWithoutCloseNotifyIsReportedAsCut() throws {
        try completeBothHandshakes()
        #expect(try client.send("hello") == .done(5))
        #expect(try server.receive(until: "hello").text == "hello")
        sockets.hangUpSecond()
        var rest: [UInt8] = []
        #expect(try drive(server) { server.read(into: &rest) } == .closed(.unexpectedEOF))
        #expect(server.shutdown() == .done(0), "nothing is sent on a cut connection")
    }

    @Test func closeNotifyEndsOnlyThePeersDirection() throws {
        try completeBothHandshakes()
        #expect(try drive(client) { client.shutdown() } == .done(0))
        var received: [UInt8] = []
        #expect(try drive(server) { server.read(into: &received) } == .closed(.closeNotify))
        #expect(try server.send("late reply") == .done(10))
        #expect(try client.receive(until: "late reply").text == "late reply")
    }

    private func completeBothHandshakes() throws {
        let deadline = Date().addingTimeInterval(15)
        while !client.isHandshakeComplete || !server.isHandshakeComplete {
            guard Date() < deadline else { throw SandboxError("the handshakes did not finish") }
            try expectProgressOrWait(client.handshake())
            try expectProgressOrWait(server.handshake())
            sockets.waitForEither(timeout: 0.01)
        }
    }

    private func expectProgressOrWait(_ result: TLSResult) throws {
        switch result {
        case .done, .wantRead, .wantWrite: return
        default: throw SandboxError("unexpected \(result)")
        }
    }
}

/// A connected pair of non-blocking stream sockets, closed with the test.
final class SocketPair {
    let first: Int32
    let second: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw SandboxError("socketpair failed: \(String(cString: strerror(errno)))")
        }
        ends.forEach(makeNonBlocking)
        (first, second) = (ends[0], ends[1])
    }

    deinit {
        close(first)
        close(second)
    }

    /// Ends the second end's sending without a TLS goodbye, as a crashed peer would.
    func hangUpSecond() {
        Glibc.shutdown(second, Int32(SHUT_WR))
    }

    /// Sleeps until either end has something to read, or `timeout` passes.
    func waitForEither(timeout: TimeInterval) {
        var entries = [first, second].map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = poll(&entries, 2, Int32(timeout * 1000))
    }
}

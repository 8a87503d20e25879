#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardHarness
import StewardTLS
import Synchronization
import Testing

/// A throwaway PKI made with the openssl CLI once per test run: two CAs and the certificates the
/// tests present or meet. Nothing is mocked: every peer is a real OpenSSL.
final class TestPKI: Sendable {
    let folder: String

    private static let shared = Result { try TestPKI() }
    static func get() throws -> TestPKI { try shared.get() }

    func path(_ name: String) -> String { folder + "/" + name }
    func files(_ name: String) -> TLSCertificateFiles {
        TLSCertificateFiles(chainFile: path(name + ".pem"), privateKeyFile: path(name + ".key"))
    }

    /// The CA the tests trust.
    var caFile: String { path("ca.pem") }
    /// A CA nobody trusts.
    var otherCAFile: String { path("other-ca.pem") }
    /// EC P-256, for localhost, 127.0.0.1 and ::1.
    var server: TLSCertificateFiles { files("server") }
    /// RSA 2048, same names, subject CN=localhost-rsa.
    var serverRSA: TLSCertificateFiles { files("server-rsa") }
    /// Right names, validity over in 2020.
    var expiredServer: TLSCertificateFiles { files("expired") }
    /// Valid, but for elsewhere.example only.
    var elsewhereServer: TLSCertificateFiles { files("elsewhere") }
    /// Valid, but named by the partial wildcard ww*.steward.test.
    var partialWildcardServer: TLSCertificateFiles { files("partial-wildcard") }
    /// Right names, issued by the other CA.
    var strangerServer: TLSCertificateFiles { files("stranger") }
    /// A client certificate (CN=partner-client) issued by the trusted CA.
    var client: TLSCertificateFiles { files("client") }
    /// A client certificate issued by the other CA.
    var strangerClient: TLSCertificateFiles { files("stranger-client") }

    private init() throws {
        let template = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-tls-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw SandboxError("mkdtemp failed") }
        folder = String(cString: made)
        Self.removeAtExit(folder)
        try FileManager.default.createDirectory(atPath: folder + "/issued", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: path("index.txt")))
        try "01\n".write(toFile: path("serial"), atomically: true, encoding: .utf8)
        try caConfiguration.write(toFile: path("ca.cnf"), atomically: true, encoding: .utf8)

        try makeAuthority("ca", subject: "/CN=Steward Test CA")
        try makeAuthority("other-ca", subject: "/CN=Other Test CA")
        try issue("server", subject: "/CN=localhost", extensions: "server")
        try issue("server-rsa", subject: "/CN=localhost-rsa", key: .rsa, extensions: "server")
        try issue("expired", subject: "/CN=localhost", extensions: "server",
                  validity: ["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"])
        try issue("elsewhere", subject: "/CN=elsewhere.example", extensions: "elsewhere")
        try issue("partial-wildcard", subject: "/CN=partial wildcard", extensions: "partial_wildcard")
        try issue("stranger", subject: "/CN=localhost", extensions: "server", by: "other-ca")
        try issue("client", subject: "/CN=partner-client/O=Partner", extensions: "client")
        try issue("stranger-client", subject: "/CN=stranger-client", extensions: "client", by: "other-ca")
    }

    enum KeyKind { case ec, rsa }

    /// The PKI lives as long as the test process; its folder goes when the process exits.
    private static func removeAtExit(_ folder: String) {
        createdFolder.withLock { $0 = folder }
        atexit {
            if let folder = TestPKI.createdFolder.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: folder) }
        }
    }

    private static let createdFolder = Mutex<String?>(nil)

    private func makeAuthority(_ name: String, subject: String) throws {
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", path(name + ".key"), "-out", path(name + ".pem"), "-subj", subject, "-days", "2",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func issue(_ name: String, subject: String, key: KeyKind = .ec, extensions: String, by authority: String = "ca",
                       validity: [String] = ["-days", "2"]) throws {
        let newKey = key == .ec ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"]
        try openssl(["req", "-new"] + newKey + ["-nodes", "-keyout", path(name + ".key"), "-out", path(name + ".csr"),
                                                "-subj", subject])
        try openssl(["ca", "-batch", "-config", path("ca.cnf"), "-cert", path(authority + ".pem"),
                     "-keyfile", path(authority + ".key"), "-in", path(name + ".csr"), "-out", path(name + ".pem"),
                     "-notext", "-extensions", extensions] + validity)
    }

    private var caConfiguration: String {
        """
        [ca]
        default_ca = test
        [test]
        database = \(path("index.txt"))
        serial = \(path("serial"))
        new_certs_dir = \(path("issued"))
        default_md = sha256
        policy = anything
        unique_subject = no
        [anything]
        commonName = supplied
        organizationName = optional
        [server]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature,keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
        [elsewhere]
        basicConstraints = critical,CA:FALSE
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:elsewhere.example
        [partial_wildcard]
        basicConstraints = critical,CA:FALSE
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:ww*.steward.test
        [client]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth

        """
    }

    /// The SPKI SHA-256 of a certificate as the openssl CLI computes it, in base64.
    func pin(of certificate: TLSCertificateFiles) throws -> String {
        let pipeline = "openssl x509 -in '\(certificate.chainFile)' -pubkey -noout | openssl pkey -pubin -outform der"
            + " | openssl dgst -sha256 -binary | base64"
        let result = try runCommand("/bin/sh", ["-c", pipeline], timeout: 30)
        guard result.status == 0 else { throw SandboxError("pin pipeline failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The certificate's SHA-256 fingerprint as the openssl CLI shows it, as lowercase hex.
    func fingerprint(of certificate: TLSCertificateFiles) throws -> String {
        let result = try runCommand(opensslPath, ["x509", "-in", certificate.chainFile, "-noout", "-fingerprint", "-sha256"])
        let hex = result.stdout.split(separator: "=").last.map(String.init) ?? ""
        return hex.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Writes `text` to a new file in the PKI folder and returns its path.
    func write(_ text: String, named name: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }
}

let opensslPath = "/usr/bin/openssl"

func openssl(_ arguments: [String]) throws {
    let result = try runCommand(opensslPath, arguments, timeout: 30)
    guard result.status == 0 else {
        throw SandboxError("openssl \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
    }
}

/// The TLSError a throwing call ends with, or nil.
func tlsError(_ body: () throws -> Void) -> TLSError? {
    do {
        try body()
        return nil
    } catch {
        return error as? TLSError
    }
}

/// The process ignores SIGPIPE as stewardd does: OpenSSL writes to sockets whose peer may be gone.
private let sigpipeIgnored: Void = {
    signal(SIGPIPE, SIG_IGN)
}()

// MARK: Sockets

/// A listening TCP socket on 127.0.0.1 on a port the kernel chose.
final class LoopbackListener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        sigpipeIgnored
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SandboxError("socket failed: \(String(cString: strerror(errno)))") }
        var address = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw SandboxError("cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit {
        close(descriptor)
    }

    /// The next connection, as a non-blocking socket.
    func accept(timeout: TimeInterval = 15) throws -> Int32 {
        guard wait(for: descriptor, events: Int16(POLLIN), timeout: timeout) else {
            throw SandboxError("no connection arrived on port \(port) within \(Int(timeout)) s")
        }
        let connection = Glibc.accept(descriptor, nil, nil)
        guard connection >= 0 else { throw SandboxError("accept failed: \(String(cString: strerror(errno)))") }
        makeNonBlocking(connection)
        return connection
    }
}

func loopbackAddress(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    return address
}

/// A non-blocking socket connected to 127.0.0.1:`port`; nil when nothing listens there.
func connectLoopback(port: UInt16) throws -> Int32? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw SandboxError("socket failed: \(String(cString: strerror(errno)))") }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(descriptor)
        return nil
    }
    makeNonBlocking(descriptor)
    return descriptor
}

/// Non-blocking and close-on-exec, as the daemon's sockets are.
func makeNonBlocking(_ descriptor: Int32) {
    _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
}

/// Waits until `descriptor` has one of `events`; false on timeout.
func wait(for descriptor: Int32, events: Int16, timeout: TimeInterval) -> Bool {
    var entry = pollfd(fd: descriptor, events: events, revents: 0)
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let milliseconds = Int32(min(max(deadline.timeIntervalSinceNow, 0), 0.2) * 1000) + 1
        if poll(&entry, 1, milliseconds) > 0 { return true }
    }
    return false
}

// MARK: Driving a connection

/// Runs `operation` until it stops asking to wait for the socket: the poll() loop an event loop
/// would be. Throws when it still waits after `timeout`.
func drive(_ connection: TLSConnection, timeout: TimeInterval = 15, _ operation: () -> TLSResult) throws -> TLSResult {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let result = operation()
        let events: Int16
        switch result {
        case .wantRead: events = Int16(POLLIN)
        case .wantWrite: events = Int16(POLLOUT)
        default: return result
        }
        guard Date() < deadline else { throw SandboxError("the connection still waits after \(Int(timeout)) s") }
        _ = wait(for: connection.socket, events: events, timeout: min(0.2, max(deadline.timeIntervalSinceNow, 0.001)))
    }
}

extension TLSConnection {
    /// The handshake to its end.
    func completeHandshake() throws -> TLSResult {
        try drive(self) { handshake() }
    }

    /// Sends all of `text`.
    func send(_ text: String) throws -> TLSResult {
        var rest = Array(text.utf8)[...]
        while !rest.isEmpty {
            let result = try drive(self) { write(rest) }
            guard case .done(let count) = result else { return result }
            rest = rest.dropFirst(count)
        }
        return .done(text.utf8.count)
    }

    /// Reads until the text received contains `expected`, or the connection ends; returns what
    /// was received and the result that ended the reading (`.done` when `expected` arrived).
    func receive(until expected: String? = nil) throws -> (text: String, result: TLSResult) {
        var buffer: [UInt8] = []
        while true {
            let result = try drive(self) { read(into: &buffer) }
            let text = String(decoding: buffer, as: UTF8.self)
            guard case .done = result else { return (text, result) }
            if let expected, text.contains(expected) { return (text, result) }
        }
    }
}

/// The error a result failed with, or nil.
func failure(_ result: TLSResult) -> TLSError? {
    if case .failed(let error) = result { return error }
    return nil
}

// MARK: OpenSSL peers

/// An `openssl s_client` or `s_server` child whose standard input the test writes and whose
/// output goes to a log file.
final class OpenSSLPeer {
    let child: ChildProcess
    let logPath: String
    private var input: Int32?

    init(_ arguments: [String]) throws {
        sigpipeIgnored
        let pki = try TestPKI.get()
        logPath = pki.path("peer-\(UUID().uuidString).log")
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw SandboxError("cannot open \(logPath)") }
        defer { close(log) }
        let (readEnd, writeEnd) = try closeOnExecPipe()
        defer { close(readEnd) }
        do {
            child = try ChildProcess(executable: opensslPath, arguments: arguments, environment: [:],
                                     stdin: readEnd, stdout: log, stderr: log)
        } catch {
            close(writeEnd)
            throw error
        }
        input = writeEnd
    }

    /// `openssl s_client` connecting to 127.0.0.1:`port`; it stays connected until its input closes.
    static func client(port: UInt16, _ arguments: [String]) throws -> OpenSSLPeer {
        try OpenSSLPeer(["s_client", "-connect", "127.0.0.1:\(port)", "-no_ign_eof"] + arguments)
    }

    /// `openssl s_server` for one connection on a free loopback port, once it listens.
    static func server(_ arguments: [String]) throws -> (peer: OpenSSLPeer, port: UInt16) {
        for _ in 0..<5 {
            // The kernel's choice is free now; another process may take it before s_server does.
            let port = try LoopbackListener().port
            let peer = try OpenSSLPeer(["s_server", "-accept", "127.0.0.1:\(port)", "-naccept", "1"] + arguments)
            if peer.waitForOutput("ACCEPT") { return (peer, port) }
        }
        throw SandboxError("openssl s_server did not start listening")
    }

    deinit {
        closeInput()
        child.wait(timeout: 0)
    }

    var output: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Waits until the output contains `text`; false when the process ended first or on timeout.
    func waitForOutput(_ text: String, timeout: TimeInterval = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let running = child.isRunning
            if output.contains(text) { return true }
            if !running { return false }
            usleep(5_000)
        }
        return false
    }

    /// Writes `text` to the peer's standard input.
    func type(_ text: String) {
        guard let input else { return }
        _ = Array(text.utf8).withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
    }

    /// Closes the peer's standard input: s_client then sends close_notify and exits.
    func closeInput() {
        if let input { close(input) }
        input = nil
    }

    /// Waits for the exit and returns the status.
    func exitStatus(timeout: TimeInterval = 15) -> Int32 {
        child.wait(timeout: timeout)
    }
}

// MARK: Sessions

/// A Swift connection to a real OpenSSL peer, with the handshake driven. A failed handshake
/// closes the socket at once, as the daemon would: s_client lingers for half a second while its
/// peer keeps the connection open.
final class PeerSession {
    let peer: OpenSSLPeer
    let socket: Int32
    let connection: TLSConnection
    let handshake: TLSResult
    private var isOpen = true

    /// A Swift server, and `openssl s_client` with `clientArguments` connecting to it.
    convenience init(_ context: TLSServerContext, clientArguments: [String]) throws {
        let listener = try LoopbackListener()
        let peer = try OpenSSLPeer.client(port: listener.port, clientArguments)
        try self.init(peer: peer, socket: listener.accept()) { try context.makeConnection(socket: $0) }
    }

    /// `openssl s_server` with `serverArguments`, and a Swift client connecting to it as `serverName`.
    convenience init(_ context: TLSClientContext, serverName: String = "localhost", serverArguments: [String]) throws {
        let server = try OpenSSLPeer.server(serverArguments)
        guard let socket = try connectLoopback(port: server.port) else {
            throw SandboxError("cannot connect to s_server: \(server.peer.output)")
        }
        try self.init(peer: server.peer, socket: socket) { try context.makeConnection(socket: $0, serverName: serverName) }
    }

    private init(peer: OpenSSLPeer, socket: Int32, connecting: (Int32) throws -> TLSConnection) throws {
        self.peer = peer
        self.socket = socket
        do {
            connection = try connecting(socket)
            handshake = try connection.completeHandshake()
        } catch {
            close(socket)
            throw error
        }
        if handshake != .done(0) { hangUp() }
    }

    /// Closes the socket.
    func hangUp() {
        if isOpen { close(socket) }
        isOpen = false
    }

    deinit {
        hangUp()
    }
}

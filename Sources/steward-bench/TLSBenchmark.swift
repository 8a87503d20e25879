#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardControl
import StewardHarness

/// `steward-bench tls`: Steward's TLS listener side by side with the reference servers on the
/// same ECDSA P-256 certificate: full TLS 1.3 handshakes against `openssl s_server`, and HTTPS
/// keep-alive throughput of a 64 KiB JSON body against nginx.
struct TLSBenchmark {
    static let benchmark = Benchmark(
        name: "tls",
        summary: """
            TLS 1.3 full handshakes/s (openssl s_time -new) on stewardd's [API] listener vs openssl s_server,
            and HTTPS keep-alive requests/s and MB/s of a 64 KiB JSON body (wrk) on Steward's HTTPS server
            in-process vs nginx, all on one ECDSA P-256 certificate. Needs openssl, nginx and wrk on PATH
            (apt-get install openssl nginx wrk); not run in CI.
            """,
        options: [
            ("--s-time N", "seconds each openssl s_time run lasts (default 5)"),
            ("--rounds N", "handshake rounds, Steward and s_server taking turns; the medians are compared (default 3)"),
            ("--seconds N", "seconds each wrk run lasts (default 10)"),
            ("--connections N", "wrk connections (default 32)"),
            ("--threads N", "wrk threads (default 2)"),
        ]
    ) { options in
        let benchmark = TLSBenchmark(
            handshakeSeconds: try options.integer("--s-time", default: 5, in: 1...600),
            rounds: try options.integer("--rounds", default: 3, in: 1...99),
            load: WrkLoad(seconds: try options.integer("--seconds", default: 10, in: 1...600),
                          connections: try options.integer("--connections", default: 32, in: 1...10_000),
                          threads: try options.integer("--threads", default: 2, in: 1...256)))
        try options.finish()
        print(try benchmark.measure().text)
    }

    var handshakeSeconds: Int
    var rounds: Int
    var load: WrkLoad

    func measure() throws -> TLSReport {
        try ExternalTools.require(["openssl", "nginx", "wrk"])
        let scratch: Sandbox
        do { scratch = try Sandbox(prefix: "steward-bench-tls") }
        catch { throw BenchFailure("could not make a scratch folder: \(error)") }
        Leftovers.shared.add(scratch)
        defer { Leftovers.shared.remove(scratch) }
        let certificate = try BenchCertificate(in: scratch.root)
        // Both servers run at once and take turns, so a passing disturbance of the machine falls
        // on both; the medians of the rounds are compared.
        let (stewardHandshakes, opensslHandshakes) = try APIDaemon.run(in: scratch, certificate: certificate, modules: ["probe"]) {
            _, stewardPort in
            try OpenSSLServer.run(certificate: certificate) { opensslPort in
                var steward: [HandshakeRate] = [], openssl: [HandshakeRate] = []
                for _ in 0..<rounds {
                    steward.append(try HandshakeRate.measure(port: stewardPort, seconds: handshakeSeconds))
                    openssl.append(try HandshakeRate.measure(port: opensslPort, seconds: handshakeSeconds))
                }
                func median(_ rates: [HandshakeRate]) -> HandshakeRate { rates.sorted { $0.perSecond < $1.perSecond }[rates.count / 2] }
                return (median(steward), median(openssl))
            }
        }
        let body = JSONBody.make(bytes: JSONBody.size)
        let stewardThroughput = try InProcessHTTPSServer.run(certificate: certificate, path: JSONBody.path, body: body) { port in
            try load.measure(port: port, path: JSONBody.path, expectedBytes: body.count)
        }
        let nginxThroughput = try NginxServer.run(in: scratch.root, certificate: certificate, path: JSONBody.path, body: body) { port in
            try load.measure(port: port, path: JSONBody.path, expectedBytes: body.count)
        }
        return TLSReport(handshakeSeconds: handshakeSeconds, rounds: rounds, load: load,
                         handshakes: (stewardHandshakes, opensslHandshakes), throughput: (stewardThroughput, nginxThroughput))
    }
}

/// A self-signed ECDSA P-256 certificate for 127.0.0.1, made with the openssl CLI.
struct BenchCertificate {
    let certificateFile: String
    let keyFile: String

    init(in folder: String) throws {
        certificateFile = folder + "/bench.pem"
        keyFile = folder + "/bench.key"
        try ExternalTools.check("openssl req", runCommand("/usr/bin/env", [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "7",
            "-subj", "/CN=steward-bench", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", keyFile, "-out", certificateFile,
        ]))
        chmod(keyFile, 0o644)  // nginx's workers and stewardd read it; it guards nothing but the bench.
    }
}

/// Full TLS 1.3 handshakes per second from one `openssl s_time -new` client.
struct HandshakeRate {
    var connections: Int
    var seconds: Int

    var perSecond: Double { Double(connections) / Double(seconds) }

    static func measure(port: Int, seconds: Int) throws -> HandshakeRate {
        let result = try runCommand("/usr/bin/env", [
            "openssl", "s_time", "-connect", "127.0.0.1:\(port)", "-new", "-tls1_3", "-time", String(seconds),
        ], timeout: TimeInterval(seconds + 30))
        // "2862 connections in 1.10s; 2601.82 connections/user sec, bytes read 0"
        let line = result.stdout.split(separator: "\n").first { $0.contains("connections in") && $0.contains("user sec") }
        guard result.status == 0, let line, let count = line.split(separator: " ").first.flatMap({ Int($0) }) else {
            throw BenchFailure("openssl s_time against port \(port) failed (status \(result.status)): \(result.stderr.suffix(600))")
        }
        return HandshakeRate(connections: count, seconds: seconds)
    }
}

/// `openssl s_server` with the same certificate, TLS 1.3 only, on a free port.
enum OpenSSLServer {
    static func run<T>(certificate: BenchCertificate, _ body: (_ port: Int) throws -> T) throws -> T {
        let port = try FreePort.pick()
        let server = try ExternalTools.spawn("openssl", [
            "s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate.certificateFile, "-key", certificate.keyFile,
            "-tls1_3", "-quiet",
        ])
        defer { ExternalTools.stop(server) }
        try FreePort.waitUntilListening(port, what: "openssl s_server", child: server)
        return try body(port)
    }
}

/// Finds ports for the reference servers and waits for them to listen.
enum FreePort {
    /// A port the kernel has just handed out for 127.0.0.1 and taken back.
    static func pick() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw BenchFailure("socket failed: \(String(cString: strerror(errno)))") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else { throw BenchFailure("could not bind a port on 127.0.0.1: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Polls until `port` accepts a TCP connection, for up to ten seconds.
    static func waitUntilListening(_ port: Int, what: String, child: ChildProcess) throws {
        for _ in 0..<200 {
            if accepts(port) { return }
            guard child.isRunning else { throw BenchFailure("\(what) exited with status \(child.wait()) before listening") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw BenchFailure("\(what) did not listen on 127.0.0.1:\(port) within 10 s")
    }

    private static func accepts(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// The reference programs the benchmark runs: found on PATH, started as children, stopped.
enum ExternalTools {
    static func require(_ names: [String]) throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        let missing = names.filter { name in
            !path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
        }
        guard missing.isEmpty else {
            throw BenchFailure("steward-bench tls needs \(missing.joined(separator: ", ")) on PATH: apt-get install -y \(missing.joined(separator: " "))")
        }
    }

    static func check(_ what: String, _ result: CommandResult) throws {
        guard result.status == 0 else { throw BenchFailure("\(what) failed (status \(result.status)): \(result.stderr.suffix(600))") }
    }

    /// Starts `name` from PATH with its input and output on /dev/null.
    static func spawn(_ name: String, _ arguments: [String]) throws -> ChildProcess {
        do {
            return try ChildProcess(executable: "/usr/bin/env", arguments: [name] + arguments,
                                    environment: ProcessInfo.processInfo.environment)
        } catch {
            throw BenchFailure("could not start \(name): \(error)")
        }
    }

    /// SIGTERM, then SIGKILL when it has not exited within five seconds.
    static func stop(_ child: ChildProcess) {
        child.send(SIGTERM)
        child.wait(timeout: 5)
    }
}

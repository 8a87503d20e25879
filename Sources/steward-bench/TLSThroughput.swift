import Foundation
import StewardHarness

/// The body both servers answer in the keep-alive run: a roster page of JSON, exactly `size` bytes.
enum JSONBody {
    static let size = 64 * 1024
    static let path = "/users.json"

    /// Synthetic user records, then a padding field that makes the document exactly `bytes` long.
    static func make(bytes: Int) -> [UInt8] {
        var records: [String] = []
        var length = 0
        let closing = "],\"pad\":\"\"}"
        for index in 1... {
            let record = "{\"sourcedId\":\"user-\(String(format: "%06d", index))\",\"status\":\"active\","
                + "\"role\":\"student\",\"givenName\":\"Given\(index)\",\"familyName\":\"Family\(index)\"}"
            let added = record.count + (records.isEmpty ? 0 : 1)
            if "{\"users\":[".count + length + added + closing.count > bytes { break }
            records.append(record)
            length += added
        }
        let head = "{\"users\":[" + records.joined(separator: ",") + "],\"pad\":\""
        let padding = String(repeating: " ", count: bytes - head.utf8.count - 2)
        return Array((head + padding + "\"}").utf8)
    }
}

/// One wrk run's settings, the same against every server.
struct WrkLoad {
    var seconds: Int
    var connections: Int
    var threads: Int

    var description: String { "wrk -t\(threads) -c\(connections) -d\(seconds)s" }

    /// Runs wrk against `https://127.0.0.1:port/path` after checking with one request that the
    /// server answers 200 with `expectedBytes` of body.
    func measure(port: Int, path: String, expectedBytes: Int) throws -> Throughput {
        let url = "https://127.0.0.1:\(port)\(path)"
        try Self.checkBody(url, expectedBytes: expectedBytes)
        let result = try runCommand("/usr/bin/env", [
            "wrk", "-t\(threads)", "-c\(connections)", "-d\(seconds)s", url,
        ], timeout: TimeInterval(seconds + 60))
        guard result.status == 0, let throughput = Throughput(wrkOutput: result.stdout) else {
            throw BenchFailure("wrk against \(url) failed (status \(result.status)): \(result.stdout) \(result.stderr)")
        }
        guard throughput.errors.isEmpty else {
            throw BenchFailure("wrk against \(url) saw errors: \(throughput.errors.joined(separator: "; "))")
        }
        return throughput
    }

    private static func checkBody(_ url: String, expectedBytes: Int) throws {
        let result = try runCommand("/usr/bin/env", ["curl", "-sk", "--tlsv1.3", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url])
        guard result.stdout == "200 \(expectedBytes)" else {
            throw BenchFailure("\(url) answered '\(result.stdout)' instead of '200 \(expectedBytes)': \(result.stderr)")
        }
    }
}

/// What wrk printed: requests and bytes per second, and any error lines.
struct Throughput {
    var requestsPerSecond: Double
    var bytesPerSecond: Double
    var errors: [String]

    /// Reads `Requests/sec:` and `Transfer/sec:` (`12.34MB`, in wrk's powers of 1024) and the
    /// `Socket errors` and `Non-2xx` lines.
    init?(wrkOutput: String) {
        var requests: Double?, bytes: Double?
        var errors: [String] = []
        for line in wrkOutput.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("Requests/sec:") { requests = Double(line.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces)) }
            if line.hasPrefix("Transfer/sec:") { bytes = Self.bytes(line.dropFirst("Transfer/sec:".count).trimmingCharacters(in: .whitespaces)) }
            if line.hasPrefix("Socket errors") || line.hasPrefix("Non-2xx") { errors.append(line) }
        }
        guard let requests, let bytes else { return nil }
        requestsPerSecond = requests
        bytesPerSecond = bytes
        self.errors = errors
    }

    private static func bytes(_ text: String) -> Double? {
        let units: [(String, Double)] = [("TB", 0x1p40), ("GB", 0x1p30), ("MB", 0x1p20), ("KB", 0x1p10), ("B", 1)]
        for (unit, factor) in units where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * factor }
        }
        return nil
    }
}

/// nginx as a child process on its own configuration in the scratch folder: the same
/// certificate, TLS 1.3 only, the body from a file, no access log, long keep-alive.
enum NginxServer {
    static func run<T>(in folder: String, certificate: BenchCertificate, path: String, body: [UInt8],
                       _ measure: (_ port: Int) throws -> T) throws -> T {
        let root = folder + "/nginx"
        try FileManager.default.createDirectory(atPath: root + "/www", withIntermediateDirectories: true)
        chmod(root, 0o755)
        chmod(root + "/www", 0o755)
        guard FileManager.default.createFile(atPath: root + "/www" + path, contents: Data(body), attributes: [.posixPermissions: 0o644]) else {
            throw BenchFailure("could not write nginx's copy of the body into \(root)/www")
        }
        let port = try FreePort.pick()
        let configuration = root + "/nginx.conf"
        try configurationText(root: root, port: port, certificate: certificate).write(toFile: configuration, atomically: true, encoding: .utf8)
        let nginx = try ExternalTools.spawn("nginx", ["-c", configuration, "-p", root, "-e", root + "/error.log", "-g", "daemon off;"])
        defer { ExternalTools.stop(nginx) }
        try FreePort.waitUntilListening(port, what: "nginx (see \(root)/error.log)", child: nginx)
        return try measure(port)
    }

    private static func configurationText(root: String, port: Int, certificate: BenchCertificate) -> String {
        """
        worker_processes auto;
        pid \(root)/nginx.pid;
        error_log \(root)/error.log;
        events { worker_connections 4096; }
        http {
            access_log off;
            default_type application/json;
            sendfile on;
            keepalive_timeout 120s;
            keepalive_requests 1000000;
            client_body_temp_path \(root)/tmp-body;
            proxy_temp_path \(root)/tmp-proxy;
            fastcgi_temp_path \(root)/tmp-fastcgi;
            uwsgi_temp_path \(root)/tmp-uwsgi;
            scgi_temp_path \(root)/tmp-scgi;
            server {
                listen 127.0.0.1:\(port) ssl;
                ssl_certificate \(certificate.certificateFile);
                ssl_certificate_key \(certificate.keyFile);
                ssl_protocols TLSv1.3;
                root \(root)/www;
            }
        }

        """
    }
}

/// What `tls` measured, as the block of figures it prints.
struct TLSReport {
    var handshakeSeconds: Int
    var rounds: Int
    var load: WrkLoad
    var handshakes: (steward: HandshakeRate, openssl: HandshakeRate)
    var throughput: (steward: Throughput, nginx: Throughput)

    var text: String {
        let h = handshakes, t = throughput
        let handshakeRatio = h.steward.perSecond / h.openssl.perSecond
        let requestRatio = t.steward.requestsPerSecond / t.nginx.requestsPerSecond
        let byteRatio = t.steward.bytesPerSecond / t.nginx.bytesPerSecond
        let labels = ["stewardd [API] listener:", "openssl s_server:", "Steward HTTPSServer (in-process):", "nginx:", "ratio Steward/reference:"]
        let width = labels.map(\.count).max()!
        return [
            "steward-bench tls (\(ProcessInfo.processInfo.activeProcessorCount) cores, \(StartupReport.buildKind), ECDSA P-256 certificate)",
            "TLS 1.3 full handshakes (openssl s_time -new -tls1_3, \(handshakeSeconds) s each, one client; median of \(rounds) rounds taken in turn):",
            Figure.line("  " + labels[0], width + 2, "\(Figure.grouped(Int(h.steward.perSecond.rounded()))) handshakes/s"),
            Figure.line("  " + labels[1], width + 2, "\(Figure.grouped(Int(h.openssl.perSecond.rounded()))) handshakes/s"),
            Figure.line("  " + labels[4], width + 2, String(format: "%.2f× (target ≥ 0.90×)", handshakeRatio)),
            "HTTPS keep-alive, GET of a \(JSONBody.size / 1024) KiB JSON body, TLS 1.3 (\(load.description)):",
            "  Steward's side is the daemon's HTTPS server class (StewardTLS.HTTPSServer) run in-process on one serial",
            "  queue per core, as stewardd runs it: stewardd's own routes answer from the roster, not a fixed body.",
            Figure.line("  " + labels[2], width + 2, Self.figures(t.steward)),
            Figure.line("  " + labels[3], width + 2, Self.figures(t.nginx)),
            Figure.line("  " + labels[4], width + 2, String(format: "%.2f× requests/s, %.2f× MB/s (target ≥ 0.60×)", requestRatio, byteRatio)),
        ].joined(separator: "\n")
    }

    private static func figures(_ throughput: Throughput) -> String {
        String(format: "%@ requests/s  %.1f MB/s", Figure.grouped(Int(throughput.requestsPerSecond.rounded())),
               throughput.bytesPerSecond / 1_048_576)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import StewardTLS

/// Steward's HTTPS server class, run in this process with one route that answers `body`, on one
/// serial queue per core as stewardd's event loops are: the daemon's own routes answer from the
/// roster, not with a fixed body (the pull benchmark measures them).
enum InProcessHTTPSServer {
    static func run<T>(certificate: BenchCertificate, path: String, body: [UInt8], _ measure: (_ port: Int) throws -> T) throws -> T {
        signal(SIGPIPE, SIG_IGN)  // HTTPSServer requires it: OpenSSL writes to sockets whose peer may be gone.
        let server: HTTPSServer
        do {
            let context = try TLSServerContext(certificate: TLSCertificateFiles(chainFile: certificate.certificateFile,
                                                                                privateKeyFile: certificate.keyFile))
            var router = HTTPRouter()
            let response = HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: body)
            router.register(path, methods: [.get]) { _, _ in response }
            let loops = (0..<ProcessInfo.processInfo.activeProcessorCount).map { DispatchQueue(label: "steward-bench.loop.\($0)") }
            server = try HTTPSServer(address: HTTPSServer.Address(host: .ipv4("127.0.0.1"), port: 0),
                                     contexts: TLSServerContextHolder(context), router: router, loops: loops)
        } catch {
            throw BenchFailure("could not start Steward's HTTPS server in-process: \(error)")
        }
        server.start()
        defer { server.stop(gracePeriod: .seconds(1)) }
        return try measure(Int(server.port))
    }
}

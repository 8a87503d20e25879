import Dispatch
import Foundation
import StewardControl
import StewardTLS
import Synchronization

/// One benchmark partner pulling as a real one would: its own HTTPS client (keep-alive, the
/// bench's certificate as its only trust), its own bearer token, paging through OneRoster 1.2
/// `users` by the `Link` header's `next` until there is none.
struct PartnerPuller: Sendable {
    static let firstPage = "/ims/oneroster/rostering/v1p2/users?limit=1000"

    var name: String
    var origin: String
    var client: HTTPSClient
    var token: String

    /// Rotates the partner's credentials over the control socket and gets a token from
    /// `/oauth/token` with them, on the connection the pages will then reuse.
    static func connect(_ name: String, port: Int, caFile: String, control: ControlClient) throws -> PartnerPuller {
        let reply = try control.call(try ControlRequest(method: ControlMethod.partnersCredentials.rawValue,
                                                        parameters: PartnerCredentialsParameters(name: name, rotate: true)))
        guard reply.error == nil, let credentials = try? reply.decode(PartnerCredentials.self),
              let id = credentials.clientId, let secret = credentials.clientSecret else {
            throw BenchFailure("rotating \(name)'s credentials failed: \(reply.errorMessage ?? "no client id or secret in the reply")")
        }
        let client: HTTPSClient
        do { client = HTTPSClient(context: try TLSClientContext(trust: .certificateAuthorities(file: caFile))) }
        catch { throw BenchFailure("could not build the TLS client for \(name): \(error)") }
        let origin = "https://127.0.0.1:\(port)"
        let basic = Data("\(id):\(secret)".utf8).base64EncodedString()
        let response = try send(client, HTTPSClient.Request(
            method: .post, url: try url(origin + "/oauth/token"),
            headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded"],
            body: Array("grant_type=client_credentials".utf8)), partner: name)
        guard response.status.code == 200, let token = try? jsonObject(response.body)["access_token"] as? String else {
            throw BenchFailure("/oauth/token answered \(name) with \(response.status.code): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return PartnerPuller(name: name, origin: origin, client: client, token: token)
    }

    /// Every page of the partner's `users`, from the first to the last `next` link, timed page by
    /// page; the records are counted from each page's `users` array, after its timing.
    func pageThrough() throws -> PullPass {
        var pass = PullPass()
        var next: String? = Self.firstPage
        let started = monotonicNanoseconds()
        while let path = next {
            let request = HTTPSClient.Request(url: try Self.url(origin + path), headers: ["Authorization": "Bearer \(token)"])
            let sent = monotonicNanoseconds()
            let response = try Self.send(client, request, partner: name)
            pass.pageNanoseconds.append(monotonicNanoseconds() - sent)
            guard response.status.code == 200 else {
                throw BenchFailure("GET \(path) answered \(name) with \(response.status.code): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
            }
            // The first page is parsed whole, as a check of its shape; the others are counted by
            // their users' `enabledUser` members (one each), so the rate measured is the daemon's,
            // not the bench's JSON parser's on the same two cores.
            if pass.records == 0 {
                guard let users = try Self.jsonObject(response.body)["users"] as? [Any], users.count == Self.count(Self.userMarker, in: response.body) else {
                    throw BenchFailure("GET \(path) answered \(name) with a body that has no users array, or users without enabledUser")
                }
            }
            pass.records += Self.count(Self.userMarker, in: response.body)
            pass.bytes += response.body.count
            if pass.total == nil { pass.total = response.headers["X-Total-Count"].flatMap { Int($0) } }
            if !response.reusedConnection { pass.newConnections += 1 }
            next = Self.nextLink(response.headers["Link"])
        }
        pass.nanoseconds = monotonicNanoseconds() - started
        guard pass.records == pass.total else {
            throw BenchFailure("\(name) paged \(pass.records) records, but the first page's X-Total-Count was \(pass.total.map(String.init) ?? "missing")")
        }
        return pass
    }

    /// The member every OneRoster user object has once.
    static let userMarker = Array("\"enabledUser\":".utf8)

    /// How many times `pattern` occurs in `bytes`.
    static func count(_ pattern: [UInt8], in bytes: [UInt8]) -> Int {
        guard let first = pattern.first, bytes.count >= pattern.count else { return 0 }
        var found = 0
        var index = 0
        let last = bytes.count - pattern.count
        while index <= last {
            if bytes[index] == first, bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                found += 1
                index += pattern.count
            } else {
                index += 1
            }
        }
        return found
    }

    /// The target of `rel="next"` in a `Link` header: `</path?limit=…&offset=…>; rel="next", …`.
    static func nextLink(_ header: String?) -> String? {
        for part in header?.components(separatedBy: ",") ?? [] where part.hasSuffix("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }

    private static func send(_ client: HTTPSClient, _ request: HTTPSClient.Request, partner: String) throws -> HTTPSClient.Response {
        do { return try client.send(request) }
        catch { throw BenchFailure("\(request.method) \(request.url.path) for \(partner) failed: \(error)") }
    }

    private static func url(_ text: String) throws -> URL {
        guard let url = URL(string: text) else { throw BenchFailure("'\(text)' is not a URL") }
        return url
    }

    private static func jsonObject(_ body: [UInt8]) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw BenchFailure("a response body is not a JSON object")
        }
        return object
    }
}

/// What one partner's walk through its `users` took.
struct PullPass: Sendable {
    var records = 0
    /// The first page's `X-Total-Count`: the size of the partner's view.
    var total: Int?
    var bytes = 0
    /// Connections opened during the walk: 0 when every page came on the kept-alive connection
    /// the token was fetched on.
    var newConnections = 0
    /// Each page, from the request to the whole response.
    var pageNanoseconds: [UInt64] = []
    /// The whole walk, parsing included.
    var nanoseconds: UInt64 = 0
}

/// Partners pulling at once, each on a thread of its own (their clients block in poll(2), so
/// never on Dispatch's pool, which has as many threads as cores).
struct PullRound {
    var passes: [PullPass]
    /// From starting the first thread to the last partner's last page.
    var nanoseconds: UInt64
    /// The CPU time stewardd used meanwhile (user and system, all its threads).
    var daemonCPUNanoseconds: UInt64 = 0

    var records: Int { passes.reduce(0) { $0 + $1.records } }
    var pages: Int { passes.reduce(0) { $0 + $1.pageNanoseconds.count } }
    var pageLatencies: Samples { Samples(nanoseconds: passes.flatMap(\.pageNanoseconds)) }
    var recordsPerSecond: Double { Double(records) / max(Double(nanoseconds) / 1e9, 1e-9) }

    static func run(_ pullers: [PartnerPuller]) throws -> PullRound {
        let outcomes = Outcomes()
        let finished = DispatchGroup()
        let started = monotonicNanoseconds()
        for (index, puller) in pullers.enumerated() {
            finished.enter()
            Thread {
                let outcome = Result { try puller.pageThrough() }
                outcomes.results.withLock { $0[index] = outcome }
                finished.leave()
            }.start()
        }
        finished.wait()
        let elapsed = monotonicNanoseconds() - started
        let results = outcomes.results.withLock { $0 }
        return PullRound(passes: try pullers.indices.map { index in
            guard let result = results[index] else { throw BenchFailure("partner \(pullers[index].name)'s thread reported nothing") }
            return try result.get()
        }, nanoseconds: elapsed)
    }

    /// Each thread's pass or failure, by partner index.
    private final class Outcomes: Sendable {
        let results = Mutex<[Int: Result<PullPass, any Error>]>([:])
    }
}

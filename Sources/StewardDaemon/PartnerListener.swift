import ConnectorKit
import Dispatch
import Foundation
import StewardControl
import StewardCore
import StewardStore
import StewardTLS

/// The HTTPS listener partners pull from (`[API]`): the TLS policy's server context, held so a
/// reload can swap the certificate without dropping open connections, and the server on the
/// daemon's event loops. It serves the OAuth token endpoint and the routes of the pull
/// connectors' modules. Every other path answers 404.
final class PartnerListener: Sendable {
    let settings: DaemonConfiguration.APISettings
    let contexts: TLSServerContextHolder
    let server: HTTPSServer
    /// Token requests are answered here, one at a time: each checks a PBKDF2 hash, which must
    /// never run on an event loop.
    private static let tokenQueue = DispatchQueue(label: "steward.oauth")

    /// Partner pulls are answered here, off the event loops: as many at once as the store has
    /// readers, the others waiting their turn without holding a thread.
    private static let pullQueue: OperationQueue = {
        let queue = OperationQueue()
        queue.name = "steward.pull"
        queue.maxConcurrentOperationCount = Store.readerCount
        return queue
    }()

    init(_ settings: DaemonConfiguration.APISettings, loops: EventLoops, tokens: TokenEndpoint, pull: PullGateway,
         modules: [LoadedModule]) throws(StewardError) {
        self.settings = settings
        var router = HTTPRouter()
        router.register(TokenEndpoint.path, methods: [.post], deferred: { request, context, responder in
            // An address past its failed attempts is answered at once, not queued behind hashes.
            if let refusal = tokens.refusal(for: context) { return responder.respond(refusal) }
            Self.tokenQueue.async { responder.respond(tokens.respond(to: request, context: context)) }
        })
        var mounted: Set<String> = [TokenEndpoint.path]
        for module in modules {
            guard let connector = module.module as? any PullConnector else { continue }
            for kind in module.info.kinds {
                for prefix in connector.routePrefixes(for: kind) {
                    guard prefix.hasPrefix("/"), mounted.insert(prefix).inserted else {
                        Log.error("module \(module.info.name): the route \(prefix.prefix(80)) of \(kind) is taken or not a path; not mounted")
                        continue
                    }
                    router.register(prefix, methods: [.get], deferred: { request, context, responder in
                        Self.pullQueue.addOperation {
                            responder.respond(pull.respond(to: request, context: context, connector: connector, kind: kind))
                        }
                    })
                    Log.info("partner listener: \(kind) serves \(prefix)")
                }
            }
        }
        do {
            contexts = TLSServerContextHolder(try settings.makeContext())
            let address = try HTTPSServer.Address(parsing: settings.listen)
            server = try HTTPSServer(address: address, contexts: contexts, router: router,
                                     nextLoop: { loops.next() }, events: Self.log)
        } catch let error as TLSError {
            throw StewardError(.configurationInvalid, error.message, location: error.file ?? settings.certificate)
        } catch let error as HTTPSServerError {
            throw StewardError(.configurationInvalid, error.message, location: "[API] Listen=\(settings.listen)")
        } catch {
            throw StewardError(.configurationInvalid, "\(error)", location: "[API]")
        }
    }

    func start() { server.start() }

    /// Loads the certificate and key again (a renewed certificate): new connections use it,
    /// open ones keep theirs. Throws without changing anything when the files do not load.
    func reloadCertificate(_ candidate: DaemonConfiguration.APISettings) throws(TLSError) {
        contexts.replace(with: try candidate.makeContext())
    }

    /// Stops accepting, lets in-flight responses finish for a moment, closes the rest.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        server.stop(gracePeriod: .seconds(2)) { done.signal() }
        _ = done.wait(timeout: .now() + 5)
    }

    var status: APIStatus {
        let statistics = server.statistics
        let context = contexts.current
        return APIStatus(
            listen: settings.listen, port: Int(server.port), profile: context.profile.rawValue,
            mutualTLS: context.requiresClientCertificate, certificateExpiry: context.certificateExpiry.map(Timestamp.string),
            openConnections: statistics.openConnections, acceptedConnections: statistics.acceptedConnections,
            refusedConnections: statistics.refusedConnections, failedHandshakes: statistics.failedHandshakes,
            responses: statistics.responses, timeouts: statistics.timeouts)
    }

    /// One debug line per connection event; ids, addresses and counts only.
    @Sendable static func log(_ event: HTTPSServer.Event) {
        switch event {
        case .refused(let client, let reason): Log.warning("api: refused a connection from \(client): \(reason)")
        case .acceptFailed(let reason): Log.error("api: accept failed: \(reason)")
        case .closed(let summary): Log.debug("api: \(summary)")
        case .served(let summary): Log.debug("api: \(summary)")
        default: break
        }
    }
}

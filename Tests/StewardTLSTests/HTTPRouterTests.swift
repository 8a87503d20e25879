import StewardTLS
import Testing

@Suite struct HTTPRouterTests {
    /// A handler that answers with its own name, so a test sees which one ran.
    private func named(_ name: String) -> HTTPHandler {
        { _, _ in .text(.ok, name) }
    }

    private func answer(_ router: HTTPRouter, _ target: String, _ method: HTTPMethod = .get) -> (HTTPStatus, String) {
        let response = router.respond(to: HTTPRequest(method: method, target: target, headers: ["Host": "h"]), context: HTTPRequestContext())
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    private var router: HTTPRouter {
        var router = HTTPRouter()
        router.register("/ims/oneroster", handler: named("oneroster"))
        router.register("/ims/oneroster/v1p1/users/", methods: [.get], handler: named("users"))
        router.register("/ims", handler: named("ims"))
        router.register("/acks", methods: [.post, .put], handler: named("acks"))
        return router
    }

    @Test func thePrefixMatchesItselfAndWhatIsBelowIt() {
        #expect(answer(router, "/ims/oneroster") == (.ok, "oneroster"))
        #expect(answer(router, "/ims/oneroster/") == (.ok, "oneroster"))
        #expect(answer(router, "/ims/oneroster/v1p1/classes?limit=5") == (.ok, "oneroster"))
    }

    @Test func aPrefixMatchesOnlyAtASegmentBoundary() {
        #expect(answer(router, "/ims/onerosterX") == (.ok, "ims"))
        #expect(answer(router, "/imsx").0 == .notFound)
        #expect(router.prefix(for: "/ims/onerosterX/v1p1") == "/ims")
    }

    @Test func theLongestPrefixWinsWhateverTheOrderOfRegistration() {
        #expect(answer(router, "/ims/oneroster/v1p1/users/abc") == (.ok, "users"))
        #expect(answer(router, "/ims/oneroster/v1p1/users") == (.ok, "users"))
        #expect(answer(router, "/ims/other") == (.ok, "ims"))
    }

    @Test func noMatchingPrefixIs404() {
        #expect(answer(router, "/").0 == .notFound)
        #expect(answer(router, "/favicon.ico").0 == .notFound)
    }

    @Test func aRootPrefixTakesEveryPath() {
        var router = HTTPRouter()
        router.register("/", handler: named("root"))
        #expect(answer(router, "/anything/at/all") == (.ok, "root"))
        #expect(answer(router, "/") == (.ok, "root"))
    }

    @Test func aMethodThePrefixDoesNotServeIs405WithAllow() {
        let response = router.respond(to: HTTPRequest(method: .delete, target: "/acks/7"), context: HTTPRequestContext())
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "POST, PUT")
    }

    @Test func theLongestPrefixDecidesTheMethodsWithoutFallingBackToAShorterOne() {
        let response = router.respond(to: HTTPRequest(method: .post, target: "/ims/oneroster/v1p1/users"), context: HTTPRequestContext())
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, HEAD")
    }

    @Test func aGetHandlerAnswersHead() {
        #expect(answer(router, "/ims/oneroster/v1p1/users/1", .head) == (.ok, "users"))
    }

    @Test func methodsOfOnePrefixMayBeRegisteredSeparately() {
        var router = HTTPRouter()
        router.register("/partners", methods: [.get], handler: named("list"))
        router.register("/partners", methods: [.post], handler: named("create"))
        #expect(answer(router, "/partners", .get) == (.ok, "list"))
        #expect(answer(router, "/partners/x", .post) == (.ok, "create"))
    }

    @Test func pathsAreMatchedAsSentSoPercentEncodingDoesNotReachAnotherHandler() {
        #expect(answer(router, "/ims/%6Fneroster/v1p1/users") == (.ok, "ims"))
        #expect(answer(router, "/%69ms/oneroster").0 == .notFound)
    }

    @Test func dotSegmentsAreRefusedRatherThanResolved() {
        for path in ["/ims/../acks", "/ims/./oneroster", "/ims/%2e%2E/acks", "/ims/.%2e", "/ims/oneroster/.."] {
            #expect(answer(router, path).0 == .badRequest, "\(path)")
        }
        #expect(answer(router, "/ims/oneroster/...").0 == .ok)
        #expect(answer(router, "/ims/oneroster/.well-known").0 == .ok)
    }

    @Test func theHandlerSeesTheRequestAndThePeerContext() {
        var router = HTTPRouter()
        router.register("/whoami") { request, context in
            .text(.ok, "\(request.query ?? "") \(context.clientCertificateSPKISHA256 ?? "-") \(context.tlsVersion ?? "-")")
        }
        let context = HTTPRequestContext(clientAddress: "192.0.2.1:5000", tlsVersion: "TLSv1.3", clientCertificateSPKISHA256: "pin")
        let response = router.respond(to: HTTPRequest(target: "/whoami?x=1"), context: context)
        #expect(String(decoding: response.body, as: UTF8.self) == "x=1 pin TLSv1.3")
    }
}

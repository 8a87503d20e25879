import Foundation
import StewardTLS
import Testing

@Suite struct HTTPRedirectPolicyTests {
    private let current = URL(string: "https://api.partner.example/oneroster/push?batch=3")!
    private let following = HTTPRedirectPolicy(maximumRedirects: 3)

    private func decide(
        _ policy: HTTPRedirectPolicy, _ status: HTTPStatus, _ location: String?, method: HTTPMethod = .post, followed: Int = 0
    ) -> HTTPRedirectDecision {
        policy.decide(status: status, location: location, currentURL: current, method: method, redirectsFollowed: followed)
    }

    @Test func byDefaultNoRedirectIsFollowed() {
        #expect(decide(.never, .temporaryRedirect, "/elsewhere") == .refuse(.redirectsNotFollowed))
        #expect(decide(HTTPRedirectPolicy(), .movedPermanently, "https://api.partner.example/v2") == .refuse(.redirectsNotFollowed))
    }

    @Test func responsesThatAreNotRedirectsAreTheAnswer() {
        for status: HTTPStatus in [.ok, .notModified, .notFound, 300, 305] {
            #expect(decide(following, status, "/x") == .notARedirect)
        }
    }

    @Test func aRelativeLocationResolvesAgainstTheCurrentURL() {
        let decision = decide(following, .temporaryRedirect, "/oneroster/v2/push")
        #expect(decision == .follow(HTTPRedirect(url: URL(string: "https://api.partner.example/oneroster/v2/push")!, method: .post, keepsBody: true)))
    }

    @Test func aRedirectNeverLeavesHTTPS() {
        #expect(decide(following, .permanentRedirect, "http://api.partner.example/push") == .refuse(.notHTTPS))
        #expect(decide(following, .found, "ftp://api.partner.example/push") == .refuse(.notHTTPS))
        let anyHost = HTTPRedirectPolicy(maximumRedirects: 3, allowsOtherHosts: true)
        #expect(decide(anyHost, .found, "//other.example/push") == .follow(HTTPRedirect(url: URL(string: "https://other.example/push")!, method: .get, keepsBody: false)))
        #expect(decide(anyHost, .found, "http://other.example/push") == .refuse(.notHTTPS))
    }

    @Test func anotherHostOrPortIsRefusedUnlessAllowed() {
        #expect(decide(following, .temporaryRedirect, "https://collector.elsewhere.example/push") == .refuse(.otherHost))
        #expect(decide(following, .temporaryRedirect, "https://api.partner.example:8443/push") == .refuse(.otherHost))
        if case .follow = decide(following, .temporaryRedirect, "https://API.partner.example:443/push") {} else {
            Issue.record("the same host spelled in capitals with its default port is the same host")
        }
    }

    @Test func credentialsInTheLocationAreRefused() {
        #expect(decide(following, .temporaryRedirect, "https://user:secret@api.partner.example/push") == .refuse(.credentialsInLocation))
    }

    @Test func aMissingOrUnparseableLocationIsRefused() {
        #expect(decide(following, .found, nil) == .refuse(.missingLocation))
        #expect(decide(following, .found, "  ") == .refuse(.missingLocation))
        #expect(decide(following, .found, "https://") == .refuse(.invalidLocation))
    }

    @Test func theRedirectCountIsBounded() {
        #expect(decide(following, .found, "/a", method: .get, followed: 2) != .refuse(.tooManyRedirects))
        #expect(decide(following, .found, "/a", method: .get, followed: 3) == .refuse(.tooManyRedirects))
    }

    @Test func seeOtherAndAPostMovedByThreeOhOneOrTwoBecomeGetWithoutTheBody() {
        let target = URL(string: "https://api.partner.example/status")!
        #expect(decide(following, .seeOther, "/status", method: .put) == .follow(HTTPRedirect(url: target, method: .get, keepsBody: false)))
        #expect(decide(following, .movedPermanently, "/status", method: .post) == .follow(HTTPRedirect(url: target, method: .get, keepsBody: false)))
        #expect(decide(following, .permanentRedirect, "/status", method: .post) == .follow(HTTPRedirect(url: target, method: .post, keepsBody: true)))
        #expect(decide(following, .seeOther, "/status", method: .head) == .follow(HTTPRedirect(url: target, method: .head, keepsBody: true)))
    }
}

import Foundation

/// Whether Steward's client follows a redirect, decided from the response and the URL it asked.
///
/// The default follows none. A partner's endpoint is part of its grant: a redirect is a server
/// asking Steward to send the same request, student data and all, somewhere else. So a policy
/// that follows at all still never leaves HTTPS, never follows a Location with credentials in
/// it, stays on the same host and port unless told otherwise, and stops after a set number.
/// The function is pure; the client does the following.
public struct HTTPRedirectPolicy: Sendable, Hashable {
    /// How many redirects one request may follow; 0 follows none.
    public var maximumRedirects: Int
    /// Whether a redirect may move to another host or port (still HTTPS). Off by default, since
    /// the partner's grant names its host.
    public var allowsOtherHosts: Bool

    public init(maximumRedirects: Int = 0, allowsOtherHosts: Bool = false) {
        self.maximumRedirects = maximumRedirects
        self.allowsOtherHosts = allowsOtherHosts
    }

    /// Follows no redirect: a 3xx response is the answer.
    public static let never = HTTPRedirectPolicy()

    /// Decides what to do with a response.
    ///
    /// - Parameters:
    ///   - status: the response's status; only 301, 302, 303, 307 and 308 redirect.
    ///   - location: the response's `Location` header, absolute or relative.
    ///   - currentURL: the URL the request went to.
    ///   - method: the request's method, which 301, 302 and 303 may turn into GET.
    ///   - redirectsFollowed: how many redirects this request has followed already.
    public func decide(
        status: HTTPStatus, location: String?, currentURL: URL, method: HTTPMethod, redirectsFollowed: Int
    ) -> HTTPRedirectDecision {
        guard [301, 302, 303, 307, 308].contains(status.code) else { return .notARedirect }
        guard maximumRedirects > 0 else { return .refuse(.redirectsNotFollowed) }
        guard redirectsFollowed < maximumRedirects else { return .refuse(.tooManyRedirects) }
        guard let location = location.map({ Substring($0).trimmingOptionalWhitespace() }), !location.isEmpty else {
            return .refuse(.missingLocation)
        }
        guard let target = URL(string: String(location), relativeTo: currentURL)?.absoluteURL,
            let host = target.host, !host.isEmpty
        else { return .refuse(.invalidLocation) }
        guard target.scheme?.lowercased() == "https" else { return .refuse(.notHTTPS) }
        guard target.user == nil && target.password == nil else { return .refuse(.credentialsInLocation) }
        guard allowsOtherHosts || Self.isSameAuthority(target, currentURL) else { return .refuse(.otherHost) }
        return .follow(Self.redirect(to: target, status: status, method: method))
    }

    /// 307 and 308 repeat the request as it was; 303 asks for a GET; 301 and 302 turn a POST
    /// into a GET, as every client does. A GET carries no body, so the data is not resent.
    private static func redirect(to url: URL, status: HTTPStatus, method: HTTPMethod) -> HTTPRedirect {
        let becomesGet = method != .head && (status == .seeOther || (method == .post && status.code < 303))
        return becomesGet
            ? HTTPRedirect(url: url, method: .get, keepsBody: false)
            : HTTPRedirect(url: url, method: method, keepsBody: true)
    }

    private static func isSameAuthority(_ a: URL, _ b: URL) -> Bool {
        a.host?.lowercased() == b.host?.lowercased() && (a.port ?? 443) == (b.port ?? 443)
    }
}

/// What to do with a response, by ``HTTPRedirectPolicy``.
public enum HTTPRedirectDecision: Sendable, Hashable {
    /// Not a redirect: the response is the answer.
    case notARedirect
    /// Send the request again, as described.
    case follow(HTTPRedirect)
    /// A redirect the policy will not follow: the client reports the 3xx response and why.
    case refuse(Refusal)

    public enum Refusal: String, Sendable, Hashable {
        case redirectsNotFollowed = "redirects-not-followed"
        case tooManyRedirects = "too-many-redirects"
        case missingLocation = "missing-location"
        case invalidLocation = "invalid-location"
        case notHTTPS = "not-https"
        case credentialsInLocation = "credentials-in-location"
        case otherHost = "other-host"
    }
}

/// The request to send in place of a redirected one.
public struct HTTPRedirect: Sendable, Hashable {
    public var url: URL
    public var method: HTTPMethod
    /// Whether the original body goes with it (307 and 308, and methods kept as they were).
    public var keepsBody: Bool

    public init(url: URL, method: HTTPMethod, keepsBody: Bool) {
        self.url = url
        self.method = method
        self.keepsBody = keepsBody
    }
}

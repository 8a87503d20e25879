import Foundation

/// Where a request goes: the origin a connection serves and the request target sent on it.
struct HTTPSClientTarget: Sendable, Hashable {
    /// The host as dialled and verified: a DNS name, or an IP address without brackets.
    let host: String
    let port: UInt16
    /// `/path?query`, percent-encoded as given.
    let requestTarget: String

    /// The key of the connection pool, and the name errors give.
    var origin: String { "https://\(authority)" }

    /// `host:port` for the Host header and messages; IPv6 in brackets; 443 left out.
    var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 443 ? name : "\(name):\(port)"
    }

    /// Accepts `https://host[:port]/path?query` only. Credentials in the URL are refused: they
    /// would end up in logs; a partner's credentials go in headers.
    init(_ url: URL) throws(HTTPSClientError) {
        let shown = Self.originForMessages(url)
        guard let scheme = url.scheme?.lowercased() else {
            throw HTTPSClientError(.invalidURL, "the URL has no scheme; write it as https://host/path", origin: shown)
        }
        if scheme == "http" {
            throw HTTPSClientError(.plainHTTPRefused,
                                   "the URL is http://, and Steward sends student data over HTTPS only; ask the partner "
                                       + "for its https:// address", origin: shown)
        }
        guard scheme == "https", let components = URLComponents(url: url, resolvingAgainstBaseURL: true),
              var host = components.host, !host.isEmpty
        else {
            throw HTTPSClientError(.invalidURL, "the URL is not https://host[:port]/path; check the partner's address",
                                   origin: shown)
        }
        guard components.user == nil, components.password == nil else {
            throw HTTPSClientError(.invalidURL, "the URL carries credentials; configure them as a header instead",
                                   origin: shown)
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = UInt16(exactly: components.port ?? 443), port != 0 else {
            throw HTTPSClientError(.invalidURL, "the URL's port is not 1–65535", origin: shown)
        }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        self.host = host.lowercased()
        self.port = port
        self.requestTarget = components.percentEncodedQuery.map { path + "?" + $0 } ?? path
    }

    private static func originForMessages(_ url: URL) -> String {
        "\(url.scheme ?? "?")://\(url.host ?? "?")" + (url.port.map { ":\($0)" } ?? "")
    }
}

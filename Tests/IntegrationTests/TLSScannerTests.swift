import Foundation
import StewardHarness
import Testing

/// What testssl.sh, the scanner a district's security office runs, reports about one listener:
/// its JSON findings by id (`TLS1_1` → `not offered`, `cipherlist_NULL` → `not offered`, …).
struct TLSScan {
    static let scanner = "/usr/bin/testssl"
    let findings: [String: String]

    /// Scans `127.0.0.1:port` for protocols and cipher categories only, with no DNS lookups and
    /// nothing fetched from outside, and reads the findings from its JSON file.
    init(port: Int, scratch folder: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.scanner) else {
            throw SandboxError("\(Self.scanner) is missing: install the Debian package testssl.sh (apt-get install -y testssl.sh); .ci/run does")
        }
        let report = folder + "/testssl.json"
        let result = try runCommand(Self.scanner, [
            "--protocols", "--std", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
            "--connect-timeout", "5", "--openssl-timeout", "5", "--jsonfile", report, "127.0.0.1:\(port)",
        ], timeout: 90)
        guard let data = FileManager.default.contents(atPath: report),
              let entries = try? JSONDecoder().decode([Finding].self, from: data) else {
            throw SandboxError("testssl.sh wrote no JSON report (status \(result.status)): \(result.stdout.suffix(2_000)) \(result.stderr)")
        }
        findings = Dictionary(entries.map { ($0.id, $0.finding) }, uniquingKeysWith: { first, _ in first })
    }

    private struct Finding: Decodable {
        var id: String
        var finding: String
    }

    /// Whether the scanner found `id` offered; `nil` when it did not report on it at all.
    func offered(_ id: String) -> Bool? {
        findings[id].map { $0.hasPrefix("offered") }
    }
}

@Suite struct TLSScannerTests {
    /// testssl.sh's ids for what a partner listener must never accept: old protocols, and the
    /// cipher categories NULL, anonymous, export, LOW (DES, RC2, RC4), 3DES/IDEA and obsolete CBC.
    static let neverOffered = ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "cipherlist_NULL", "cipherlist_aNULL",
                               "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"]

    @Test(.timeLimit(.minutes(2)))
    func anExternalScannerFindsOnlyTLS12And13WithAEADCiphers() throws {
        let api = try PartnerListenerTests().startWithAPI()
        defer { api.finish() }
        let scan = try TLSScan(port: api.port, scratch: api.sandbox.root)
        for id in Self.neverOffered {
            #expect(scan.offered(id) == false, "testssl.sh: \(id) is '\(scan.findings[id] ?? "not reported")'")
        }
        for id in ["TLS1_2", "TLS1_3", "cipherlist_STRONG"] {
            #expect(scan.offered(id) == true, "testssl.sh: \(id) is '\(scan.findings[id] ?? "not reported")'")
        }
    }
}

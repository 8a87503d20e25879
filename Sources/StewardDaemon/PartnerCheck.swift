import Foundation
import StewardControl
import StewardCore
import StewardStore

/// `stewardctl partners check`: reads partner files as the daemon would, and lists every
/// requirement each does not meet, with the connector kinds this daemon has loaded. Operators
/// run it on a new file before a reload.
enum PartnerCheck {
    static func run(files: [String]?, configuration: DaemonConfiguration, connectorKinds: Set<String>) -> PartnersCheckResult {
        let today = String(Timestamp.string(Date()).prefix(10))
        let paths = files ?? partnerFiles(in: configuration.partnerDirectory)
        return PartnersCheckResult(today: today, files: paths.map { path in
            check(path, today: today, baseline: configuration.baseline, connectorKinds: connectorKinds)
        })
    }

    /// The `*.conf` files of the partner folder, sorted.
    static func partnerFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".conf") && !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
    }

    static func check(_ path: String, today: String, baseline: AgreementBaseline, connectorKinds: Set<String>) -> PartnersCheckResult.File {
        let text: String
        do { text = try DaemonConfiguration.readText(path) } catch {
            return .init(file: path, partner: nil, problems: [error.description])
        }
        let (partner, problems) = PartnerFile.read(path: path, text: text)
        guard let partner else { return .init(file: path, partner: nil, problems: problems.map(\.description)) }
        let unmet = baseline.unmet(by: partner, today: today, connectorKinds: connectorKinds)
        return .init(file: path, partner: partner.name, problems: unmet.map(\.description))
    }
}

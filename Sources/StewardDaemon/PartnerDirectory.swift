import ConnectorKit
import Foundation
import StewardControl
import StewardCore
import StewardStore
import StewardTLS

/// One partner file as the daemon read it: the partner, every requirement it does not meet
/// (agreement baseline, transport, connector settings), and the TLS client context its
/// `[Transport]` describes, built once here and reused for every connection.
struct LoadedPartner: Sendable {
    let file: PartnerFile
    /// What the file's `[Transport]` and `[Connector]` sections get wrong. These depend only on
    /// the file, so they are found once at load; the baseline is checked again every day.
    let settingsUnmet: [AgreementBaseline.Unmet]
    let transport: TLSClientContext?
    /// `[Access] ClientCertificatePins=`, as base64 SPKI SHA-256 digests.
    let clientCertificatePins: Set<String>
    /// The file's text, to tell a changed file from an unchanged one at reload.
    let text: String
    let connectorKinds: Set<String>

    /// Every requirement unmet on `today` under `baseline`.
    func unmet(today: String, baseline: AgreementBaseline) -> [AgreementBaseline.Unmet] {
        baseline.unmet(by: file, today: today, connectorKinds: connectorKinds) + settingsUnmet
    }

    func standing(today: String, configuration: DaemonConfiguration) -> PartnerStanding {
        PartnerStanding.of(file, unmet: unmet(today: today, baseline: configuration.baseline), library: configuration.library)
    }
}

/// Why a file cannot be read as a partner file: one `file:line: key: problem` line each.
struct PartnerFileProblems: Error {
    var lines: [String]
}

/// The partner folder, read: the partners by name, and the files that could not be read as
/// partner files at all (each with its `file:line: key: problem` lines).
struct PartnerDirectory: Sendable {
    var partners: [String: LoadedPartner] = [:]
    var unreadable: [PartnersCheckResult.File] = []

    /// Reads every `*.conf` file of the configured partner folder (or just `files`), on `today`.
    static func load(files: [String]? = nil, configuration: DaemonConfiguration, modules: [LoadedModule]) -> PartnerDirectory {
        var directory = PartnerDirectory()
        for path in files ?? partnerFiles(in: configuration.partnerDirectory) {
            switch read(path, modules: modules, clientCertificatesRequested: configuration.api?.clientCA != nil) {
            case .failure(let problems):
                directory.unreadable.append(.init(file: path, partner: nil, problems: problems.lines))
            case .success(let partner):
                let base = path.split(separator: "/").last.map(String.init) ?? path
                if files == nil, base != "\(partner.file.name).conf" {
                    directory.unreadable.append(.init(file: path, partner: partner.file.name, problems: [
                        "\(path):\(partner.file.line("Partner", "Name")): Name: a file in the partner folder is named after its partner: rename \(base) to \(partner.file.name).conf",
                    ]))
                } else if let first = directory.partners[partner.file.name] {
                    directory.unreadable.append(.init(file: path, partner: partner.file.name, problems: [
                        "\(path):\(partner.file.line("Partner", "Name")): Name: partner '\(partner.file.name)' is already defined in \(first.file.path)",
                    ]))
                } else {
                    directory.partners[partner.file.name] = partner
                }
            }
        }
        return directory
    }

    /// The `*.conf` files of the partner folder, sorted.
    static func partnerFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".conf") && !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
    }

    /// Reads one partner file and checks it against the baseline, its `[Transport]` and its
    /// connector module's own checks.
    static func read(_ path: String, modules: [LoadedModule],
                     clientCertificatesRequested: Bool) -> Result<LoadedPartner, PartnerFileProblems> {
        let text: String
        do { text = try DaemonConfiguration.readText(path) } catch { return .failure(PartnerFileProblems(lines: [error.description])) }
        let (parsed, problems) = PartnerFile.read(path: path, text: text)
        guard let partner = parsed else { return .failure(PartnerFileProblems(lines: problems.map(\.description))) }
        var unmet: [AgreementBaseline.Unmet] = []
        func add(_ section: String, _ key: String, _ requirement: String, _ message: String, line: Int? = nil) {
            unmet.append(.init(file: path, line: line ?? partner.line(section, key), requirement: requirement, missing: "\(key): \(message)"))
        }
        if let module = modules.first(where: { $0.info.kinds.contains(partner.connector) }) {
            let settings = partner.connectorSettings.map { ConnectorSetting(key: $0.key, value: $0.value, line: $0.line) }
            for problem in module.module.check(settings, kind: partner.connector) {
                add("Connector", problem.key, "connector", problem.message, line: problem.line == 0 ? nil : problem.line)
            }
        }
        for pin in partner.transport.pins {
            do throws(TLSError) { _ = try TLSPin(parsing: pin) } catch {
                add("Transport", "Pins", "transport", "\(error.message) (the pin '\(pin.prefix(60))')")
            }
        }
        if !partner.access.clientCertificatePins.isEmpty && !clientCertificatesRequested {
            add("Access", "ClientCertificatePins", "access",
                "the partner listener asks for no client certificate; set [API] ClientCA= in steward.conf, or the partner can never connect")
        }
        var clientPins = Set<String>()
        for pin in partner.access.clientCertificatePins {
            do throws(TLSError) { clientPins.insert(try TLSPin(parsing: pin).base64) } catch {
                add("Access", "ClientCertificatePins", "access", "\(error.message) (the pin '\(pin.prefix(60))')")
            }
        }
        var transport: TLSClientContext?
        do throws(TLSError) {
            transport = try makeTransport(partner.transport, skippingMalformedPins: true)
        } catch {
            let key = error.file != nil && error.file == partner.transport.caFile ? "CAFile"
                : error.file != nil && error.file == partner.transport.clientKey ? "ClientKey" : "ClientCertificate"
            add("Transport", key, "transport", error.message)
        }
        return .success(LoadedPartner(file: partner, settingsUnmet: unmet, transport: transport, clientCertificatePins: clientPins,
                                      text: text, connectorKinds: Set(modules.flatMap(\.info.kinds))))
    }

    /// The TLS client context a partner's `[Transport]` describes, under the one policy.
    /// With `skippingMalformedPins`, a pin that does not parse is left out (the caller reports
    /// it), so the CA and certificate files are checked too.
    static func makeTransport(_ transport: PartnerFile.Transport, skippingMalformedPins: Bool = false) throws(TLSError) -> TLSClientContext {
        var pins: [TLSPin] = []
        for pin in transport.pins {
            do throws(TLSError) { pins.append(try TLSPin(parsing: pin)) } catch {
                if !skippingMalformedPins { throw error }
            }
        }
        let certificate = transport.clientCertificate.flatMap { chain in
            transport.clientKey.map { TLSCertificateFiles(chainFile: chain, privateKeyFile: $0) }
        }
        return try TLSClientContext(trust: transport.caFile.map { .certificateAuthorities(file: $0) } ?? .systemBundle,
                                    clientCertificate: certificate, pins: pins,
                                    profile: TLSPolicy(rawValue: transport.profile) ?? .intermediate)
    }

    /// `stewardctl partners check`: every requirement each file does not meet.
    func checkResult(today: String, baseline: AgreementBaseline) -> PartnersCheckResult {
        let files = partners.values.map {
            PartnersCheckResult.File(file: $0.file.path, partner: $0.file.name,
                                     problems: $0.unmet(today: today, baseline: baseline).map(\.description))
        }
        return PartnersCheckResult(today: today, files: (files + unreadable).sorted { $0.file < $1.file })
    }

    /// What changed from `old` to this directory, in words for the reload's reply and the audit.
    func changes(from old: PartnerDirectory) -> [(partner: String, change: String)] {
        var changes: [(String, String)] = []
        for name in Set(old.partners.keys).union(partners.keys).sorted() {
            switch (old.partners[name], partners[name]) {
            case (nil, .some): changes.append((name, "added"))
            case (let before?, nil):
                changes.append((name, unreadable.contains { $0.file == before.file.path } ? "not loaded: its file has problems" : "removed"))
            case (let before?, let after?) where before.text != after.text: changes.append((name, "changed"))
            default: break
            }
        }
        return changes
    }
}

extension Daemon {
    /// Today in UTC, as agreements write dates.
    static func today() -> String { String(Timestamp.string(Date()).prefix(10)) }
}

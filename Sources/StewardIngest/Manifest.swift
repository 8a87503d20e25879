import StewardCore

/// manifest.csv: the binding's version and, per file, whether the drop carries it whole (bulk),
/// as changes (delta), or not at all (absent).
struct Manifest {
    enum Mode: String {
        case bulk, delta, absent
    }

    var version: OneRosterVersion
    var modes: [String: Mode]

    /// The mode the manifest gives `entity`'s file; absent when it does not name it.
    func mode(of entity: RosterEntity) -> Mode { modes[entity.rawValue] ?? .absent }

    /// Reads the manifest's records (header first); nil when it cannot be used, with the reasons
    /// in `findings`.
    static func read(_ records: [CSVRecord], findings: inout FindingLog) -> Manifest? {
        let file = OneRosterSchema.manifestFileName
        guard let header = records.first else {
            findings.error(.invalidManifest, file, "manifest.csv is empty; it needs propertyName,value rows")
            return nil
        }
        guard header.fields == OneRosterSchema.manifestColumns else {
            findings.error(.invalidManifest, file, line: header.line, "the header must be propertyName,value")
            return nil
        }
        var properties: [String: (value: String, line: Int)] = [:]
        for record in records.dropFirst() {
            guard record.fields.count == 2 else {
                findings.error(.wrongFieldCount, file, line: record.line, "a manifest row has two fields: propertyName,value")
                continue
            }
            let name = record.fields[0].trimmingWhitespace()
            if let earlier = properties[name] {
                findings.error(.invalidManifest, file, line: record.line, column: 1, "\(name) is given twice (first on line \(earlier.line))")
            }
            properties[name] = (record.fields[1].trimmingWhitespace(), record.line)
        }
        guard let versionText = properties["oneroster.version"] else {
            findings.error(.invalidManifest, file, "oneroster.version is missing; it must be 1.1 or 1.2")
            return nil
        }
        guard let version = OneRosterVersion(rawValue: versionText.value) else {
            findings.error(.unsupportedVersion, file, line: versionText.line, column: 2,
                           "oneroster.version must be 1.1 or 1.2")
            return nil
        }
        var modes: [String: Mode] = [:]
        for (name, entry) in properties where name.hasPrefix("file.") {
            let fileName = String(name.dropFirst("file.".count))
            guard let mode = Mode(rawValue: entry.value) else {
                findings.error(.invalidManifest, file, line: entry.line, column: 2, "\(name) must be absent, bulk or delta")
                continue
            }
            modes[fileName] = mode
        }
        return Manifest(version: version, modes: modes)
    }
}

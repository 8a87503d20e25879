import StewardCore

/// Collects an import's findings. Every finding is counted; only the first few of each kind per
/// file are kept, then one line says how many more there were, so a drop with a million bad
/// rows yields a readable report and a small import record.
struct FindingLog: Sendable {
    static let keptPerKind = 20

    private(set) var kept: [Finding] = []
    private(set) var errors = 0
    private(set) var warnings = 0
    private var counts: [String: Int] = [:]

    mutating func add(_ finding: Finding) {
        if finding.severity == .error { errors += 1 } else { warnings += 1 }
        let key = finding.file + "\u{0}" + finding.code.rawValue
        let count = (counts[key] ?? 0) + 1
        counts[key] = count
        if count <= Self.keptPerKind { kept.append(finding) }
    }

    /// Adds what another log collected (a reading thread's), keeping the same limits.
    mutating func absorb(_ other: FindingLog) {
        errors += other.errors
        warnings += other.warnings
        for finding in other.kept {
            let key = finding.file + "\u{0}" + finding.code.rawValue
            if (counts[key] ?? 0) < Self.keptPerKind { kept.append(finding) }
            counts[key] = (counts[key] ?? 0) + 1
        }
        for (key, count) in other.counts {
            let keptHere = other.kept.filter { $0.file + "\u{0}" + $0.code.rawValue == key }.count
            counts[key] = (counts[key] ?? 0) + count - keptHere
        }
    }

    mutating func error(_ code: Finding.Code, _ file: String, line: Int = 0, column: Int = 0, _ message: String) {
        add(Finding(.error, code, file: file, line: line, column: column, message))
    }

    mutating func warning(_ code: Finding.Code, _ file: String, line: Int = 0, column: Int = 0, _ message: String) {
        add(Finding(.warning, code, file: file, line: line, column: column, message))
    }

    /// The kept findings in file and line order, with a closing line per kind that was cut short.
    func report() -> [Finding] {
        var findings = kept
        for (key, count) in counts.sorted(by: { $0.key < $1.key }) where count > Self.keptPerKind {
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            guard let sample = kept.first(where: { $0.file == parts[0] && $0.code.rawValue == parts[1] }) else { continue }
            findings.append(Finding(sample.severity, sample.code, file: parts[0],
                                    "\(count - Self.keptPerKind) more like this in \(parts[0]) (\(count) in all)"))
        }
        return findings.sorted { ($0.file, $0.line == 0 ? Int.max : $0.line, $0.column) < ($1.file, $1.line == 0 ? Int.max : $1.line, $1.column) }
    }

    var hasErrors: Bool { errors > 0 }
}

import StewardCore

/// Where each of the binding's columns sits in a file's header row. The binding asks for every
/// column, in order; real exports add vendor columns and misspell names, and each case is told
/// apart: an extra column is a warning, a misspelled or missing required one an error.
struct HeaderMap: Sendable {
    /// For each of the binding's columns, the index of the header field that holds it.
    var positions: [Int?]
    /// How many fields each record must have.
    var width: Int

    init(header: CSVRecord, columns: [ColumnSpec], file: String, findings: inout FindingLog) {
        width = header.fields.count
        positions = Array(repeating: nil, count: columns.count)
        let names = columns.map(\.name)
        var unmatched: [Int] = []
        for (index, raw) in header.fields.enumerated() {
            let name = raw.trimmingWhitespace()
            if let column = names.firstIndex(of: name), positions[column] == nil {
                positions[column] = index
            } else {
                unmatched.append(index)
            }
        }
        for index in unmatched {
            let name = header.fields[index].trimmingWhitespace()
            let missing = names.indices.filter { positions[$0] == nil }.map { names[$0] }
            if let meant = closestMatch(name, among: missing), let column = names.firstIndex(of: meant) {
                positions[column] = index
                findings.error(.misspelledColumn, file, line: header.line, column: index + 1,
                               "column '\(name.prefix(60))' is not in the binding; did you mean '\(meant)'?")
            } else {
                findings.warning(.extraColumn, file, line: header.line, column: index + 1,
                                 "column '\(name.prefix(60))' is not in the OneRoster binding; its values are ignored")
            }
        }
        for (column, spec) in columns.enumerated() where positions[column] == nil {
            if spec.isRequired {
                findings.error(.missingColumn, file, line: header.line, "the required column \(spec.name) is missing")
            } else {
                findings.warning(.missingColumn, file, line: header.line, "the column \(spec.name) is missing; read as empty")
            }
        }
        let present = positions.compactMap { $0 }
        if let outOfOrder = zip(present, present.dropFirst()).first(where: { $0 >= $1 }) {
            let name = names[positions.firstIndex(of: outOfOrder.1)!]
            findings.error(.columnOrder, file, line: header.line, column: outOfOrder.1 + 1,
                           "column \(name) is out of the binding's order; the binding lists \(names.joined(separator: ","))")
        }
    }
}

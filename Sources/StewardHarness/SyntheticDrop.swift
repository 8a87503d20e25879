import Foundation
import StewardCore

/// Writes a synthetic district's drop (manifest and CSV files) into `folder`, in process, for
/// tests that import one into a store of their own.
public func writeSyntheticDrop(_ options: SyntheticDistrict.Options, to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for file in try SyntheticDistrict(options).files {
        var bytes: [UInt8] = []
        let writer = CSVWriter(format: file.format) { bytes.append(contentsOf: $0) }
        _ = try file.write(to: writer)
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + file.name))
    }
}

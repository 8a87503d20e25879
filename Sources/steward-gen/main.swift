#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardCore

/// steward-gen: writes a deterministic synthetic district as a OneRoster CSV drop (see --help).
func run() throws {
    guard let arguments = try GenArguments.parse(Array(CommandLine.arguments.dropFirst())) else {
        print(GenArguments.help)
        return
    }
    let started = ContinuousClock.now
    if let base = arguments.deltaBase {
        try DropFolder.checkBase(base, version: arguments.options.version, output: arguments.output)
    }
    let district: SyntheticDistrict
    do {
        district = try SyntheticDistrict(arguments.options)
    } catch {
        throw GenFailure.usage("\(error)")
    }
    let folder = try DropFolder.prepare(arguments.output)
    let written = try folder.write(district.files)

    let requested = arguments.options.defects
    let defects = written.flatMap(\.defects).sorted {
        (requested.firstIndex(of: $0.defect) ?? requested.count) < (requested.firstIndex(of: $1.defect) ?? requested.count)
    }
    FileHandle.standardOutput.write(Data(defects.map { "\($0)\n" }.joined().utf8))

    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    let files = written.map { "\($0.name) \($0.rows)" }.joined(separator: ", ")
    let megabytes = written.reduce(0) { $0 + $1.bytes } / 1_000_000
    let summary = "steward-gen: \(arguments.options.mode.rawValue) OneRoster \(arguments.options.version.rawValue) drop in "
        + "\(arguments.output): \(files) rows; \(megabytes) MB in \(String(format: "%.2f", seconds)) s, "
        + "peak memory \(usage.ru_maxrss / 1024) MiB\n"
    FileHandle.standardError.write(Data(summary.utf8))
}

do {
    try run()
} catch let failure as GenFailure {
    FileHandle.standardError.write(Data("steward-gen: \(failure)\n".utf8))
    exit(failure.status.rawValue)
} catch {
    FileHandle.standardError.write(Data("steward-gen: \(error)\n".utf8))
    exit(GenFailure.Status.cannotCreate.rawValue)
}

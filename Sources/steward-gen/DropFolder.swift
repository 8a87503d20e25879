#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardCore
import Synchronization

/// The folder a drop is written into, and the one a delta is made against.
struct DropFolder: Sendable {
    let path: String

    /// Every file name steward-gen may write into a drop.
    static let ownFiles: Set<String> = Set(RosterEntity.allCases.map(\.fileName) + [OneRosterSchema.manifestFileName])

    /// Creates the folder, or empties it of the files an earlier run wrote. Refuses a folder that
    /// holds anything else, so a mistyped --out never mixes a drop into someone's files.
    static func prepare(_ path: String) throws -> DropFolder {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw GenFailure.cannotCreate("\(path) exists and is not a folder") }
        } else {
            do {
                try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw GenFailure.cannotCreate("cannot create the folder \(path): \(reason(error))")
            }
        }
        let entries: [String]
        do {
            entries = try manager.contentsOfDirectory(atPath: path)
        } catch {
            throw GenFailure.cannotCreate("cannot read the folder \(path): \(reason(error))")
        }
        let foreign = entries.filter { !ownFiles.contains($0) }.sorted()
        guard foreign.isEmpty else {
            let shown = foreign.prefix(3).joined(separator: ", ") + (foreign.count > 3 ? ", …" : "")
            throw GenFailure.cannotCreate("\(path) holds files steward-gen did not write (\(shown)); choose an empty or new folder")
        }
        for entry in entries {
            let file = (path as NSString).appendingPathComponent(entry)
            guard unlink(file) == 0 else {
                throw GenFailure.cannotCreate("cannot replace \(file): \(String(cString: strerror(errno)))")
            }
        }
        return DropFolder(path: path)
    }

    /// Checks that `path` is a OneRoster drop of `version`, for --delta-from.
    static func checkBase(_ path: String, version: OneRosterVersion, output: String) throws {
        let manifest = (path as NSString).appendingPathComponent(OneRosterSchema.manifestFileName)
        guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else {
            throw GenFailure.usage("--delta-from \(path): no readable manifest.csv there; give the folder of a drop steward-gen wrote")
        }
        let found = text.split(whereSeparator: \.isNewline).lazy.compactMap { line -> String? in
            let fields = line.split(separator: ",", maxSplits: 1).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }
            return fields.count == 2 && fields[0] == "oneroster.version" ? fields[1] : nil
        }.first
        guard let found else { throw GenFailure.usage("--delta-from \(path): manifest.csv names no oneroster.version") }
        guard found == version.rawValue else {
            throw GenFailure.usage("--delta-from \(path) is a OneRoster \(found) drop; pass --format oneroster-\(found) or a \(version.rawValue) drop")
        }
        let base = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let out = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath().path
        guard base != out else { throw GenFailure.usage("--delta-from and --out name the same folder; write the delta elsewhere") }
    }

    /// What writing one file gave.
    struct Written: Sendable {
        var name: String
        var rows: Int
        var bytes: Int
        var defects: [InjectedDefect]
    }

    /// Writes every file of the drop, as many at once as there are processors, largest first.
    func write(_ files: [SyntheticFile]) throws -> [Written] {
        let order = files.sorted { Self.weight($0) > Self.weight($1) }
        let results = Mutex<[String: Result<Written, GenFailure>]>([:])
        DispatchQueue.concurrentPerform(iterations: order.count) { index in
            let file = order[index]
            let result = Result { () throws(GenFailure) -> Written in try write(file) }
            results.withLock { $0[file.name] = result }
        }
        let done = results.withLock { $0 }
        return try files.map { try done[$0.name]!.get() }
    }

    /// Roughly how long a file takes, to start the longest first.
    private static func weight(_ file: SyntheticFile) -> Int {
        switch file.entity {
        case .users: return 9
        case .enrollments: return 8
        case .roles: return 7
        case .demographics: return 6
        case .classes: return 5
        case .courses: return 4
        default: return 0
        }
    }

    private func write(_ file: SyntheticFile) throws(GenFailure) -> Written {
        let filePath = (path as NSString).appendingPathComponent(file.name)
        let descriptor = open(filePath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw GenFailure.cannotCreate("cannot create \(filePath): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let writer = CSVWriter(fileDescriptor: descriptor, path: filePath, format: file.format)
        do {
            let defects = try file.write(to: writer)
            return Written(name: file.name, rows: writer.recordCount - 1, bytes: writer.byteCount, defects: defects)
        } catch {
            throw GenFailure.cannotCreate("\(error)")
        }
    }

    private static func reason(_ error: Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}

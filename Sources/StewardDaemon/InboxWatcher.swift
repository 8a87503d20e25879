import Dispatch
import Foundation
import StewardControl
import StewardCore
import StewardIngest
import StewardStore

/// Picks up drops placed in the inbox folder: a folder or a .zip moved in with a rename. Each is
/// imported once it has looked the same on two scans in a row (a copy still being written never
/// is), then moved to `processed/` or `rejected/` with its report beside it. Names starting with
/// a dot or ending in `.tmp`, `.part` or `.partial` are left alone: copy under such a name, then
/// rename.
final class InboxWatcher: @unchecked Sendable {
    // Sound because `seen` and `timer` are touched only on `queue`, the daemon's import queue.
    private let queue: DispatchQueue
    private let directory: String
    private let importDrop: @Sendable (String, String) -> ImportReport
    private var seen: [String: String] = [:]
    /// Drops imported but not moved out (the move failed): never imported twice.
    private var stuck: Set<String> = []
    private var timer: DispatchSourceTimer?

    static let scanInterval = DispatchTimeInterval.seconds(2)
    static let ignoredSuffixes = [".tmp", ".part", ".partial", ".report.txt", ".report.json"]
    static let reserved: Set<String> = ["processed", "rejected"]

    /// `importDrop(path, source)` runs one import on `queue`.
    init(directory: String, queue: DispatchQueue, importDrop: @escaping @Sendable (String, String) -> ImportReport) {
        self.directory = directory
        self.queue = queue
        self.importDrop = importDrop
    }

    /// Makes the inbox and its two result folders when missing, and starts scanning.
    func start() throws(StewardError) {
        for folder in [directory, directory + "/processed", directory + "/rejected"] {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw StewardError(.storeFailed, "cannot create the inbox folder \(folder): \(error.localizedDescription)")
            }
        }
        queue.async { [self] in
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + Self.scanInterval, repeating: Self.scanInterval)
            timer.setEventHandler { [self] in scan() }
            timer.resume()
            self.timer = timer
        }
    }

    private func scan() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var current: [String: String] = [:]
        stuck.formIntersection(names)
        for name in names.sorted() where isCandidate(name) && !stuck.contains(name) {
            let path = directory + "/" + name
            let signature = Self.signature(of: path)
            current[name] = signature
            guard seen[name] == signature else { continue }
            let report = importDrop(path, "inbox:" + name)
            file(name, report: report)
            current[name] = nil
        }
        seen = current
    }

    private func isCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && !Self.reserved.contains(name) && !Self.ignoredSuffixes.contains { name.hasSuffix($0) }
    }

    /// Moves the drop to processed/ or rejected/ and writes its report beside it.
    private func file(_ name: String, report: ImportReport) {
        let target = directory + "/" + (report.verdict == .rejected ? "rejected" : "processed")
        var destination = target + "/" + name
        if FileManager.default.fileExists(atPath: destination) {
            destination = target + "/" + Timestamp.string(Date()).replacingOccurrences(of: ":", with: "") + "-" + name
        }
        do {
            try FileManager.default.moveItem(atPath: directory + "/" + name, toPath: destination)
        } catch {
            Log.error("inbox: cannot move \(name) to \(target): \(error.localizedDescription); it is not imported again until it is renamed or removed")
            stuck.insert(name)
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try? encoder.encode(report).write(to: URL(fileURLWithPath: destination + ".report.json"))
        try? ImportReportText.render(report).write(toFile: destination + ".report.txt", atomically: true, encoding: .utf8)
    }

    /// Size and modification time of a file, or of every file in a folder.
    static func signature(of path: String) -> String {
        let manager = FileManager.default
        var total: UInt64 = 0
        var latest = Date.distantPast
        var count = 0
        func add(_ file: String) {
            guard let attributes = try? manager.attributesOfItem(atPath: file) else { return }
            total += (attributes[.size] as? UInt64) ?? 0
            latest = max(latest, (attributes[.modificationDate] as? Date) ?? .distantPast)
            count += 1
        }
        add(path)
        if let files = manager.enumerator(atPath: path) {
            for case let file as String in files { add(path + "/" + file) }
        }
        return "\(count):\(total):\(latest.timeIntervalSince1970)"
    }
}

import Foundation
import StewardHarness

/// A synthetic district written by the real `steward-gen` into the benchmark's scratch folder.
struct GeneratedDrop {
    /// The drop's folder, an absolute path.
    var folder: String
    /// How long `steward-gen` ran, exec to exit, in nanoseconds.
    var generationNanoseconds: UInt64

    static var generator: String { Binaries.directory + "/steward-gen" }

    /// Runs `steward-gen --students N --seed S --format F --out FOLDER`.
    static func generate(students: Int, seed: Int, format: String, into folder: String) throws -> GeneratedDrop {
        guard FileManager.default.isExecutableFile(atPath: generator) else {
            throw BenchFailure("\(generator) does not exist; build every product first (swift build -c release), "
                + "or point STEWARD_BIN_DIR at the folder that holds it")
        }
        let arguments = ["--students", String(students), "--seed", String(seed), "--format", format, "--out", folder]
        let started = monotonicNanoseconds()
        let result = try runCommand(generator, arguments, timeout: 3600)
        let elapsed = monotonicNanoseconds() - started
        guard result.status == 0 else {
            throw BenchFailure("steward-gen \(arguments.joined(separator: " ")) exited with status \(result.status): "
                + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return GeneratedDrop(folder: folder, generationNanoseconds: elapsed)
    }

    /// The size in bytes of each of `files` (names in the drop's folder), added up.
    func bytes(of files: [String]) throws -> UInt64 {
        try files.reduce(0) { total, file in
            let path = folder + "/" + file
            guard let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber else {
                throw BenchFailure("could not read the size of \(path)")
            }
            return total + size.uint64Value
        }
    }
}

/// The floor for loading a drop's rows into SQLite: the `sqlite3` command-line shell importing
/// every rostering file into a plain table of its own (all columns text, no key, no index, no
/// check), in one process, with the shell's defaults (a rollback journal, `synchronous=FULL`, one
/// transaction per `.import`).
struct ShellImport {
    /// How long the shell ran, exec to exit, in nanoseconds.
    var nanoseconds: UInt64

    /// Imports `files` (names in `drop`) into a new database at `database`, and checks that the
    /// shell loaded `expectedRows` rows, so both sides of the comparison load the same data.
    static func run(files: [String], drop: String, database: String, expectedRows: Int) throws -> ShellImport {
        let shell = try locateShell()
        var commands = [".mode csv"]
        for file in files {
            guard !file.contains("'") else { throw BenchFailure("cannot hand \(drop)/\(file) to the sqlite3 shell: its name has a quote") }
            commands.append(".import '\(drop)/\(file)' \(tableName(file))")
        }
        let started = monotonicNanoseconds()
        let result = try runCommand(shell, ["-bail", database] + commands, timeout: 3600)
        let elapsed = monotonicNanoseconds() - started
        guard result.status == 0, result.stderr.isEmpty else {
            throw BenchFailure("\(shell) -bail \(database) \(commands.map { "\"\($0)\"" }.joined(separator: " ")) "
                + "exited with status \(result.status): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let loaded = try countRows(shell, database: database, tables: files.map(tableName))
        guard loaded == expectedRows else {
            throw BenchFailure("the sqlite3 shell loaded \(Figure.grouped(loaded)) rows from \(drop), "
                + "stewardd read \(Figure.grouped(expectedRows)); the two imports would not compare the same data")
        }
        return ShellImport(nanoseconds: elapsed)
    }

    private static func tableName(_ file: String) -> String {
        file.hasSuffix(".csv") ? String(file.dropLast(4)) : file
    }

    private static func countRows(_ shell: String, database: String, tables: [String]) throws -> Int {
        let query = "SELECT " + tables.map { "(SELECT count(*) FROM \"\($0)\")" }.joined(separator: " + ")
        let result = try runCommand(shell, ["-readonly", database, query])
        guard result.status == 0, let count = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchFailure("could not count the rows the sqlite3 shell loaded into \(database): "
                + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return count
    }

    /// `sqlite3` on `$PATH`.
    private static func locateShell() throws -> String {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/sqlite3") {
            return "\(folder)/sqlite3"
        }
        throw BenchFailure("the sqlite3 command-line shell is not on PATH; install it (apt-get install sqlite3) to compare against it")
    }
}

import Foundation
import StewardHarness

/// One benchmark: a subcommand with its options, documented for `--help`.
struct Benchmark: Sendable {
    var name: String
    var summary: String
    /// `(option, what it does)` pairs, as printed under the subcommand in `--help`.
    var options: [(option: String, meaning: String)]
    var run: @Sendable (inout BenchOptions) throws -> Void
}

/// Why steward-bench stopped: what went wrong, what to do, and the daemon's log when one was running.
struct BenchFailure: Error, CustomStringConvertible {
    var message: String
    var daemonLog: String?
    var isUsage = false

    init(_ message: String, daemonLog: String? = nil) {
        self.message = message
        self.daemonLog = daemonLog
    }

    static func usage(_ message: String) -> BenchFailure {
        var failure = BenchFailure(message + "; see steward-bench --help")
        failure.isUsage = true
        return failure
    }

    var description: String {
        guard let daemonLog else { return message }
        let lines = daemonLog.split(separator: "\n")
        guard !lines.isEmpty else { return "\(message)\nstewardd's log is empty." }
        let shown = lines.suffix(60).map { "  | \($0)" }.joined(separator: "\n")
        let note = lines.count > 60 ? " (last 60 of \(lines.count) lines)" : ""
        return "\(message)\nstewardd's log\(note):\n\(shown)"
    }
}

/// The options after the subcommand's name, taken one by one so that each benchmark reads its own
/// and anything left over is an error.
struct BenchOptions {
    private var words: [String]

    init(_ words: [String]) { self.words = words }

    /// The value of `--name N` or `--name=N`, a whole number in `range`, or `defaultValue` when absent.
    mutating func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = try value(of: name) else { return defaultValue }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(number) else {
            throw BenchFailure.usage("\(name) needs a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }

    /// The value of `--name V` or `--name=V`, one of `choices`, or `defaultValue` when absent.
    mutating func choice(_ name: String, default defaultValue: String, among choices: [String]) throws -> String {
        guard let value = try value(of: name) else { return defaultValue }
        guard choices.contains(value) else {
            throw BenchFailure.usage("\(name) is \(choices.joined(separator: " or ")), not '\(value)'")
        }
        return value
    }

    /// Whether `--name` is given.
    mutating func flag(_ name: String) -> Bool {
        guard let index = words.firstIndex(of: name) else { return false }
        words.remove(at: index)
        return true
    }

    /// Fails on any word no benchmark took.
    func finish() throws {
        if let word = words.first { throw BenchFailure.usage("unknown argument '\(word)'") }
    }

    private mutating func value(of name: String) throws -> String? {
        if let index = words.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            return String(words.remove(at: index).dropFirst(name.count + 1))
        }
        guard let index = words.firstIndex(of: name) else { return nil }
        guard index + 1 < words.count, !words[index + 1].hasPrefix("--") else {
            throw BenchFailure.usage("\(name) needs a value")
        }
        let value = words[index + 1]
        words.removeSubrange(index...index + 1)
        return value
    }
}

/// `steward-bench [BENCHMARK] [OPTIONS]`: picks the benchmark (the first one by default) and
/// turns every failure into a message on stderr and a non-zero exit status.
struct BenchCommandLine {
    var benchmarks: [Benchmark]

    /// Runs what `arguments` (without the program name) ask for; returns the exit status.
    func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") || arguments.first == "help" {
            print(usage)
            return 0
        }
        do {
            let (benchmark, rest) = try choose(arguments)
            var options = BenchOptions(rest)
            try benchmark.run(&options)
            return 0
        } catch let failure as BenchFailure {
            FileHandle.standardError.write(Data("steward-bench: \(failure)\n".utf8))
            return failure.isUsage ? 64 : 1
        } catch {
            FileHandle.standardError.write(Data("steward-bench: \(error)\n".utf8))
            return 1
        }
    }

    private func choose(_ arguments: [String]) throws -> (Benchmark, [String]) {
        guard let first = arguments.first, !first.hasPrefix("-") else { return (benchmarks[0], arguments) }
        guard let benchmark = benchmarks.first(where: { $0.name == first }) else {
            throw BenchFailure.usage("there is no benchmark '\(first)'")
        }
        return (benchmark, Array(arguments.dropFirst()))
    }

    var usage: String {
        var text = """
            Usage: steward-bench [BENCHMARK] [OPTIONS]

            Starts the real stewardd from \(Binaries.directory)
            (or $STEWARD_BIN_DIR) in scratch folders and prints what it measured. Build every
            product first (swift build, or swift build -c release for numbers worth quoting), so
            stewardd and libProbeConnector.so sit beside steward-bench.

            Benchmarks (the first is the default):

            """
        for benchmark in benchmarks {
            text += "  \(benchmark.name)\n"
            text += benchmark.summary.split(separator: "\n").map { "      \($0)\n" }.joined()
            for (option, meaning) in benchmark.options {
                text += "    \(option.padding(toLength: 16, withPad: " ", startingAt: 0)) \(meaning)\n"
            }
        }
        text += "\nExit status: 0 measured, 1 a daemon or measurement failed, 64 wrong arguments."
        return text
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Durations measured one by one, summarised the way the benchmark prints them.
struct Samples {
    /// Sorted, in nanoseconds.
    let sorted: [UInt64]

    init(nanoseconds: [UInt64]) {
        precondition(!nanoseconds.isEmpty, "a summary needs at least one sample")
        sorted = nanoseconds.sorted()
    }

    var minimum: UInt64 { sorted[0] }
    var maximum: UInt64 { sorted[sorted.count - 1] }
    var mean: Double { Double(sorted.reduce(0, +)) / Double(sorted.count) }

    var median: Double {
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[middle]) : (Double(sorted[middle - 1]) + Double(sorted[middle])) / 2
    }

    /// The nearest-rank percentile: the smallest sample that at least `percent` % of samples do not exceed.
    func percentile(_ percent: Double) -> UInt64 {
        let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// CLOCK_MONOTONIC, the clock of ``NotifyListener``'s timestamps, in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A process's memory and threads as the kernel reports them in `/proc/PID/status`.
struct ProcessStatus {
    /// Resident set size now, in bytes.
    var residentBytes: UInt64
    /// The highest resident set size so far, in bytes.
    var peakResidentBytes: UInt64
    var threads: Int

    init(pid: Int32) throws {
        let path = "/proc/\(pid)/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw BenchFailure("could not read \(path); did stewardd exit?")
        }
        var fields: [Substring: Substring] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon]] = line[line.index(after: colon)...]
        }
        func number(_ key: Substring) throws -> UInt64 {
            guard let word = fields[key]?.split(whereSeparator: \.isWhitespace).first, let value = UInt64(word) else {
                throw BenchFailure("\(path) has no readable \(key) line")
            }
            return value
        }
        residentBytes = try number("VmRSS") * 1024
        peakResidentBytes = try number("VmHWM") * 1024
        threads = Int(try number("Threads"))
    }

    /// The CPU time `pid` has used so far, user and system, in nanoseconds (from
    /// `/proc/PID/stat`, in clock ticks).
    static func cpuNanoseconds(pid: Int32) throws -> UInt64 {
        let path = "/proc/\(pid)/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let close = text.lastIndex(of: ")") else {
            throw BenchFailure("could not read \(path); did stewardd exit?")
        }
        // After the command's closing parenthesis: state is field 3, utime field 14, stime field 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else {
            throw BenchFailure("\(path) has no readable utime and stime")
        }
        let ticks = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        return (user + system) * 1_000_000_000 / ticks
    }
}

/// How figures read in the benchmark's report.
enum Figure {
    static func milliseconds(_ nanoseconds: Double) -> String {
        String(format: "%.1f ms", nanoseconds / 1e6)
    }

    static func microseconds(_ nanoseconds: Double) -> String {
        let value = nanoseconds / 1e3
        return value < 10 ? String(format: "%.1f µs", value) : String(format: "%.0f µs", value)
    }

    static func mebibytes(_ bytes: UInt64) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    /// A whole number with thousands separated by commas, independent of the locale.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { text += "," }
            text.append(digit)
        }
        return value < 0 ? "-" + text : text
    }

    /// `label` padded to `width`, so the figures of a report line up.
    static func line(_ label: String, _ width: Int, _ figures: String) -> String {
        label.padding(toLength: max(width, label.count), withPad: " ", startingAt: 0) + " " + figures
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log: one line per event on stderr, prefixed with its sd-daemon priority (`<3>`
/// error, `<4>` warning, `<6>` info, `<7>` debug) so journald files each line at its level.
/// Lines name ids and counts, never student data.
public enum Log {
    public enum Level: Int32, Sendable, Comparable {
        case error = 3, warning = 4, info = 6, debug = 7
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public static func error(_ message: String) { write(.error, message) }
    public static func warning(_ message: String) { write(.warning, message) }
    public static func info(_ message: String) { write(.info, message) }
    public static func debug(_ message: String) { write(.debug, message) }

    /// One `write(2)` per line, so lines from different threads never interleave.
    public static func write(_ level: Level, _ message: String) {
        let flattened = message.replacingNewlines()
        let line = Array("<\(level.rawValue)>\(flattened)\n".utf8)
        line.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

extension String {
    /// The text on one line: a log line never spans two.
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}

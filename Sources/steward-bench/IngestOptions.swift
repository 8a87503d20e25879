/// Readers for the options `ingest` takes that are not whole numbers: a word from a fixed list,
/// and a flag.
///
/// `BenchOptions` keeps its words private to BenchCommandLine.swift, which this benchmark does
/// not change; until these readers move there (where they can use `words` directly), they read the
/// words by reflection and put back the ones they leave. Should the reflection ever find nothing,
/// the words stay where they are and `finish()` names them, so nothing is ignored silently.
extension BenchOptions {
    /// The value of `--name V` or `--name=V`, one of `choices`, or `defaultValue` when absent.
    mutating func choice(_ name: String, default defaultValue: String, among choices: [String]) throws -> String {
        var words = remainingWords
        let value: String
        if let index = words.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            value = String(words.remove(at: index).dropFirst(name.count + 1))
        } else if let index = words.firstIndex(of: name) {
            guard index + 1 < words.count, !words[index + 1].hasPrefix("--") else {
                throw BenchFailure.usage("\(name) needs a value")
            }
            value = words[index + 1]
            words.removeSubrange(index...index + 1)
        } else {
            return defaultValue
        }
        guard choices.contains(value) else {
            throw BenchFailure.usage("\(name) is \(choices.joined(separator: " or ")), not '\(value)'")
        }
        self = BenchOptions(words)
        return value
    }

    /// Whether `--name` is given.
    mutating func flag(_ name: String) -> Bool {
        var words = remainingWords
        guard let index = words.firstIndex(of: name) else { return false }
        words.remove(at: index)
        self = BenchOptions(words)
        return true
    }

    private var remainingWords: [String] {
        Mirror(reflecting: self).descendant("words") as? [String] ?? []
    }
}

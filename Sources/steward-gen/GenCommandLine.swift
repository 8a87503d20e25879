import Foundation
import StewardCore

/// Why steward-gen stopped, and the sysexits(3) status that says so.
struct GenFailure: Error, CustomStringConvertible {
    enum Status: Int32 {
        /// EX_USAGE: the arguments are wrong.
        case usage = 64
        /// EX_CANTCREAT: the output folder or a file in it cannot be made or written.
        case cannotCreate = 73
    }

    var status: Status
    var description: String

    static func usage(_ message: String) -> GenFailure {
        GenFailure(status: .usage, description: message + " (see steward-gen --help)")
    }

    static func cannotCreate(_ message: String) -> GenFailure {
        GenFailure(status: .cannotCreate, description: message)
    }
}

/// What the command line asks for.
struct GenArguments {
    var options: SyntheticDistrict.Options
    var output: String
    var deltaBase: String?

    static let largestDistrict = 10_000_000

    /// Reads `words` (without the program name); nil when help was asked for.
    static func parse(_ words: [String]) throws -> GenArguments? {
        var values: [String: String] = [:]
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "-h" || word == "--help" { return nil }
            if word == "--zip" {
                throw GenFailure.usage("--zip is not supported; zip the folder yourself: (cd DIR && zip -qr ../drop.zip .)")
            }
            guard word.hasPrefix("--") else { throw GenFailure.usage("unexpected argument '\(word)'") }
            let name: String, value: String
            if let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            } else {
                guard index < words.count, !words[index].hasPrefix("--") else { throw GenFailure.usage("\(word) needs a value") }
                name = word
                value = words[index]
                index += 1
            }
            guard known.contains(name) else { throw GenFailure.usage("unknown option \(name)") }
            guard values[name] == nil else { throw GenFailure.usage("\(name) is given twice") }
            values[name] = value
        }
        guard let studentsText = values["--students"] else { throw GenFailure.usage("--students is required") }
        guard let output = values["--out"], !output.isEmpty else { throw GenFailure.usage("--out is required") }
        var options = SyntheticDistrict.Options(students: try students(studentsText))
        if let seed = values["--seed"] {
            guard let number = UInt64(seed.replacingOccurrences(of: "_", with: "")) else {
                throw GenFailure.usage("--seed needs a whole number from 0 to \(UInt64.max), not '\(seed)'")
            }
            options.seed = number
        }
        if let format = values["--format"] { options.version = try version(format) }
        if let list = values["--defects"] { options.defects = try defects(list) }
        let deltaBase = values["--delta-from"]
        if deltaBase != nil {
            guard options.defects.isEmpty else { throw GenFailure.usage("--defects go into bulk drops only; leave them out of --delta-from") }
            options.mode = .delta
        }
        return GenArguments(options: options, output: output, deltaBase: deltaBase)
    }

    private static let known: Set<String> = ["--students", "--seed", "--format", "--delta-from", "--defects", "--out"]

    private static func students(_ text: String) throws -> Int {
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")), (1...largestDistrict).contains(number) else {
            throw GenFailure.usage("--students needs a whole number from 1 to \(largestDistrict), not '\(text)'")
        }
        return number
    }

    private static func version(_ text: String) throws -> OneRosterVersion {
        switch text {
        case "oneroster-1.1", "1.1": return .v1_1
        case "oneroster-1.2", "1.2": return .v1_2
        default: throw GenFailure.usage("--format is oneroster-1.1 or oneroster-1.2, not '\(text)'")
        }
    }

    private static func defects(_ list: String) throws -> [RosterDefect] {
        if list == "all" { return RosterDefect.allCases }
        var defects: [RosterDefect] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let defect = RosterDefect(rawValue: name) else {
                let valid = RosterDefect.allCases.map(\.rawValue).joined(separator: ", ")
                throw GenFailure.usage("unknown defect '\(name)'; the defects are: \(valid), or all")
            }
            if !defects.contains(defect) { defects.append(defect) }
        }
        guard !defects.isEmpty else { throw GenFailure.usage("--defects needs at least one name") }
        return defects
    }

    static var help: String {
        let defectLines = RosterDefect.allCases.map { defect -> String in
            let name = defect.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)
            let finding = defect.expectedFinding.map { "\($0.severity.rawValue) \($0.code.rawValue)" } ?? "none none"
            return "    \(name)\(defect.summary)\n    \(String(repeating: " ", count: 20))→ \(finding)"
        }.joined(separator: "\n")
        return """
            Usage: steward-gen --students N --out DIR [--seed S] [--format oneroster-1.1|oneroster-1.2]
                               [--delta-from DIR] [--defects LIST]

            Writes a synthetic school district as a OneRoster CSV drop: a folder holding manifest.csv
            and one CSV file per rostering entity. The same arguments always give byte-identical
            files. Rows are streamed as they are made: a million students need little memory.

            Options:
              --students N      students in the district, 1 to 10,000,000 (1_000_000 is accepted)
              --out DIR         the folder to write, created if missing. It must be empty or hold only
                                files that steward-gen writes (manifest.csv and the entity files); those
                                are replaced.
              --seed S          seed of the generator, 0 to 18446744073709551615 (default 1)
              --format F        oneroster-1.1 (default) or oneroster-1.2
              --delta-from DIR  write a delta instead of a bulk drop; see "Deltas"
              --defects LIST    comma-separated faults to put into a bulk drop, or all; see "Defects"
              --zip             not supported: zip the folder yourself, (cd DIR && zip -qr ../drop.zip .)
              -h, --help        this text

            The district:
              One district org and as many schools as the students need: elementary (K-5, about 500
              students each), middle (6-8, about 800) and high schools (9-12, about 1500). One school
              year, 2026-2027 (sourcedId as-2027, 2026-08-15 to 2027-06-10, schoolYear 2027), with a
              fall and a spring semester. Each school has a course per grade and period slot, and
              sections of at most 22 (homerooms) or 24 students. Elementary students have one homeroom;
              middle school students 6 sections, high school students 7 or more (some slots hold a
              fall and a spring course). A teacher has one homeroom, or a section in every period but
              one. Each school has 2 to 4 administrators, the district 3. Each student has one or two
              guardians (agentSourcedIds point both ways) and a demographics row whose birthDate fits
              the grade. Names come from a list of a few hundred given and family names; logins and
              emails are made from them (maria.garcia123@students.example.org). Passwords are empty.
              1.1: users.csv carries role and orgSourcedIds. 1.2: roles.csv holds every user's primary
              role, userProfiles.csv the district administrators' learning-platform accounts.
              Bulk files leave status and dateLastModified blank.

            Deltas (--delta-from DIR):
              DIR must be a drop of the same --format (its manifest.csv is checked); it should be the
              bulk drop of the same --students and --seed, which is regenerated, not read. The changes
              are drawn with seed + 1 (N = --students, few = max(3, N/2000)):
                - few new students, numbered from N + 1, each with guardians, a demographics row,
                  enrollments starting 2026-11-30 and, in 1.2, roles
                - up to few students and a handful of teachers whose familyName changed
                - a handful of sections moved to another room (classes.csv location)
                - up to few students who left: they, their guardians, demographics, enrollments and,
                  in 1.2, roles are written with status tobedeleted
              Only classes.csv, users.csv, demographics.csv, enrollments.csv and, in 1.2, roles.csv are
              written. Every row has status active or tobedeleted and dateLastModified
              2026-11-29T12:00:00Z; the manifest marks these files delta and the others absent.

            Defects (--defects LIST): each goes to one place picked with the seed, and one line per
            defect goes to stdout, in the order asked:
                defect NAME FILE:LINE:COLUMN SEVERITY CODE
              LINE is the physical line where the record starts (the header is line 1; 0 for the whole
              file), COLUMN the 1-based field (0 for the whole file). SEVERITY and CODE are the finding
              an importer should report; none none for faults that are valid CSV.
            \(defectLines)

            Output: the files in DIR; the defect lines on stdout; one summary line on stderr (rows per
            file, elapsed time, peak memory).

            Exit status: 0 done; 64 bad arguments (an unknown option or defect, a --delta-from folder
            that is not a drop of that version); 73 DIR or a file in it cannot be created or written.
            """
    }
}

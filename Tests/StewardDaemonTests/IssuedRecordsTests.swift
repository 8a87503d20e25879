import Foundation
import Testing
import StewardCore
@testable import StewardDaemon

/// `IssuedRecords` finds what a connector sent by walking the pages it was handed; it must say
/// exactly what looking every id up by value says, however the ids are reported.
struct IssuedRecordsTests {
    /// What the record of disclosures is made of, compared by value.
    struct Outcome: Equatable, CustomStringConvertible {
        var groups: [[String]]
        var enrollments: [String]
        var records: Int
        var description: String { "groups \(groups), enrollments \(enrollments), records \(records)" }

        init(_ result: (persons: SentPersons, enrollments: [String], records: Int)) {
            groups = result.persons.groups.map { group in
                [group.fields.sorted().joined(separator: "+")] + group.persons.map { "\($0.sourcedId)/\($0.kind)" }
            }
            enrollments = result.enrollments
            records = result.records
        }
    }

    /// The plain way: every handed-out id in a dictionary (the latest wins), every person added
    /// by value.
    static func byValue(_ handouts: [([SharedRecord], [String])], _ sent: [(ids: [String], fields: Set<String>)]) -> Outcome {
        var behind: [String: (String, SharedRecord.Kind)] = [:]
        for (records, sources) in handouts {
            for (record, source) in zip(records, sources) where !record.kind.isOrganization {
                behind[record.id] = (source, record.kind)
            }
        }
        var persons = SentPersons()
        var enrollments: [String] = []
        for entry in sent {
            for id in entry.ids {
                guard let (source, kind) = behind[id] else { continue }
                if kind == .enrollment { enrollments.append(source) } else if kind.isPerson { persons.add(source, kind: kind.rawValue, fields: entry.fields) }
            }
        }
        return Outcome((persons, enrollments, Set(sent.flatMap(\.ids)).count))
    }

    @Test func whatWasSentIsFoundAsLookingEachIdUpWouldFindIt() {
        var random = SplitMix64(seed: 61)
        let kinds: [SharedRecord.Kind] = [.student, .teacher, .section, .enrollment, .org, .course]
        let fieldSets: [Set<String>] = [["given_name"], ["given_name", "email"], ["school", "role"], []]
        for round in 0..<400 {
            // A few pages; a person may be handed out twice (a lookup, then a page).
            let sourcedIds = (0..<30).map { "src-\($0)" }
            var handouts: [([SharedRecord], [String])] = []
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let kind = (Int.random(in: 0..<100, using: &random) < 70) ? SharedRecord.Kind.student : kinds.randomElement(using: &random)!
                let chosen = Array(sourcedIds.shuffled(using: &random).prefix(Int.random(in: 0...12, using: &random))).sorted()
                // An id stands for one record: its kind and sourcedId.
                let records = chosen.map { source in
                    let recordKind = (Int.random(in: 0..<100, using: &random) < 90) ? kind : kinds.randomElement(using: &random)!
                    return SharedRecord(id: "id-\(recordKind.rawValue)-\(source)", kind: recordKind, fields: [:])
                }
                handouts.append((records, chosen))
            }
            // Reported as a connector might: whole pages in order, parts, out of order, twice,
            // in several groups of fields, with ids it was never handed.
            let handed = handouts.flatMap { $0.0.map(\.id) }
            var sent: [(ids: [String], fields: Set<String>)] = []
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                var ids: [String]
                switch Int.random(in: 0..<4, using: &random) {
                case 0: ids = handouts.randomElement(using: &random)!.0.map(\.id)
                case 1: ids = handed.filter { _ in (Int.random(in: 0..<100, using: &random) < 50) }
                case 2: ids = handed.shuffled(using: &random)
                default: ids = handed.filter { _ in (Int.random(in: 0..<100, using: &random) < 30) } + ["never-\(round)"] + handed.prefix(2)
                }
                sent.append((ids, fieldSets.randomElement(using: &random)!))
            }
            var issued = IssuedRecords()
            for (records, sources) in handouts { issued.add(records, sources: sources) }
            let walked = Outcome(issued.sentPersons(sent))
            let expected = Self.byValue(handouts, sent)
            #expect(walked == expected, "round \(round)")
            for id in handed + ["never-\(round)"] {
                let plain = handouts.reversed().lazy.compactMap { records, sources in
                    zip(records, sources).first { $0.0.id == id && !$0.0.kind.isOrganization }
                }.first
                #expect(issued.behind(id)?.sourcedId == plain?.1 && issued.behind(id)?.kind == plain?.0.kind, "round \(round): \(id)")
            }
        }
    }
}

import Foundation
import Testing
import StewardCore
@testable import StewardDaemon

/// A view's ids in id order are kept as numbers when they are pseudonyms; they must read, sort
/// and be found exactly as the strings they stand for.
struct SortedIdsTests {
    static func hex(_ random: inout SplitMix64) -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
    }

    @Test func pseudonymsReadSortAndAreFoundAsTheirStrings() {
        var random = SplitMix64(seed: 81)
        for round in 0..<40 {
            var ids = (0..<Int.random(in: 0...300, using: &random)).map { _ in Self.hex(&random) }
            // Some rounds hold a real id (a grant of sis_id): every id is then kept as a string.
            let real = round % 4 == 3
            if real { ids.append("stu-\(round)") }
            let sources = ids.map { "src-" + $0.prefix(6) }
            let (sorted, payload) = ViewIndexes.SortedIds.sorting(ids, with: sources)
            let expected = ids.indices.sorted { ids[$0].utf8.lexicographicallyPrecedes(ids[$1].utf8) }
            #expect(sorted.count == ids.count)
            #expect((0..<sorted.count).map { sorted[$0] } == expected.map { ids[$0] }, "round \(round)")
            #expect(payload == expected.map { sources[$0] }, "round \(round)")

            let inOrder = expected.map { ids[$0] }
            for probe in ids.prefix(20) + [Self.hex(&random), "", "0", "zzz", String(repeating: "f", count: 32), "stu-1"] {
                let atOrAbove = inOrder.firstIndex { !$0.utf8.lexicographicallyPrecedes(probe.utf8) } ?? inOrder.count
                let above = inOrder.firstIndex { probe.utf8.lexicographicallyPrecedes($0.utf8) } ?? inOrder.count
                #expect(sorted.position(of: probe, orEqual: false) == atOrAbove, "round \(round): \(probe)")
                #expect(sorted.position(of: probe, orEqual: true) == above, "round \(round): \(probe)")
            }
        }
        #expect(ViewIndexes.SortedIds.pseudonym("80c0467bfdc5f12af24ebd179e2ef3ba")! == (0x80c0467bfdc5f12a, 0xf24ebd179e2ef3ba))
        #expect(ViewIndexes.SortedIds.pseudonym("80C0467BFDC5F12AF24EBD179E2EF3BA") == nil, "upper case is another string")
        #expect(ViewIndexes.SortedIds.pseudonym("80c0467bfdc5f12af24ebd179e2ef3b") == nil)
    }
}

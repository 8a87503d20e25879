import ConnectorKit
import Foundation
import StewardCore
import Testing

/// A record's fields are kept as a list of names and values (ConnectorKit's `SharedFields`,
/// Core's `SharedRecord`), and must read as the dictionary they stand for.
struct SharedFieldsTests {
    static let pairs: [(String, SharedFieldValue)] = [("given_name", .text("Ann")), ("grade", .list(["05"])),
                                                      ("email", .text("a@example.org")), ("school", .list(["s1", "s2"]))]

    @Test func aFieldListReadsAsTheDictionaryItStandsForInAnyOrder() {
        var random = SplitMix64(seed: 71)
        let dictionary = Dictionary(uniqueKeysWithValues: Self.pairs)
        for _ in 0..<50 {
            let shuffled = Self.pairs.shuffled(using: &random)
            let fields = SharedFields(names: shuffled.map(\.0), values: shuffled.map(\.1))
            #expect(fields == SharedFields(dictionary))
            #expect(fields.hashValue == SharedFields(dictionary).hashValue)
            #expect(fields.dictionary == dictionary)
            #expect(Set(fields.keys) == Set(dictionary.keys) && fields.count == 4)
            for (name, value) in dictionary { #expect(fields[name] == value) }
            #expect(fields["race"] == nil)
            #expect(Dictionary(uniqueKeysWithValues: fields.map { ($0.key, $0.value) }) == dictionary)
            // Filtering keeps the order of what it keeps.
            let kept = fields.filter { $0.key != "email" }
            #expect(kept.names == shuffled.map(\.0).filter { $0 != "email" })
        }
        var fields: SharedFields = ["given_name": .text("Ann")]
        fields["email"] = .text("a@example.org")
        fields["given_name"] = .text("Bo")
        #expect(fields == ["email": .text("a@example.org"), "given_name": .text("Bo")])
        fields["email"] = nil
        #expect(fields == ["given_name": .text("Bo")] && fields != ["given_name": .text("Ann")])
        #expect(SharedFields(["a": .text("1")]) != SharedFields(["b": .text("1")]))
    }

    @Test func aRecordsListOfFieldsReadsAndEncodesAsItsDictionary() throws {
        let names = Self.pairs.map(\.0)
        let values: [SharedValue] = [.text("Ann"), .list(["05"]), .text("a@example.org"), .list(["s1", "s2"])]
        let listed = SharedRecord(id: "p1", kind: .student, fieldNames: names, fieldValues: values, version: 4)
        let byName = SharedRecord(id: "p1", kind: .student, fields: Dictionary(uniqueKeysWithValues: zip(names, values)), version: 4)
        #expect(listed == byName)
        #expect(listed.fields == byName.fields)
        #expect(listed.field("email") == .text("a@example.org") && listed.field("race") == nil)
        var changed = listed
        changed.setField("email", nil)
        changed.setField("race", .list(["asian"]))
        #expect(changed != listed)
        #expect(changed.fields == ["given_name": .text("Ann"), "grade": .list(["05"]), "school": .list(["s1", "s2"]), "race": .list(["asian"])])
        // Encoded as before the list: `fields` is a JSON object.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(listed)) as? [String: Any]
        #expect((json?["fields"] as? [String: Any])?["email"] as? String == "a@example.org")
        #expect(try JSONDecoder().decode(SharedRecord.self, from: JSONEncoder().encode(listed)) == listed)
    }
}

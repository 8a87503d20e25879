@testable import StewardCore
import Testing

@Suite struct ValueRulesTests {
    @Test("a list value splits on commas, trims spaces, tabs and carriage returns, and drops empty items")
    func listItems() {
        #expect(ValueRules.items("") == [])
        #expect(ValueRules.items("09") == ["09"])
        #expect(ValueRules.items("09,10") == ["09", "10"])
        #expect(ValueRules.items(" 09 ,\t10\r, ,,11,") == ["09", "10", "11"])
        #expect(ValueRules.items(",,") == [])
        #expect(ValueRules.items("Élodie, 北京") == ["Élodie", "北京"])
    }
}

/// A person's record is built field by field from one list: it must name every field of the
/// catalogue, in the catalogue's order, or a granted field would silently never be sent.
@Test func aPersonsRecordCanCarryEveryFieldOfTheCatalogue() {
    #expect(SharedView.PersonField.allCases.map(\.rawValue) == FieldCatalogue.all.map(\.name))
}

import StewardTLS
import Testing

@Suite struct HTTPHeadersTests {
    @Test func aLiteralKeepsItsOrder() {
        let headers: HTTPHeaders = ["B": "2", "A": "1", "C": "3"]
        #expect(headers.map(\.name) == ["B", "A", "C"])
    }

    @Test func setReplacesEveryLineOfANameInPlaceOfTheFirst() {
        var headers: HTTPHeaders = ["Vary": "Accept", "X": "1", "vary": "Origin"]
        headers.set("VARY", "*")
        #expect(headers.fields == [HTTPField(name: "Vary", value: "*"), HTTPField(name: "X", value: "1")])
        headers.set("New", "n")
        #expect(headers.map(\.name) == ["Vary", "X", "New"])
    }

    @Test func addKeepsRepeatsAndRemoveDropsThemAll() {
        var headers = HTTPHeaders()
        headers.add("Set-Cookie", "a=1")
        headers.add("set-cookie", "b=2")
        #expect(headers.values(for: "SET-COOKIE") == ["a=1", "b=2"])
        headers.remove("Set-Cookie")
        #expect(headers.isEmpty)
    }

    @Test func listElementsSpanLinesAndDropEmptyElements() {
        let headers: HTTPHeaders = ["Connection": "Keep-Alive, , Upgrade", "connection": " TE "]
        #expect(headers.listElements(for: "Connection") == ["keep-alive", "upgrade", "te"])
    }
}

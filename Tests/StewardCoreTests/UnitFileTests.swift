import StewardCore
import Testing

@Suite struct UnitFileTests {
    let schema = UnitFileSchema([
        .init("Steward", keys: [.init("District", required: true), .init("Modules", repeatable: true), .init("StateDirectory")]),
        .init("Roles", keys: [.init("admin", repeatable: true)]),
    ])

    @Test func readsSectionsKeysCommentsAndTrailingComments() {
        let file = UnitFile(path: "/etc/steward/steward.conf", text: """
            # a comment
            ; another
            [Steward]
            District = Example Unified   # trailing comment
            Modules=a b
            Modules=c
            StateDirectory=/var/lib/steward#not-a-comment
            """)
        #expect(file.problems.isEmpty)
        #expect(file.first("Steward", "District")?.value == "Example Unified")
        #expect(file.first("Steward", "District")?.line == 4)
        #expect(file.all("Steward", "Modules").map(\.value) == ["a b", "c"])
        #expect(file.first("Steward", "StateDirectory")?.value == "/var/lib/steward#not-a-comment")
    }

    @Test func malformedLinesNameTheirLine() {
        let file = UnitFile(path: "f.conf", text: "Key=before-section\n[Steward\njust words\n=value\n")
        #expect(file.problems.map(\.description) == [
            "f.conf:1: Key: this key comes before any [Section] header",
            "f.conf:2: a section header must look like [Name]",
            "f.conf:3: expected Key=Value, a [Section] or a # comment",
            "f.conf:4: a line starts with '=': the key is missing",
        ])
    }

    @Test func misspelledKeySuggestsTheRightName() {
        let file = UnitFile(path: "f.conf", text: "[Steward]\nDistrict=X\nStateDirectroy=/x\n")
        let problems = file.problems(against: schema).map(\.description)
        #expect(problems == ["f.conf:3: StateDirectroy: unknown key in [Steward]; did you mean StateDirectory?"])
    }

    @Test func misspelledSectionSuggestsTheRightName() {
        let file = UnitFile(path: "f.conf", text: "[Steward]\nDistrict=X\n[Role]\nadmin=0\n")
        #expect(file.problems(against: schema).map(\.description) == ["f.conf:4: unknown section [Role]; did you mean [Roles]?"])
    }

    @Test func singleValuedKeyGivenTwiceIsAnError() {
        let file = UnitFile(path: "f.conf", text: "[Steward]\nDistrict=X\nDistrict=Y\n")
        #expect(file.problems(against: schema).map(\.description) == ["f.conf:3: District: given twice (first on line 2); keep one"])
    }

    @Test func missingRequiredKeyIsAnError() {
        let file = UnitFile(path: "f.conf", text: "[Steward]\nModules=a\n")
        #expect(file.problems(against: schema).map(\.description) == ["f.conf:2: District: required in [Steward] but missing"])
    }
}

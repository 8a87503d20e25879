@testable import StewardCore
import Testing

/// A synthetic drop written into memory.
struct GeneratedDrop {
    var files: [String: [UInt8]] = [:]
    var defects: [InjectedDefect] = []

    init(_ options: SyntheticDistrict.Options) throws {
        let district = try SyntheticDistrict(options)
        for file in district.files {
            var bytes: [UInt8] = []
            let writer = CSVWriter(format: file.format) { bytes.append(contentsOf: $0) }
            defects += try file.write(to: writer)
            files[file.name] = bytes
        }
    }

    init(students: Int, seed: UInt64 = 1, version: OneRosterVersion = .v1_1, mode: SyntheticDistrict.Mode = .bulk,
         defects: [RosterDefect] = []) throws {
        try self.init(SyntheticDistrict.Options(students: students, seed: seed, version: version, mode: mode, defects: defects))
    }

    /// The file's records, header first.
    func records(_ name: String) -> [TinyCSV.Record] {
        TinyCSV.records(files[name] ?? [])
    }

    /// The file's data rows as column name → value.
    func rows(_ entity: RosterEntity) -> [[String: String]] {
        let records = records(entity.fileName)
        guard let header = records.first?.fields else { return [] }
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.fields)) }
    }

    func ids(_ entity: RosterEntity) -> Set<String> {
        Set(rows(entity).compactMap { $0["sourcedId"] })
    }

    var manifest: [String: String] {
        Dictionary(uniqueKeysWithValues: records("manifest.csv").dropFirst().map { ($0.fields[0], $0.fields[1]) })
    }
}

@Suite struct SyntheticDistrictTests {
    @Test func sameArgumentsGiveTheSameBytes() throws {
        let first = try GeneratedDrop(students: 200, seed: 42, version: .v1_2)
        let second = try GeneratedDrop(students: 200, seed: 42, version: .v1_2)
        #expect(first.files == second.files)
        let otherSeed = try GeneratedDrop(students: 200, seed: 43, version: .v1_2)
        #expect(first.files["users.csv"] != otherSeed.files["users.csv"])
    }

    @Test(arguments: OneRosterVersion.allCases)
    func everyHeaderIsTheSchemasColumnList(_ version: OneRosterVersion) throws {
        let drop = try GeneratedDrop(students: 50, version: version)
        let entities = RosterEntity.allCases.filter { $0.exists(in: version) }
        #expect(Set(drop.files.keys) == Set(entities.map(\.fileName) + ["manifest.csv"]))
        for entity in entities {
            let header = drop.records(entity.fileName).first?.fields
            #expect(header == OneRosterSchema.columns(entity, version).map(\.name), "\(entity.fileName)")
        }
    }

    @Test(arguments: OneRosterVersion.allCases)
    func theGeneratorKnowsEverySchemaColumn(_ version: OneRosterVersion) {
        for entity in RosterEntity.allCases where entity.exists(in: version) {
            let unknown = OneRosterSchema.columns(entity, version).map(\.name).filter { RosterColumn(rawValue: $0) == nil }
            #expect(unknown.isEmpty, "\(entity.fileName): \(unknown)")
        }
    }

    @Test(arguments: OneRosterVersion.allCases)
    func everyValueMeetsTheSchemaAndEveryReferenceResolves(_ version: OneRosterVersion) throws {
        let drop = try GeneratedDrop(students: 400, seed: 3, version: version)
        let entities = RosterEntity.allCases.filter { $0.exists(in: version) }
        let ids = Dictionary(uniqueKeysWithValues: entities.map { ($0, drop.ids($0)) })
        var problems: [String] = []
        for entity in entities {
            let rows = drop.rows(entity)
            #expect(!rows.isEmpty, "\(entity.fileName) has rows")
            if entity != .demographics { #expect(Set(rows.map { $0["sourcedId"]! }).count == rows.count, "\(entity.fileName) ids unique") }
            for (number, row) in rows.enumerated() {
                for column in OneRosterSchema.columns(entity, version) {
                    let value = row[column.name] ?? ""
                    let place = "\(entity.fileName) row \(number + 1) \(column.name)"
                    if value.isEmpty {
                        if column.isRequired { problems.append("\(place): required but empty") }
                        continue
                    }
                    switch column.kind {
                    case .reference(let target):
                        if ids[target]?.contains(value) != true { problems.append("\(place): \(value) unresolved") }
                    case .referenceList(let target):
                        for item in ValueRules.items(value) where ids[target]?.contains(item) != true {
                            problems.append("\(place): \(item) unresolved")
                        }
                    default:
                        if case .refused(let code, _) = ValueRules.read(value, as: column.kind) { problems.append("\(place): \(code)") }
                        if case .lenient(_, let code, _) = ValueRules.read(value, as: column.kind) { problems.append("\(place): \(code)") }
                    }
                }
                if row["status"] != "" || row["dateLastModified"] != "" { problems.append("\(entity.fileName) row \(number + 1): status in bulk") }
            }
        }
        #expect(problems.prefix(10) == [])
    }

    @Test func manifestMarksEveryWrittenFileBulkAndTheRestAbsent() throws {
        let manifest = try GeneratedDrop(students: 20, version: .v1_2).manifest
        #expect(manifest["manifest.version"] == "1.0")
        #expect(manifest["oneroster.version"] == "1.2")
        #expect(manifest["file.users"] == "bulk")
        #expect(manifest["file.roles"] == "bulk")
        #expect(manifest["file.resources"] == "absent")
        #expect(manifest["file.scoreScales"] == "absent")
        #expect(manifest["source.systemName"] == "steward-gen")
        #expect(manifest["source.systemCode"] == "steward-gen")
        let manifest11 = try GeneratedDrop(students: 20, version: .v1_1).manifest
        #expect(manifest11["file.roles"] == nil)
        #expect(manifest11["file.scoreScales"] == nil)
        #expect(manifest11["file.results"] == "absent")
    }

    @Test func studentsHaveSectionsWithoutClashesAndTeachersTeachThem() throws {
        let drop = try GeneratedDrop(students: 600, seed: 9)
        let sections = Dictionary(uniqueKeysWithValues: drop.rows(.classes).map { ($0["sourcedId"]!, $0) })
        var slots: [String: [String]] = [:]
        var enrolledStudents: Set<String> = []
        var taughtSections: Set<String> = []
        for enrollment in drop.rows(.enrollments) {
            let section = try #require(sections[enrollment["classSourcedId"]!])
            #expect(section["schoolSourcedId"] == enrollment["schoolSourcedId"])
            for term in ValueRules.items(section["termSourcedIds"]!) {
                slots[enrollment["userSourcedId"]!, default: []].append(section["periods"]! + "/" + term)
            }
            if enrollment["role"] == "teacher" { taughtSections.insert(section["sourcedId"]!) } else {
                enrolledStudents.insert(enrollment["userSourcedId"]!)
            }
        }
        let clashes = slots.filter { Set($0.value).count != $0.value.count }.keys
        #expect(clashes.isEmpty)
        #expect(enrolledStudents.count == 600)
        #expect(taughtSections == Set(sections.keys))
    }

    @Test func birthDatesFitGradesAndGuardiansLinkBothWays() throws {
        let drop = try GeneratedDrop(students: 300, seed: 5)
        let users = Dictionary(uniqueKeysWithValues: drop.rows(.users).map { ($0["sourcedId"]!, $0) })
        for demographic in drop.rows(.demographics) {
            let student = try #require(users[demographic["sourcedId"]!])
            let grade = student["grades"] == "KG" ? 0 : Int(student["grades"]!)!
            let birthYear = Int(demographic["birthDate"]!.prefix(4))!
            #expect((2026 - 7 - grade)...(2026 - 5 - grade) ~= birthYear, "\(student["sourcedId"]!)")
        }
        for user in users.values where user["role"] == "student" {
            let guardians = ValueRules.items(user["agentSourcedIds"]!)
            #expect((1...2).contains(guardians.count))
            for id in guardians {
                let guardian = try #require(users[id])
                #expect(guardian["role"] == "guardian")
                #expect(guardian["agentSourcedIds"] == user["sourcedId"])
            }
        }
    }

    @Test func districtOfAMillionIsLaidOutLikeARealOne() throws {
        let district = try SyntheticDistrict(SyntheticDistrict.Options(students: 1_000_000))
        let levels = Dictionary(grouping: district.schools, by: \.level).mapValues(\.count)
        #expect((850...1000).contains(levels[.elementary] ?? 0))
        #expect((250...330).contains(levels[.middle] ?? 0))
        #expect((180...230).contains(levels[.high] ?? 0))
        let studentsPerTeacher = Double(district.studentCount) / Double(district.teacherCount)
        #expect((14.0...20.0).contains(studentsPerTeacher))
    }

    @Test(arguments: OneRosterVersion.allCases)
    func deltaHoldsOnlyChangesAgainstTheBulkDrop(_ version: OneRosterVersion) throws {
        let bulk = try GeneratedDrop(students: 500, seed: 11, version: version)
        let delta = try GeneratedDrop(students: 500, seed: 11, version: version, mode: .delta)
        let manifest = delta.manifest
        #expect(manifest["file.orgs"] == "absent")
        #expect(manifest["file.users"] == "delta")
        #expect(manifest["file.enrollments"] == "delta")
        var counts: [String: Int] = [:]
        for entity in RosterEntity.allCases where delta.files[entity.fileName] != nil {
            #expect(manifest["file.\(entity.rawValue)"] == "delta")
            let base = Dictionary(bulk.rows(entity).map { ($0["sourcedId"]!, $0) }, uniquingKeysWith: { first, _ in first })
            for row in delta.rows(entity) {
                #expect(row["dateLastModified"] == "2026-11-29T12:00:00Z")
                let id = row["sourcedId"]!
                let before = base[id]
                switch (row["status"], before) {
                case ("tobedeleted", let before?):
                    counts["removed", default: 0] += 1
                    #expect(row.filter { !["status", "dateLastModified"].contains($0.key) } == before.filter { !["status", "dateLastModified"].contains($0.key) })
                case ("active", nil):
                    counts["added", default: 0] += 1
                case ("active", let before?):
                    counts["changed", default: 0] += 1
                    #expect(row.filter { $0.key != "status" && $0.key != "dateLastModified" && before[$0.key] != $0.value }.count == 1, "\(id)")
                default:
                    Issue.record("\(entity.fileName) \(id): status \(row["status"] ?? "") against \(before == nil ? "no" : "a") bulk row")
                }
            }
        }
        #expect(counts["added", default: 0] > 0 && counts["changed", default: 0] > 0 && counts["removed", default: 0] > 0)
        // Every reference of a delta row resolves against the bulk drop plus the delta.
        let known = Dictionary(uniqueKeysWithValues: RosterEntity.allCases.map { ($0, bulk.ids($0).union(delta.ids($0))) })
        for entity in [RosterEntity.users, .enrollments] {
            for row in delta.rows(entity) {
                for column in OneRosterSchema.columns(entity, version) {
                    guard case .reference(let target) = column.kind, let value = row[column.name], !value.isEmpty else { continue }
                    #expect(known[target]?.contains(value) == true, "\(value)")
                }
            }
        }
    }

    @Test func defectsAreRefusedInADelta() {
        #expect(throws: SyntheticDistrict.OptionError.self) {
            try SyntheticDistrict(SyntheticDistrict.Options(students: 10, mode: .delta, defects: [.crlf]))
        }
    }

    @Test(arguments: RosterDefect.allCases)
    func eachDefectIsWhereItsLineSays(_ defect: RosterDefect) throws {
        let drop = try GeneratedDrop(students: 300, seed: 21, defects: [defect])
        try #require(drop.defects.count == 1)
        let placed = drop.defects[0]
        let finding = defect.expectedFinding.map { "\($0.severity.rawValue) \($0.code.rawValue)" } ?? "none none"
        #expect(placed.description == "defect \(defect.rawValue) \(placed.file):\(placed.line):\(placed.column) \(finding)")
        #expect(placed.file == defect.entity.fileName)
        try expectDefect(placed, in: drop)
    }

    @Test func allDefectsAtOnceStayWhereTheirLinesSay() throws {
        let drop = try GeneratedDrop(students: 300, seed: 21, defects: RosterDefect.allCases)
        #expect(Set(drop.defects.map(\.defect)) == Set(RosterDefect.allCases))
        for placed in drop.defects { try expectDefect(placed, in: drop) }
    }

    /// Checks the fault is at `placed`'s file, line and column.
    func expectDefect(_ placed: InjectedDefect, in drop: GeneratedDrop) throws {
        let bytes = try #require(drop.files[placed.file])
        let records = TinyCSV.records(bytes)
        if placed.defect == .crlf {
            #expect(placed.line == 0 && placed.column == 0)
            let lineFeeds = bytes.filter { $0 == 0x0A }.count
            #expect(lineFeeds == records.count && bytes.split(separator: 0x0A).allSatisfy { $0.last == 0x0D })
            return
        }
        let record = try #require(records.first { $0.line == placed.line }, "\(placed): no record starts on that line")
        let value = record.fields[placed.column - 1]
        switch placed.defect {
        case .bulkStatus: #expect(value == "active" && !record.fields[placed.column].isEmpty)
        case .uppercaseBoolean: #expect(value == "TRUE")
        case .misspelledHeader: #expect(placed.line == 1 && value == "dataLastModified")
        case .looseDate: #expect(value == "2026-8-15")
        case .ambiguousDate:
            guard case .refused(.ambiguousDate, _) = ValueRules.date(value) else {
                Issue.record("\(value) is not an ambiguous date")
                return
            }
        case .vendorColumn:
            #expect(placed.line == 1 && value == "vendorStudentFlag")
            #expect(records.allSatisfy { $0.fields.count == placed.column })
        case .byteOrderMark: #expect(placed.line == 1 && placed.column == 1 && bytes.starts(with: [0xEF, 0xBB, 0xBF]))
        case .duplicateId: #expect(records.filter { $0.fields[0] == value }.count == 2 && records.first { $0.fields[0] == value }!.line < placed.line)
        case .danglingReference:
            #expect(TinyCSV.records(drop.files["classes.csv"]!).allSatisfy { $0.fields[0] != value })
        case .missingValue: #expect(value.isEmpty && records[0].fields[placed.column - 1] == "familyName")
        case .badEnumeration: #expect(value == "lecture")
        case .invalidUTF8: #expect(String(validating: record.rawFields[placed.column - 1], as: UTF8.self) == nil)
        case .quotedNewline: #expect(value.contains(",") && value.contains("\"") && value.contains("\n"))
        case .crlf: break
        }
    }
}

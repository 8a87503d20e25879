import Foundation
import StewardCore
import StewardHarness
import StewardCrypto
import StewardIngest
import StewardStore
import Testing

/// A synthetic district of a few hundred students, imported into a real store in a scratch folder,
/// with the district secret beside it.
final class ImportedDistrict: Sendable {
    let directory: String
    let store: Store
    let secret: DistrictSecret
    /// School sourcedIds, and the district org's.
    let schools: [String]
    let districtOrg: String
    /// (section, teacher) for every teaching enrollment.
    let teaching: [(section: String, teacher: String)]
    let teachers: [String]
    /// Every sourcedId of the roster: users, classes, enrollments, orgs, sessions, courses.
    let sourcedIds: Set<String>
    /// givenName by user sourcedId, to check a record is about the person its id names.
    let givenNames: [String: String]
    let rosterVersion: Int64

    init(students: Int, seed: UInt64, version: OneRosterVersion) throws {
        directory = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-view-\(UUID().uuidString)"
        let drop = directory + "/drop"
        try writeSyntheticDrop(SyntheticDistrict.Options(students: students, seed: seed, version: version), to: drop)
        store = try Store(stateDirectory: directory + "/state")
        let report = RosterImporter(store: store).run(
            path: drop, options: ImportOptions(source: drop, auditCaller: AuditEvent(method: "test.import", outcome: "")))
        guard report.verdict == .applied else { throw ImportFailed(report: "\(report.verdict): \(report.findings.prefix(5))") }
        secret = try DistrictSecret.loadOrCreate(in: directory + "/state")
        (schools, districtOrg, teaching, teachers, sourcedIds, givenNames, rosterVersion) = try store.read { db throws(StewardError) in
            let schools = try Self.column(db, "SELECT \"sourcedId\" FROM roster_orgs WHERE \"type\" = 'school' ORDER BY 1")
            let district = try Self.column(db, "SELECT \"sourcedId\" FROM roster_orgs WHERE \"type\" = 'district'")
            let teaching = try Self.rows(db, """
                SELECT "classSourcedId", "userSourcedId" FROM roster_enrollments WHERE "role" = 'teacher' ORDER BY 1, 2
                """, columns: 2).map { (section: $0[0], teacher: $0[1]) }
            let teachers = try Self.column(db, "SELECT \"sourcedId\" FROM roster_users WHERE \"role\" = 'teacher' ORDER BY 1")
            let ids = try Self.column(db, """
                SELECT "sourcedId" FROM roster_users UNION ALL SELECT "sourcedId" FROM roster_classes
                UNION ALL SELECT "sourcedId" FROM roster_enrollments UNION ALL SELECT "sourcedId" FROM roster_orgs
                UNION ALL SELECT "sourcedId" FROM roster_academicSessions UNION ALL SELECT "sourcedId" FROM roster_courses
                """)
            let names = try Self.rows(db, "SELECT \"sourcedId\", \"givenName\" FROM roster_users", columns: 2)
            let version = try db.scalarInt("SELECT max(modified_import) FROM roster_users") ?? 0
            return (schools, district.first ?? "", teaching, teachers, Set(ids),
                    Dictionary(uniqueKeysWithValues: names.map { ($0[0], $0[1]) }), version)
        }
    }

    struct ImportFailed: Error, CustomStringConvertible {
        let report: String
        var description: String { "the synthetic district did not import: \(report)" }
    }

    deinit { store.close() }

    static func rows(_ db: Database, _ sql: String, _ values: [SQLValue] = [], columns: Int32) throws(StewardError) -> [[String]] {
        let query = try db.prepare(sql)
        try query.bind(values)
        var rows: [[String]] = []
        while try query.step() { rows.append((0..<columns).map { query.text($0) ?? "" }) }
        return rows
    }

    static func column(_ db: Database, _ sql: String, _ values: [SQLValue] = []) throws(StewardError) -> [String] {
        try rows(db, sql, values, columns: 1).map { $0[0] }
    }
}

/// One randomly drawn partner: its grant, its agreement's data elements, and (Library) the
/// adoptions teachers made.
struct RandomPartner: CustomStringConvertible {
    var name: String
    var kind: PartnerFile.Kind
    var schools: [String]?
    var grades: [String]?
    var roles: [String]
    var fields: [String]
    var dataElements: [String]
    /// Adoptions made, some by a teacher who does not teach the section (those do not count).
    var adoptions: [(section: String, teacher: String)] = []
    /// The sections that should count: adopted by a teacher of theirs.
    var adopted: Set<String> = []

    static let today = "2026-11-29"
    static let libraryCap: Set<String> = ["given_name", "family_initial", "grade", "sections"]

    var description: String {
        "\(name) \(kind) schools=\(schools?.joined(separator: " ") ?? "all") grades=\(grades?.joined(separator: " ") ?? "all") "
            + "roles=\(roles.joined(separator: " ")) fields=\(fields.joined(separator: " ")) "
            + "data=\(dataElements.joined(separator: " ")) adopted=\(adopted.sorted().joined(separator: " "))"
    }

    var text: String {
        PartnerFileText(name: name, type: kind.rawValue, schools: schools?.joined(separator: " ") ?? "all",
                        grades: grades?.joined(separator: " "), roles: roles.joined(separator: " "), fields: fields,
                        dataElements: dataElements).text
    }

    /// What a record may carry, worked out here from the lists rather than by the policy.
    var allowedFields: Set<String> {
        let fields = Set(fields).intersection(dataElements)
        return kind == .library ? fields.intersection(Self.libraryCap) : fields
    }

    var allowedRoles: Set<String> {
        let roles = Set(roles).intersection(["student", "teacher", "administrator", "aide"])
        return kind == .library ? roles.intersection(["student", "teacher"]) : roles
    }

    var receivesRealIds: Bool { kind == .district && allowedFields.contains("sis_id") }

    static func draw(_ index: Int, in district: ImportedDistrict, using random: inout SplitMix64) -> RandomPartner {
        let kind: PartnerFile.Kind = random.chance(45) ? .library : .district
        var schools: [String]? = nil
        if !random.chance(30) {
            var chosen = random.subset(of: district.schools, atLeast: 1)
            if random.chance(15) { chosen.append(district.districtOrg) }
            if random.chance(10) { chosen.append("sch-9999") }
            schools = chosen
        }
        let gradeWords = ["KG"] + (1...12).map { random.chance(50) ? String($0) : String(format: "%02d", $0) }
        let grades = random.chance(40) ? nil : random.subset(of: gradeWords, atLeast: 1, atMost: 5)
        let roles = random.subset(of: PartnerFile.grantableRoles, atLeast: 1)
        let catalogue = FieldCatalogue.all.map(\.name)
        let fields = kind == .library && random.chance(50)
            ? random.subset(of: catalogue.filter(libraryCap.contains), atLeast: 1)
            : random.subset(of: catalogue, atLeast: 1)
        let dataElements = random.chance(60)
            ? catalogue.filter { fields.contains($0) || random.chance(20) }
            : random.subset(of: catalogue, atLeast: 1)
        var partner = RandomPartner(name: "partner-\(index)-\(kind.rawValue)", kind: kind, schools: schools, grades: grades,
                                    roles: roles, fields: fields, dataElements: dataElements)
        if kind == .library {
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                let pair = district.teaching[Int.random(in: 0..<district.teaching.count, using: &random)]
                // The first adoption of a section stands; a second is ignored.
                guard !partner.adoptions.contains(where: { $0.section == pair.section }) else { continue }
                if random.chance(20) {
                    let teachers = Set(district.teaching.filter { $0.section == pair.section }.map(\.teacher))
                    if let other = district.teachers.first(where: { !teachers.contains($0) }) {
                        partner.adoptions.append((pair.section, other))
                        continue
                    }
                }
                partner.adoptions.append(pair)
                partner.adopted.insert(pair.section)
            }
        }
        return partner
    }
}

extension SplitMix64 {
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }

    /// A random subset of `items` in their order, of at least `atLeast` and at most `atMost` items.
    mutating func subset<T>(of items: [T], atLeast: Int = 0, atMost: Int = .max) -> [T] {
        let count = Int.random(in: min(atLeast, items.count)...min(atMost, items.count), using: &self)
        let chosen = Set(Array(items.indices).shuffled(using: &self).prefix(count))
        return items.indices.filter(chosen.contains).map { items[$0] }
    }
}

/// The scope a partner should have, worked out with SQL on the store, independently of
/// `SharingPolicy`: the sourcedIds each kind of its view should hold.
enum ScopeOracle {
    /// `(instr(',' || column || ',', ',x,') > 0 OR …)`: whether a comma-separated column holds one of `tokens`.
    static func holdsAny(_ column: String, _ tokens: [String]) -> (sql: String, values: [SQLValue]) {
        guard !tokens.isEmpty else { return ("0", []) }
        return ("(" + tokens.map { _ in "instr(',' || replace(\(column), ' ', '') || ',', ?) > 0" }.joined(separator: " OR ") + ")",
                tokens.map { .text(",\($0),") })
    }

    /// Every way the roster may write a granted grade: `3` is also `03`, `03` also `3`.
    static func spellings(_ grades: [String]) -> [String] {
        grades.flatMap { grade -> [String] in
            guard let number = Int(grade) else { return [grade] }
            return [String(number), String(format: "%02d", number)]
        }
    }

    static func list(_ values: [String]) -> String { "(" + values.map { _ in "?" }.joined(separator: ", ") + ")" }

    static func expected(_ kind: SharedRecord.Kind, for partner: RandomPartner, db: Database) throws(StewardError) -> [String] {
        switch kind {
        case .section: return try sections(partner, db)
        case .org, .academicSession, .course: return partner.kind == .library ? [] : try organization(kind, partner, db)
        case .enrollment: return try enrollments(partner, db)
        default: return try people(kind.rawValue, partner, db)
        }
    }

    /// The district's own records: its non-school orgs and the granted schools, every academic
    /// session, and the courses of the district or of a granted school in a granted grade.
    static func organization(_ kind: SharedRecord.Kind, _ partner: RandomPartner, _ db: Database) throws(StewardError) -> [String] {
        switch kind {
        case .org:
            guard let schools = partner.schools else { return try ImportedDistrict.column(db, "SELECT \"sourcedId\" FROM roster_orgs ORDER BY 1") }
            return try ImportedDistrict.column(db, "SELECT \"sourcedId\" FROM roster_orgs WHERE \"type\" <> 'school' OR \"sourcedId\" IN \(list(schools)) ORDER BY 1",
                                               schools.map(SQLValue.text))
        case .academicSession:
            return try ImportedDistrict.column(db, "SELECT \"sourcedId\" FROM roster_academicSessions ORDER BY 1")
        default:
            var sql = "SELECT c.\"sourcedId\" FROM roster_courses c JOIN roster_orgs o ON o.\"sourcedId\" = c.\"orgSourcedId\" WHERE 1"
            var values: [SQLValue] = []
            if let schools = partner.schools {
                sql += " AND (o.\"type\" <> 'school' OR o.\"sourcedId\" IN \(list(schools)))"
                values += schools.map(SQLValue.text)
            }
            if let grades = partner.grades {
                let clause = holdsAny("c.\"grades\"", spellings(grades))
                sql += " AND (c.\"grades\" = '' OR \(clause.sql))"
                values += clause.values
            }
            return try ImportedDistrict.column(db, sql + " ORDER BY 1", values)
        }
    }

    /// Enrollments whose section and whose person are both in the view.
    static func enrollments(_ partner: RandomPartner, _ db: Database) throws(StewardError) -> [String] {
        let sections = Set(try self.sections(partner, db))
        var persons = Set<String>()
        for role in ["student", "teacher", "administrator", "aide"] { persons.formUnion(try people(role, partner, db)) }
        return try ImportedDistrict.rows(db, """
            SELECT "sourcedId", "classSourcedId", "userSourcedId" FROM roster_enrollments ORDER BY 1
            """, columns: 3).filter { sections.contains($0[1]) && persons.contains($0[2]) }.map { $0[0] }
    }

    static func people(_ role: String, _ partner: RandomPartner, _ db: Database) throws(StewardError) -> [String] {
        guard partner.allowedRoles.contains(role) else { return [] }
        var sql = "SELECT u.\"sourcedId\" FROM roster_users u WHERE u.\"role\" = ?"
        var values: [SQLValue] = [.text(role)]
        func and(_ clause: (sql: String, values: [SQLValue])) {
            sql += " AND " + clause.sql
            values += clause.values
        }
        if let schools = partner.schools { and(holdsAny("u.\"orgSourcedIds\"", schools)) }
        if let grades = partner.grades, role == "student" { and(holdsAny("u.\"grades\"", spellings(grades))) }
        if let grades = partner.grades, role == "teacher" {
            let taught = holdsAny("c.\"grades\"", spellings(grades))
            and(("""
                EXISTS (SELECT 1 FROM roster_enrollments e JOIN roster_classes c ON c."sourcedId" = e."classSourcedId"
                        WHERE e."userSourcedId" = u."sourcedId" AND \(taught.sql))
                """, taught.values))
        }
        if partner.kind == .library {
            let adopted = partner.adopted.sorted()
            and(("u.\"sourcedId\" IN (SELECT \"userSourcedId\" FROM roster_enrollments WHERE \"classSourcedId\" IN \(list(adopted)))",
                 adopted.map(SQLValue.text)))
        }
        return try ImportedDistrict.column(db, sql + " ORDER BY 1", values)
    }

    /// Sections of the granted schools and grades (a section without grades counts as any), and for
    /// a Library application only adopted ones; none unless `sections` is granted. A Library grant's
    /// Schools= and Grades= bound its sections as they bound its students: a teacher cannot widen
    /// the grant by adopting a section elsewhere.
    static func sections(_ partner: RandomPartner, _ db: Database) throws(StewardError) -> [String] {
        guard partner.allowedFields.contains("sections") else { return [] }
        var sql = "SELECT \"sourcedId\" FROM roster_classes WHERE 1"
        var values: [SQLValue] = []
        if let schools = partner.schools {
            sql += " AND \"schoolSourcedId\" IN \(list(schools))"
            values += schools.map(SQLValue.text)
        }
        if let grades = partner.grades {
            let clause = holdsAny("\"grades\"", spellings(grades))
            sql += " AND (\"grades\" = '' OR \(clause.sql))"
            values += clause.values
        }
        if partner.kind == .library {
            let adopted = partner.adopted.sorted()
            sql += " AND \"sourcedId\" IN \(list(adopted))"
            values += adopted.map(SQLValue.text)
        }
        return try ImportedDistrict.column(db, sql + " ORDER BY 1", values)
    }
}

/// What one kind of a view gave, read three ways.
struct ViewReading {
    var whole: SharedView.Page
    var pages: [SharedView.Page]
    var pageLimits: [Int]
    var count: Int
    /// The count as the dashboard reads it: only what decides the scope.
    var scopeCount: Int
    var sinceBeforeFirstImport: [SharedRecord]
    var sinceLastImport: [SharedRecord]
    var expected: [String]
    /// The whole view narrowed to some fields, read as a connector that names them reads it.
    var narrowedTo: Set<String>
    var narrowed: [SharedRecord]
}

@Suite(.serialized) struct SharedViewPropertyTests {
    static let kinds = SharedRecord.Kind.allCases
    static let organizationKinds: Set<SharedRecord.Kind> = [.org, .academicSession, .course]

    /// The fields a record of `kind` may carry, when it is not a person (nil for persons, whose
    /// fields are the grant's).
    static func fieldsOf(_ kind: SharedRecord.Kind, library: Bool) -> Set<String>? {
        switch kind {
        case .section:
            return library ? ["title", "teacher_names"]
                : ["title", "school", "grades", "teachers", "class_code", "class_type", "location", "course", "terms", "subjects", "periods"]
        case .org: return ["name", "type", "identifier", "parent"]
        case .academicSession: return ["title", "type", "start_date", "end_date", "parent", "school_year"]
        case .course: return ["title", "course_code", "org", "school_year", "grades", "subjects", "subject_codes"]
        case .enrollment:
            return library ? ["user", "section", "role"] : ["user", "section", "role", "school", "primary", "begin_date", "end_date"]
        default: return nil
        }
    }

    /// Builds `partner`'s file, standing (active, whatever the baseline says), policy and view, as
    /// the daemon does.
    static func view(of partner: RandomPartner, in district: ImportedDistrict, secret: DistrictSecret? = nil,
                     library: LibrarySettings = LibrarySettings()) throws -> (SharedView, PartnerFile) {
        let (file, problems) = PartnerFile.read(path: "/etc/steward/partners.d/\(partner.name).conf", text: partner.text)
        let partnerFile = try #require(file, "\(problems)")
        let standing = PartnerStanding.of(partnerFile, unmet: [], library: library)
        let adopted = try district.store.read { db throws(StewardError) in try PartnerRecords.adoptedSections(partner: partner.name, db: db) }
        let policy = SharingPolicy(partner: partnerFile, standing: standing, adoptedSections: adopted)
        let secret = secret ?? district.secret
        let name = partner.name
        return (SharedView(policy: policy) { secret.pseudonym(partner: name, sourcedId: $0) }, partnerFile)
    }

    static func adopt(_ partner: RandomPartner, in district: ImportedDistrict) throws {
        try district.store.write { db throws(StewardError) in
            for (section, teacher) in partner.adoptions {
                try PartnerRecords.setAdoption(
                    LibraryAdoption(partner: partner.name, section: section, teacher: teacher, adoptedAt: "2026-11-29T12:00:00Z", adoptedBy: nil),
                    adopt: true, audit: AuditEvent(method: "test.library.adopt", target: partner.name, outcome: "ok"), db: db)
            }
        }
    }

    /// Reads `kind` of `view` whole, in small random pages, by count and since a roster version.
    static func read(_ kind: SharedRecord.Kind, of view: SharedView, partner: RandomPartner, in district: ImportedDistrict,
                     wideReader: Bool, random: inout SplitMix64) throws -> ViewReading {
        let limits = (0..<2000).map { _ in random.chance(15) ? Int.random(in: 250...260, using: &random) : Int.random(in: 1...9, using: &random) }
        let narrowedTo = Set(random.subset(of: FieldCatalogue.all.map(\.name)))
        return try district.store.read { db throws(StewardError) in
            let reader = RosterViewReader(db: db, fields: wideReader ? Set(FieldCatalogue.all) : view.policy.fields)
            let whole = try view.page(kind, from: reader, after: nil, limit: 1_000_000)
            var pages: [SharedView.Page] = []
            var cursor: String?
            repeat {
                let page = try view.page(kind, from: reader, after: cursor, limit: limits[pages.count])
                pages.append(page)
                cursor = page.next
            } while cursor != nil && pages.count < limits.count
            return ViewReading(
                whole: whole, pages: pages, pageLimits: Array(limits.prefix(pages.count)), count: try view.count(kind, from: reader),
                scopeCount: try view.count(kind, from: RosterViewReader(db: db, scopeOf: view.policy)),
                sinceBeforeFirstImport: try view.page(kind, from: reader, after: nil, limit: 1_000_000, changedSince: 0).records,
                sinceLastImport: try view.page(kind, from: reader, after: nil, limit: 1_000_000, changedSince: district.rosterVersion).records,
                expected: try ScopeOracle.expected(kind, for: partner, db: db), narrowedTo: narrowedTo,
                narrowed: try view.narrowed(toFields: narrowedTo).page(
                    kind, from: RosterViewReader(db: db, fields: view.grantedFields(among: narrowedTo), scopeOf: view.policy),
                    after: nil, limit: 1_000_000).records)
        }
    }

    @Test(arguments: [(OneRosterVersion.v1_1, UInt64(11)), (.v1_2, UInt64(12))])
    func randomGrantsShareExactlyTheirScopeAndFields(version: OneRosterVersion, seed: UInt64) throws {
        let district = try ImportedDistrict(students: 300, seed: seed, version: version)
        var random = SplitMix64(seed: seed)
        for index in 0..<25 {
            let partner = RandomPartner.draw(index, in: district, using: &random)
            try Self.adopt(partner, in: district)
            try check(partner, in: district, random: &random)
        }
    }

    func check(_ partner: RandomPartner, in district: ImportedDistrict, random: inout SplitMix64) throws {
        let (view, file) = try Self.view(of: partner, in: district)
        #expect(view.policy.isSharing, "\(partner)")
        #expect(view.policy.adoptedSections == (partner.kind == .library ? partner.adopted : nil),
                "adoptions by a teacher who does not teach the section do not count: \(partner)")
        let wideReader = random.chance(50)
        var readings: [SharedRecord.Kind: ViewReading] = [:]
        for kind in Self.kinds {
            readings[kind] = try Self.read(kind, of: view, partner: partner, in: district, wideReader: wideReader, random: &random)
        }
        // Resolve every record's id to the sourcedId it stands for.
        let byPseudonym = Dictionary(uniqueKeysWithValues: district.sourcedIds.map {
            (district.secret.pseudonym(partner: partner.name, sourcedId: $0), $0)
        })
        /// The district's own records (orgs, sessions, courses) carry their real ids.
        func sourcedId(_ id: String, _ kind: SharedRecord.Kind) -> String? {
            partner.receivesRealIds || Self.organizationKinds.contains(kind) ? (district.sourcedIds.contains(id) ? id : nil) : byPseudonym[id]
        }
        let viewIds = readings.mapValues { Set($0.whole.records.map(\.id)) }
        for kind in Self.kinds {
            let reading = readings[kind]!
            let records = reading.whole.records
            let context = "\(kind) of \(partner)"
            #expect(reading.whole.next == nil, "\(context)")

            // No person or section outside the scope, and every one inside it.
            let resolved = records.map { sourcedId($0.id, kind) }
            #expect(!resolved.contains(nil), "an id stands for no roster record: \(context)")
            #expect(resolved.compactMap { $0 } == reading.expected, "\(context)")
            #expect(reading.count == reading.expected.count, "\(context)")
            #expect(reading.scopeCount == reading.expected.count, "counted from the scope alone: \(context)")

            // Paging in any page size gives the same records, once each.
            let paged = reading.pages.flatMap(\.records)
            #expect(paged == records, "pages of \(reading.pageLimits.prefix(20)) differ from one page: \(context)")
            #expect(Set(paged.map(\.id)).count == paged.count, "duplicates: \(context)")
            #expect(zip(reading.pages, reading.pageLimits).allSatisfy { $0.records.count <= $1 }, "\(context)")
            #expect(reading.pages.last?.next == nil, "\(context)")
            #expect(reading.sinceBeforeFirstImport == records, "\(context)")
            #expect(reading.sinceLastImport.isEmpty, "nothing changed after the last import: \(context)")

            // Narrowed to some fields, a person carries only those and is otherwise the same
            // record: the same persons in the same order, with the same ids and versions.
            let narrowedExpected = kind.isPerson
                ? records.map { SharedRecord(id: $0.id, kind: $0.kind, fields: $0.fields.filter { reading.narrowedTo.contains($0.key) },
                                             version: $0.version) }
                : records
            #expect(reading.narrowed == narrowedExpected, "narrowed to \(reading.narrowedTo.sorted()): \(context)")

            for (record, sourcedId) in zip(records, resolved) {
                #expect(record.kind == kind)
                let keys = Set(record.fields.keys)
                if let allowed = Self.fieldsOf(kind, library: partner.kind == .library) {
                    #expect(keys.isSubset(of: allowed), "\(record.fields.keys.sorted()) in \(context)")
                    if case .list(let teachers)? = record.fields["teachers"] {
                        #expect(Set(teachers).isSubset(of: viewIds[.teacher]!), "a section names a teacher outside the view: \(context)")
                    }
                    if kind == .enrollment, case .text(let user)? = record.fields["user"], case .text(let section)? = record.fields["section"] {
                        let persons = viewIds[.student]!.union(viewIds[.teacher]!).union(viewIds[.administrator]!).union(viewIds[.aide]!)
                        #expect(persons.contains(user) && viewIds[.section]!.contains(section), "an enrollment names what the view does not hold: \(context)")
                    }
                } else {
                    #expect(keys.isSubset(of: partner.allowedFields),
                            "\(keys.subtracting(partner.allowedFields).sorted()) beyond grant ∩ DataElements: \(context)")
                    if partner.kind == .library {
                        #expect(keys.isSubset(of: RandomPartner.libraryCap), "beyond the Library cap: \(context)")
                    }
                    if let sourcedId, keys.contains("given_name") {
                        #expect(record.fields["given_name"] == .text(district.givenNames[sourcedId] ?? ""), "\(context)")
                    }
                    if case .list(let sections)? = record.fields["sections"] {
                        #expect(Set(sections).isSubset(of: viewIds[.section]!), "a person names a section outside the view: \(context)")
                    }
                    if case .list(let schools)? = record.fields["school"], let granted = partner.schools {
                        #expect(Set(schools).isSubset(of: granted), "\(context)")
                    }
                }
                if !partner.receivesRealIds && !Self.organizationKinds.contains(kind) {
                    #expect(!district.sourcedIds.contains(record.id), "a real id left the district: \(context)")
                }
            }
        }
        // Whatever the baseline says of a grant, a partner that is not active shares nothing.
        let unmet = AgreementBaseline().unmet(by: file, today: RandomPartner.today, connectorKinds: ["probe"])
        let standing = PartnerStanding.of(file, unmet: unmet, library: LibrarySettings())
        if standing.state != .active {
            let closed = SharedView(policy: SharingPolicy(partner: file, standing: standing, adoptedSections: partner.adopted)) { $0 }
            let counts = try district.store.read { db throws(StewardError) in
                let reader = RosterViewReader(db: db, fields: Set(FieldCatalogue.all))
                return try Self.kinds.map { kind throws(StewardError) in try closed.count(kind, from: reader) }
            }
            #expect(counts == Array(repeating: 0, count: Self.kinds.count), "\(standing.state) \(partner)")
        }
    }

    @Test func aStudentsIdDiffersBetweenPartnersAndStaysTheSameAcrossReloads() throws {
        let district = try ImportedDistrict(students: 200, seed: 5, version: .v1_1)
        let one = RandomPartner(name: "alpha", kind: .district, roles: ["student"], fields: ["given_name"], dataElements: ["given_name"])
        var two = one
        two.name = "beta"
        func studentIds(_ partner: RandomPartner, secret: DistrictSecret) throws -> [String] {
            let (view, _) = try Self.view(of: partner, in: district, secret: secret)
            return try district.store.read { db throws(StewardError) in
                try view.page(.student, from: RosterViewReader(db: db, fields: view.policy.fields), after: nil, limit: 100_000).records.map(\.id)
            }
        }
        let alpha = try studentIds(one, secret: district.secret)
        let beta = try studentIds(two, secret: district.secret)
        #expect(alpha.count == 200 && beta.count == 200)
        #expect(zip(alpha, beta).allSatisfy { $0 != $1 })
        #expect(Set(alpha).isDisjoint(with: beta), "two partners cannot join their data on ids")
        let reloaded = try DistrictSecret.loadOrCreate(in: district.directory + "/state")
        #expect(try studentIds(one, secret: reloaded) == alpha)
        #expect(try studentIds(two, secret: reloaded) == beta)
    }

    @Test func aPersonsVersionIsTheNewestOfTheirRowTheirEnrollmentsAndTheirDemographics() throws {
        let district = try ImportedDistrict(students: 80, seed: 6, version: .v1_2)
        let partner = RandomPartner(name: "alpha", kind: .district, roles: ["student"], fields: ["given_name", "sections"],
                                    dataElements: ["given_name", "sections"])
        let (view, _) = try Self.view(of: partner, in: district)
        // Three students, each changed by a later import in one place only.
        let (byRow, byEnrollment, byDemographics) = try district.store.write { db throws(StewardError) in
            let students = try ImportedDistrict.column(db, """
                SELECT u."sourcedId" FROM roster_users u WHERE u."role" = 'student'
                AND EXISTS (SELECT 1 FROM roster_enrollments e WHERE e."userSourcedId" = u."sourcedId")
                AND EXISTS (SELECT 1 FROM roster_demographics d WHERE d."sourcedId" = u."sourcedId") ORDER BY 1 LIMIT 3
                """)
            try db.prepare("UPDATE roster_users SET modified_import = 7 WHERE \"sourcedId\" = ?").run([.text(students[0])])
            try db.prepare("""
                UPDATE roster_enrollments SET modified_import = 8 WHERE "sourcedId" =
                    (SELECT min("sourcedId") FROM roster_enrollments WHERE "userSourcedId" = ?)
                """).run([.text(students[1])])
            try db.prepare("UPDATE roster_demographics SET modified_import = 9 WHERE \"sourcedId\" = ?").run([.text(students[2])])
            return (students[0], students[1], students[2])
        }
        let pseudonym = { district.secret.pseudonym(partner: partner.name, sourcedId: $0) }
        try district.store.read { db throws(StewardError) in
            let reader = RosterViewReader(db: db, fields: view.policy.fields)
            let all = try view.page(.student, from: reader, after: nil, limit: 100_000).records
            let versions = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.version) })
            #expect(versions[pseudonym(byRow)] == 7)
            #expect(versions[pseudonym(byEnrollment)] == 8)
            #expect(versions[pseudonym(byDemographics)] == 9)
            #expect(all.filter { $0.version > district.rosterVersion }.count == 3)
            // The same versions through `changedSince`, which asks the store, and through a lookup by id.
            let changed = try view.page(.student, from: reader, after: nil, limit: 100_000, changedSince: district.rosterVersion).records
            #expect(changed == all.filter { $0.version > district.rosterVersion })
            #expect(try view.page(.student, from: reader, after: nil, limit: 100_000, changedSince: 8).records.map(\.id) == [pseudonym(byDemographics)])
            for (sourcedId, version) in [(byRow, 7), (byEnrollment, 8), (byDemographics, 9)] {
                #expect(try view.record(.student, sourcedId: sourcedId, from: reader)?.version == Int64(version))
            }
        }
    }

    @Test func aPartnerThatIsNotActiveHasAnEmptyView() throws {
        let district = try ImportedDistrict(students: 200, seed: 6, version: .v1_1)
        var partner = RandomPartner(name: "readingroom", kind: .library, roles: ["student", "teacher"],
                                    fields: ["given_name", "family_initial", "grade", "sections"],
                                    dataElements: ["given_name", "family_initial", "grade", "sections"])
        partner.adoptions = Array(district.teaching.prefix(4))
        partner.adopted = Set(partner.adoptions.map(\.section))
        try Self.adopt(partner, in: district)
        func counts(_ view: SharedView) throws -> [Int] {
            try district.store.read { db throws(StewardError) in
                let reader = RosterViewReader(db: db, fields: view.policy.fields)
                return try Self.kinds.map { kind throws(StewardError) in try view.count(kind, from: reader) }
            }
        }
        let (open, _) = try Self.view(of: partner, in: district)
        #expect(try counts(open)[0] > 0, "the adopted sections have students")
        let (off, _) = try Self.view(of: partner, in: district, library: LibrarySettings(isSharingOn: false))
        #expect(try counts(off).allSatisfy { $0 == 0 })
        let (blocked, _) = try Self.view(of: partner, in: district, library: LibrarySettings(blocked: ["readingroom"]))
        #expect(try counts(blocked).allSatisfy { $0 == 0 })
        let empty = try district.store.read { db throws(StewardError) in
            try off.page(.student, from: RosterViewReader(db: db, fields: []), after: nil, limit: 10)
        }
        #expect(empty.records.isEmpty && empty.next == nil)
    }
}

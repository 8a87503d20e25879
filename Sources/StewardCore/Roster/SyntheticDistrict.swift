/// A deterministic, realistic school district written as a OneRoster CSV drop: the test data of
/// `steward-gen`, of the importer's tests and of the benchmarks.
///
/// The same options always give the same bytes. Nothing is held per student: every record is
/// rebuilt from its number when a file needs it, so a district of a million students is written
/// in constant memory, one file at a time or several at once (``files`` are independent).
///
/// A drop is bulk (the whole district) or a delta against the bulk drop of the same options: a
/// few students arrive, a few leave, a few records change (see ``Mode/delta``). A bulk drop can
/// carry the faults of real exports (``RosterDefect``), each at one known place.
public struct SyntheticDistrict: Sendable {
    public enum Mode: String, Sendable {
        case bulk
        /// Changes against the bulk drop of the same students and seed, chosen with seed + 1:
        /// new students with their guardians, demographics, enrollments (and roles in 1.2); a few
        /// students and teachers whose family name changed; a few sections that moved room; a few
        /// students who left, with their guardians, demographics and enrollments (and roles),
        /// marked `tobedeleted`. Only files with changes are written.
        case delta
    }

    public struct Options: Sendable, Equatable {
        public var students: Int
        public var seed: UInt64
        public var version: OneRosterVersion
        public var mode: Mode
        public var defects: [RosterDefect]

        public init(students: Int, seed: UInt64 = 1, version: OneRosterVersion = .v1_1, mode: Mode = .bulk,
                    defects: [RosterDefect] = []) {
            self.students = students
            self.seed = seed
            self.version = version
            self.mode = mode
            self.defects = defects
        }
    }

    /// Options that cannot make a district.
    public struct OptionError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let options: Options
    let schools: [SchoolInfo]
    public let teacherCount: Int
    /// District and school administrators.
    public let administratorCount: Int
    let defects: DefectTargets
    let delta: DeltaPlan?

    static let districtAdministrators = 3
    static let districtName = "Cedar Valley Unified School District"
    static let districtIdentifier = "0612345"

    public var studentCount: Int { options.students }
    public var schoolCount: Int { schools.count }

    public init(_ options: Options) throws {
        guard options.students >= 1 else { throw OptionError(description: "a district needs at least one student") }
        guard options.mode == .bulk || options.defects.isEmpty else {
            throw OptionError(description: "defects go into bulk drops only, not into a delta")
        }
        self.options = options
        schools = Self.layOut(students: options.students)
        teacherCount = schools.last.map { $0.teacherBase + $0.teacherCount } ?? 0
        administratorCount = Self.districtAdministrators + schools.reduce(0) { $0 + $1.level.administrators }
        defects = DefectTargets(options.defects, seed: options.seed, schools: schools, students: options.students,
                                teachers: teacherCount)
        delta = options.mode == .delta
            ? DeltaPlan(seed: options.seed &+ 1, students: options.students, teachers: teacherCount, schools: schools)
            : nil
    }

    /// Students per grade (K-12 alike), schools per level at about their typical size, and each
    /// school's share of every grade of its level.
    private static func layOut(students: Int) -> [SchoolInfo] {
        let gradeCount = 13
        let perGrade = (0..<gradeCount).map { students / gradeCount + ($0 < students % gradeCount ? 1 : 0) }
        var schools: [SchoolInfo] = []
        var studentBase = 0, teacherBase = 0, administratorBase = districtAdministrators
        for level in SchoolLevel.allCases {
            let levelStudents = level.grades.reduce(0) { $0 + perGrade[$1] }
            guard levelStudents > 0 else { continue }
            let count = max(1, (levelStudents + level.typicalEnrollment / 2) / level.typicalEnrollment)
            for index in 0..<count {
                let gradeCounts = level.grades.map { perGrade[$0] / count + (index < perGrade[$0] % count ? 1 : 0) }
                let plan = SchoolPlan(level: level, gradeCounts: gradeCounts)
                let name = SyntheticNames.schoolStem(index * SchoolLevel.allCases.count + level.rawValue) + " " + level.schoolWord
                let school = SchoolInfo(number: schools.count + 1, level: level, name: name, gradeCounts: gradeCounts,
                                        studentBase: studentBase, teacherBase: teacherBase, teacherCount: plan.teacherCount,
                                        administratorBase: administratorBase, courseCount: plan.courses.count,
                                        classCount: plan.sections.count)
                schools.append(school)
                studentBase += school.studentCount
                teacherBase += plan.teacherCount
                administratorBase += level.administrators
            }
        }
        return schools
    }

    func plan(_ school: SchoolInfo) -> SchoolPlan {
        SchoolPlan(level: school.level, gradeCounts: school.gradeCounts)
    }

    /// Where student `number` (1-based, at most `studentCount`) is.
    func locate(student number: Int) -> (school: SchoolInfo, gradeIndex: Int, indexInGrade: Int) {
        var low = 0, high = schools.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if schools[middle].studentBase < number { low = middle } else { high = middle - 1 }
        }
        let school = schools[low]
        var index = number - school.studentBase - 1
        for (gradeIndex, count) in school.gradeCounts.enumerated() {
            if index < count { return (school, gradeIndex, index) }
            index -= count
        }
        preconditionFailure("student \(number) lies beyond school \(school.number)")
    }

    /// Calls `body` for every student, school by school, grade by grade.
    func forEachStudent(_ body: (SchoolInfo, _ gradeIndex: Int, _ indexInGrade: Int, _ number: Int) throws -> Void) rethrows {
        for school in schools {
            try forEachStudent(in: school) { try body(school, $0, $1, $2) }
        }
    }

    /// Calls `body` for every student of `school`, grade by grade.
    func forEachStudent(in school: SchoolInfo, _ body: (_ gradeIndex: Int, _ indexInGrade: Int, _ number: Int) throws -> Void) rethrows {
        var number = school.studentBase
        for (gradeIndex, count) in school.gradeCounts.enumerated() {
            for indexInGrade in 0..<count {
                number += 1
                try body(gradeIndex, indexInGrade, number)
            }
        }
    }

    /// The rostering files this drop has, in the binding's dependency order.
    public var entities: [RosterEntity] {
        let all = RosterEntity.dependencyOrder.filter { $0.exists(in: options.version) }
        guard options.mode == .delta else { return all }
        return all.filter { DeltaPlan.entities.contains($0) }
    }

    /// manifest.csv: the versions, each file of the binding as bulk, delta or absent, and the source.
    func writeManifest(_ writer: CSVWriter) throws {
        let mode = options.mode.rawValue
        let written = Set(entities.map(\.rawValue))
        let rostering = RosterEntity.allCases.filter { $0.exists(in: options.version) }.map(\.rawValue)
        let others = OneRosterSchema.nonRosteringFiles.filter { options.version == .v1_2 || Self.nonRosteringFiles11.contains($0) }
        try writer.record(OneRosterSchema.manifestColumns)
        try writer.record(["manifest.version", "1.0"])
        try writer.record(["oneroster.version", options.version.rawValue])
        for name in (rostering + others).sorted() {
            try writer.record(["file.\(name)", written.contains(name) ? mode : "absent"])
        }
        try writer.record(["source.systemName", "steward-gen"])
        try writer.record(["source.systemCode", "steward-gen"])
    }

    /// The non-rostering files that OneRoster 1.1 already had; 1.2 added the rest.
    static let nonRosteringFiles11: Set<String> = ["categories", "classResources", "courseResources", "lineItems", "resources", "results"]

    /// Every file of the drop, manifest first. Each can be written on its own, on any thread.
    public var files: [SyntheticFile] {
        [SyntheticFile(district: self, entity: nil)] + entities.map { SyntheticFile(district: self, entity: $0) }
    }
}

/// One file of a synthetic drop.
public struct SyntheticFile: Sendable {
    let district: SyntheticDistrict
    /// nil for manifest.csv.
    public let entity: RosterEntity?

    public var name: String { entity?.fileName ?? OneRosterSchema.manifestFileName }

    /// Line ends and byte-order mark, as the requested defects want them.
    public var format: CSVWriter.Format {
        CSVWriter.Format(lineEnding: entity == RosterDefect.crlf.entity && district.defects.contains(.crlf) ? .crlf : .lf,
                         byteOrderMark: entity == RosterDefect.byteOrderMark.entity && district.defects.contains(.byteOrderMark))
    }

    /// Writes the whole file to `writer` (made with ``format``) and finishes it; returns the
    /// defects put into it.
    public func write(to writer: CSVWriter) throws -> [InjectedDefect] {
        let injected: [InjectedDefect]
        if let entity {
            let rows = RowWriter(writer, FileLayout(entity, district.options.version))
            injected = district.options.mode == .bulk
                ? try district.writeBulk(entity, rows)
                : try district.writeDelta(entity, rows)
        } else {
            try district.writeManifest(writer)
            injected = []
        }
        try writer.finish()
        return injected
    }
}

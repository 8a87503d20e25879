/// The changes of a delta drop, drawn from seed + 1 against the bulk district of the same options.
struct DeltaPlan: Sendable {
    /// The files a delta writes; the others are absent from its manifest.
    static let entities: Set<RosterEntity> = [.classes, .users, .roles, .demographics, .enrollments]

    /// Students whose family name changed.
    let changedStudents: [Int]
    /// Students who left: they, their guardians, demographics, enrollments and roles go.
    let removedStudents: [Int]
    /// Students who arrived, numbered after the bulk's last, each placed in the same school,
    /// grade and sections as an existing student (`template`).
    let arrivals: [(number: Int, template: Int)]
    /// Teachers whose family name changed.
    let changedTeachers: [Int]
    /// Sections (1-based index within their school) that moved to another room.
    let movedSections: [(school: Int, index: Int)]

    init(seed: UInt64, students: Int, teachers: Int, schools: [SchoolInfo]) {
        var random = SyntheticRandom(seed: seed, .delta)
        let few = max(3, students / 2000)
        var taken = Set<Int>()
        func distinct(_ count: Int, below bound: Int) -> [Int] {
            var picked: [Int] = []
            while picked.count < count {
                let number = 1 + random.below(bound)
                if taken.insert(number).inserted { picked.append(number) }
            }
            return picked.sorted()
        }
        changedStudents = distinct(min(few, students / 3), below: students)
        removedStudents = distinct(min(few, students / 3), below: students)
        arrivals = (1...few).map { (students + $0, 1 + random.below(students)) }
        taken = []
        changedTeachers = distinct(min(max(2, few / 10), teachers), below: teachers)
        var moved: [(school: Int, index: Int)] = []
        var seen = Set<Int>()
        let sectionCount = schools.reduce(0) { $0 + $1.classCount }
        while moved.count < min(max(2, few / 10), sectionCount) {
            let school = schools[random.below(schools.count)]
            let index = 1 + random.below(school.classCount)
            if seen.insert(school.number << 20 | index).inserted { moved.append((school.number, index)) }
        }
        movedSections = moved.sorted { ($0.school, $0.index) < ($1.school, $1.index) }
    }
}

/// A student with the school, grade and place in the grade that their sections follow from.
struct PlacedStudent {
    let person: StudentPerson
    let school: SchoolInfo
    let gradeIndex: Int
    let indexInGrade: Int
}

extension SyntheticDistrict {
    func writeDelta(_ entity: RosterEntity, _ rows: RowWriter) throws -> [InjectedDefect] {
        guard let delta else { return [] }
        try rows.header()
        let arrivals = delta.arrivals.map(placeArrival)
        let leavers = delta.removedStudents.map(placed(student:))
        switch entity {
        case .classes:
            for (number, moved) in delta.movedSections.enumerated() {
                let school = schools[moved.school - 1]
                var record = sectionRecord(school, plan(school), moved.index - 1)
                record.state = .active
                record.location = "Portable \(number + 1)"
                try rows.write(record)
            }
        case .users:
            for number in delta.changedStudents {
                let student = placed(student: number)
                var record = studentRecord(student.person, school: student.school)
                record.state = .active
                record.familyName = newFamilyName(for: student.person.familyName, random: number)
                try rows.write(record)
            }
            for number in delta.changedTeachers {
                var record = teacherRecord(number, school: school(ofTeacher: number))
                record.state = .active
                record.familyName = newFamilyName(for: StaffPerson(seed: options.seed, .teacher, number: number).familyName,
                                                  random: -number)
                try rows.write(record)
            }
            try forEachUser(of: arrivals, .active) { try rows.write($0) }
            try forEachUser(of: leavers, .toBeDeleted) { try rows.write($0) }
        case .roles:
            try forEachUser(of: arrivals, .active) { try rows.writeRole($0) }
            try forEachUser(of: leavers, .toBeDeleted) { try rows.writeRole($0) }
        case .demographics:
            for student in arrivals { try rows.write(DemographicRecord(state: .active, person: student.person)) }
            for student in leavers { try rows.write(DemographicRecord(state: .toBeDeleted, person: student.person)) }
        case .enrollments:
            try forEachEnrollment(of: arrivals) { record in
                var record = record
                record.state = .active
                record.beginDate = SchoolCalendar.deltaEnrollment
                try rows.write(record)
            }
            try forEachEnrollment(of: leavers) { record in
                var record = record
                record.state = .toBeDeleted
                try rows.write(record)
            }
        case .orgs, .academicSessions, .courses, .userProfiles:
            break
        }
        return []
    }

    func placed(student number: Int) -> PlacedStudent {
        let (school, gradeIndex, indexInGrade) = locate(student: number)
        let person = StudentPerson(seed: options.seed, number: number, grade: school.level.grades.lowerBound + gradeIndex)
        return PlacedStudent(person: person, school: school, gradeIndex: gradeIndex, indexInGrade: indexInGrade)
    }

    /// A new student, placed where their template student is.
    private func placeArrival(_ arrival: (number: Int, template: Int)) -> PlacedStudent {
        let template = placed(student: arrival.template)
        let person = StudentPerson(seed: options.seed, number: arrival.number, grade: template.person.grade)
        return PlacedStudent(person: person, school: template.school, gradeIndex: template.gradeIndex,
                             indexInGrade: template.indexInGrade)
    }

    private func school(ofTeacher number: Int) -> SchoolInfo {
        schools.last { $0.teacherBase < number }!
    }

    private func newFamilyName(for current: SyntheticName, random index: Int) -> [UInt8] {
        var random = SyntheticRandom(seed: options.seed &+ 1, .delta, index)
        var name = random.pick(SyntheticNames.family)
        while name.text == current.text { name = random.pick(SyntheticNames.family) }
        return name.text
    }

    /// The students and each one's guardians, in `state`.
    private func forEachUser(of students: [PlacedStudent], _ state: RecordState, _ body: (UserRecord) throws -> Void) rethrows {
        for student in students {
            var record = studentRecord(student.person, school: student.school)
            record.state = state
            try body(record)
            for index in 1...student.person.guardianCount {
                var guardian = guardianRecord(student.person, index, school: student.school)
                guardian.state = state
                try body(guardian)
            }
        }
    }

    private func forEachEnrollment(of students: [PlacedStudent], _ body: (EnrollmentRecord) throws -> Void) rethrows {
        for student in students {
            var enrollment = 0
            try plan(student.school).schedule(gradeIndex: student.gradeIndex, indexInGrade: student.indexInGrade) { index in
                enrollment += 1
                try body(studentEnrollment(student.person.number, enrollment, school: student.school.number, section: index))
            }
        }
    }
}

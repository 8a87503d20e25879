/// The shape of the synthetic district: which schools it has, how many students of each grade
/// each one holds, and how each school's timetable puts students and teachers into sections.
///
/// Everything here is arithmetic on counts. No per-student state is kept: a student's school,
/// grade and sections follow from the student's number, so a district of a million students is
/// described in a few kilobytes and any file can be written on its own.

/// Elementary (K-5), middle (6-8) or high (9-12).
enum SchoolLevel: Int, CaseIterable, Sendable {
    case elementary, middle, high

    /// Grades as numbers, kindergarten = 0.
    var grades: ClosedRange<Int> {
        switch self {
        case .elementary: return 0...5
        case .middle: return 6...8
        case .high: return 9...12
        }
    }

    var typicalEnrollment: Int {
        switch self {
        case .elementary: return 500
        case .middle: return 800
        case .high: return 1500
        }
    }

    /// Periods in a student's day: one homeroom in elementary school.
    var periods: Int {
        switch self {
        case .elementary: return 1
        case .middle: return 6
        case .high: return 7
        }
    }

    /// Sections one teacher teaches: one homeroom, or every period but a planning period.
    var sectionsPerTeacher: Int { self == .elementary ? 1 : periods - 1 }

    /// The most students a section is opened for before another one is.
    var largestSection: Int { self == .elementary ? 22 : 24 }

    var administrators: Int {
        switch self {
        case .elementary: return 2
        case .middle: return 3
        case .high: return 4
        }
    }

    var schoolWord: String {
        switch self {
        case .elementary: return "Elementary School"
        case .middle: return "Middle School"
        case .high: return "High School"
        }
    }
}

/// `KG`, `01` … `12`.
func gradeText(_ grade: Int) -> String {
    grade == 0 ? "KG" : (grade < 10 ? "0\(grade)" : "\(grade)")
}

/// The term a course runs in.
enum CourseTerm: Sendable {
    case year, fall, spring
}

/// One course of the catalogue: a grade's course in one period slot.
struct CourseDefinition: Sendable {
    let title: String
    let code: String
    let subject: String
    let term: CourseTerm

    init(_ title: String, _ code: String, _ subject: String, _ term: CourseTerm = .year) {
        self.title = title
        self.code = code
        self.subject = subject
        self.term = term
    }
}

/// What each grade takes in each period slot. A slot is one department and one period of the
/// student's day; it holds one year-long course or a fall and a spring semester course.
enum CourseCatalogue {
    static func courses(_ level: SchoolLevel, grade: Int, slot: Int) -> [CourseDefinition] {
        switch level {
        case .elementary:
            let title = grade == 0 ? "Kindergarten Homeroom" : "Grade \(grade) Homeroom"
            return [CourseDefinition(title, "HR-\(gradeText(grade))", "Homeroom")]
        case .middle:
            return middle[slot][grade - 6]
        case .high:
            return high[slot][grade - 9]
        }
    }

    private static let middle: [[[CourseDefinition]]] = [
        (6...8).map { [CourseDefinition("English Language Arts \($0)", "ELA-0\($0)", "English Language Arts")] },
        [[CourseDefinition("Math 6", "MATH-06", "Mathematics")], [CourseDefinition("Math 7", "MATH-07", "Mathematics")],
         [CourseDefinition("Pre-Algebra", "PREALG", "Mathematics")]],
        [[CourseDefinition("Earth Science", "SCI-06", "Science")], [CourseDefinition("Life Science", "SCI-07", "Science")],
         [CourseDefinition("Physical Science", "SCI-08", "Science")]],
        [[CourseDefinition("Ancient Civilizations", "SS-06", "Social Studies")],
         [CourseDefinition("World History", "SS-07", "Social Studies")],
         [CourseDefinition("U.S. History", "SS-08", "Social Studies")]],
        (6...8).map { [CourseDefinition("Physical Education \($0)", "PE-0\($0)", "Physical Education")] },
        [[CourseDefinition("Art", "ART-06", "Visual Arts", .fall), CourseDefinition("Music", "MUS-06", "Music", .spring)],
         [CourseDefinition("Spanish 1A", "SPAN-1A", "World Languages")],
         [CourseDefinition("Spanish 1B", "SPAN-1B", "World Languages")]],
    ]

    private static let high: [[[CourseDefinition]]] = [
        (9...12).map { [CourseDefinition("English \($0)", "ENG-\($0 < 10 ? "0" : "")\($0)", "English Language Arts")] },
        [[CourseDefinition("Algebra I", "ALG-1", "Mathematics")], [CourseDefinition("Geometry", "GEOM", "Mathematics")],
         [CourseDefinition("Algebra II", "ALG-2", "Mathematics")], [CourseDefinition("Precalculus", "PRECALC", "Mathematics")]],
        [[CourseDefinition("Biology", "BIO", "Science")], [CourseDefinition("Chemistry", "CHEM", "Science")],
         [CourseDefinition("Physics", "PHYS", "Science")], [CourseDefinition("Environmental Science", "ENVSCI", "Science")]],
        [[CourseDefinition("World Geography", "GEOG", "Social Studies")], [CourseDefinition("World History", "WHIST", "Social Studies")],
         [CourseDefinition("U.S. History", "USHIST", "Social Studies")],
         [CourseDefinition("U.S. Government", "GOVT", "Social Studies", .fall),
          CourseDefinition("Economics", "ECON", "Social Studies", .spring)]],
        [[CourseDefinition("Physical Education", "PE-1", "Physical Education", .fall),
          CourseDefinition("Health", "HEALTH", "Health", .spring)],
         [CourseDefinition("Physical Education II", "PE-2", "Physical Education")],
         [CourseDefinition("Visual Arts", "ART-1", "Visual Arts")],
         [CourseDefinition("Computer Science Principles", "CSP", "Computer Science")]],
        ["I", "II", "III", "IV"].map { [CourseDefinition("Spanish \($0)", "SPAN-\($0)", "World Languages")] },
        [[CourseDefinition("Digital Literacy", "DIGLIT", "Computer Science")], [CourseDefinition("Concert Band", "BAND", "Music")],
         [CourseDefinition("Psychology", "PSYCH", "Social Studies", .fall),
          CourseDefinition("Sociology", "SOCIO", "Social Studies", .spring)],
         [CourseDefinition("Financial Literacy", "FINLIT", "Career Technical Education", .fall),
          CourseDefinition("Senior Seminar", "SENSEM", "English Language Arts", .spring)]],
    ]
}

/// One school: its place in the district's numbering of students, teachers and staff, and its
/// size. Numbers are 1-based and district-wide.
struct SchoolInfo: Sendable {
    /// 1-based, in orgs.csv order.
    let number: Int
    let level: SchoolLevel
    let name: String
    /// Students per grade of the level, lowest grade first.
    let gradeCounts: [Int]
    /// Students of the schools before this one; this school's first student is `studentBase + 1`.
    let studentBase: Int
    let teacherBase: Int
    let teacherCount: Int
    let administratorBase: Int
    let courseCount: Int
    let classCount: Int

    var studentCount: Int { gradeCounts.reduce(0, +) }
}

/// A section of a school's timetable.
struct SectionPlan: Sendable {
    /// Index into the level's grades.
    let gradeIndex: Int
    let slot: Int
    /// The group of the grade that has this slot in this period.
    let rotation: Int
    /// Which of the group's parallel sections.
    let section: Int
    /// 0 for a year course or the fall course, 1 for the spring course.
    let part: Int
    /// 1-based period.
    let period: Int
    /// 0-based teacher of the school.
    let teacher: Int
    /// 0-based course of the school.
    let course: Int
}

/// A school's timetable, built on demand from its counts.
///
/// Students of a grade are dealt into rotation groups, as many as it takes to fill a section each
/// (at most one per period). Group `r` of a grade takes slot `k` in period
/// `(k + r + offset of the grade) % periods + 1`, so no student has two sections at once and the
/// grades' sections spread over the day. Each (grade, slot, group) opens enough parallel sections
/// for its students; a student's section in each slot is spread so that classmates differ from one
/// period to the next. A slot's sections are dealt to its teachers round-robin in period order, so
/// no teacher teaches two sections at once.
struct SchoolPlan: Sendable {
    let level: SchoolLevel
    let periods: Int
    let gradeCounts: [Int]
    /// Rotation groups per grade.
    private let rotations: [Int]
    /// Parallel sections per (grade, rotation): `[gradeIndex * periods + rotation]`.
    private let sectionCounts: [Int]
    /// First course of each (grade, slot): `[gradeIndex * periods + slot]`.
    private let firstCourse: [Int]
    /// First section of each (grade, slot, rotation) in `sections`.
    private let firstSection: [Int]
    let courses: [(gradeIndex: Int, slot: Int, definition: CourseDefinition)]
    let sections: [SectionPlan]
    let teacherCount: Int

    init(level: SchoolLevel, gradeCounts: [Int]) {
        self.level = level
        self.gradeCounts = gradeCounts
        let periods = level.periods
        self.periods = periods
        let grades = gradeCounts.count
        let largest = level.largestSection

        let rotations = gradeCounts.map { min(periods, max(1, ($0 + largest - 1) / largest)) }
        var offsets: [Int] = []
        var offset = 0
        for count in rotations {
            offsets.append(offset)
            offset += count
        }
        var sectionCounts = [Int](repeating: 0, count: grades * periods)
        for gradeIndex in 0..<grades {
            for rotation in 0..<rotations[gradeIndex] {
                let students = Self.share(gradeCounts[gradeIndex], rotation, rotations[gradeIndex])
                sectionCounts[gradeIndex * periods + rotation] = (students + largest - 1) / largest
            }
        }

        var courses: [(gradeIndex: Int, slot: Int, definition: CourseDefinition)] = []
        var firstCourse = [Int](repeating: 0, count: grades * periods)
        for gradeIndex in 0..<grades {
            for slot in 0..<periods {
                firstCourse[gradeIndex * periods + slot] = courses.count
                let grade = level.grades.lowerBound + gradeIndex
                for definition in CourseCatalogue.courses(level, grade: grade, slot: slot) {
                    courses.append((gradeIndex, slot, definition))
                }
            }
        }

        /// The rotation group of a grade that has `slot` in 0-based `period`, if any.
        func rotation(_ gradeIndex: Int, _ slot: Int, _ period: Int) -> Int? {
            let rotation = ((period - slot - offsets[gradeIndex]) % periods + periods) % periods
            return rotation < rotations[gradeIndex] ? rotation : nil
        }

        var sections: [SectionPlan] = []
        var firstSection = [Int](repeating: 0, count: grades * periods * periods)
        var teacherBase = 0
        for slot in 0..<periods {
            // Count the slot's sections per period to size its teaching staff.
            var perPeriod = [Int](repeating: 0, count: periods)
            for period in 0..<periods {
                for gradeIndex in 0..<grades {
                    guard let rotation = rotation(gradeIndex, slot, period) else { continue }
                    perPeriod[period] += sectionCounts[gradeIndex * periods + rotation]
                }
            }
            let total = perPeriod.reduce(0, +)
            let teachers = max(perPeriod.max() ?? 0, (total + level.sectionsPerTeacher - 1) / level.sectionsPerTeacher)
            var dealt = 0
            for period in 0..<periods {
                for gradeIndex in 0..<grades {
                    guard let rotation = rotation(gradeIndex, slot, period) else { continue }
                    firstSection[(gradeIndex * periods + slot) * periods + rotation] = sections.count
                    let parts = CourseCatalogue.courses(level, grade: level.grades.lowerBound + gradeIndex, slot: slot).count
                    for section in 0..<sectionCounts[gradeIndex * periods + rotation] {
                        let teacher = teacherBase + dealt % teachers
                        dealt += 1
                        for part in 0..<parts {
                            sections.append(SectionPlan(gradeIndex: gradeIndex, slot: slot, rotation: rotation, section: section,
                                                        part: part, period: period + 1, teacher: teacher,
                                                        course: firstCourse[gradeIndex * periods + slot] + part))
                        }
                    }
                }
            }
            teacherBase += teachers
        }
        self.rotations = rotations
        self.sectionCounts = sectionCounts
        self.firstCourse = firstCourse
        self.firstSection = firstSection
        self.courses = courses
        self.sections = sections
        teacherCount = teacherBase
    }

    /// Of `size` students dealt into `groups`, how many group `index` gets.
    private static func share(_ size: Int, _ index: Int, _ groups: Int) -> Int {
        size / groups + (index < size % groups ? 1 : 0)
    }

    /// The sections (indices into `sections`) of the student at `indexInGrade` of grade
    /// `gradeIndex`, in slot order; a slot with a fall and a spring course gives two.
    func schedule(gradeIndex: Int, indexInGrade: Int, _ body: (Int) throws -> Void) rethrows {
        let rotation = indexInGrade % rotations[gradeIndex]
        let member = indexInGrade / rotations[gradeIndex]
        let parallel = sectionCounts[gradeIndex * periods + rotation]
        guard parallel > 0 else { return }
        for slot in 0..<periods {
            let section = (member + slot * (member / parallel)) % parallel
            let first = firstSection[(gradeIndex * periods + slot) * periods + rotation]
            let parts = partCount(gradeIndex: gradeIndex, slot: slot)
            for part in 0..<parts { try body(first + section * parts + part) }
        }
    }

    /// Courses of a (grade, slot): 1, or 2 for a fall and a spring course.
    private func partCount(gradeIndex: Int, slot: Int) -> Int {
        let index = gradeIndex * periods + slot
        return (index + 1 < firstCourse.count ? firstCourse[index + 1] : courses.count) - firstCourse[index]
    }
}

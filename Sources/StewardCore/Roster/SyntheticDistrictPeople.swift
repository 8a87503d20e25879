/// The people of the synthetic district, each drawn from its own random stream so that anyone can
/// be rebuilt from their number alone.

/// The dates of the synthetic school year, 2026-2027.
enum SchoolCalendar {
    static let schoolYear = 2027
    static let yearStart = CivilDate(year: 2026, month: 8, day: 15)
    static let yearEnd = CivilDate(year: 2027, month: 6, day: 10)
    static let fallEnd = CivilDate(year: 2026, month: 12, day: 18)
    static let springStart = CivilDate(year: 2027, month: 1, day: 5)
    /// `dateLastModified` of every record of a delta.
    static let deltaModified = "2026-11-29T12:00:00Z"
    /// When a student who arrives in a delta starts in their sections.
    static let deltaEnrollment = CivilDate(year: 2026, month: 11, day: 30)
    /// `dateLastModified` that the bulk-status defect fills in.
    static let bulkModified = "2026-08-01T07:30:00Z"
}

enum PersonSex: CaseIterable {
    case female, male, unspecified, other

    var text: StaticString {
        switch self {
        case .female: return "female"
        case .male: return "male"
        case .unspecified: return "unspecified"
        case .other: return "other"
        }
    }

    static func draw(_ random: inout SyntheticRandom) -> PersonSex {
        [.female, .male, .unspecified, .other][random.weighted([492, 492, 10, 6])]
    }

    /// A given name that fits: a quarter of the other sexes' names come from the neutral list.
    func givenName(_ random: inout SyntheticRandom) -> SyntheticName {
        switch self {
        case .female: return random.percent(4) ? random.pick(SyntheticNames.neutral) : random.pick(SyntheticNames.female)
        case .male: return random.percent(4) ? random.pick(SyntheticNames.neutral) : random.pick(SyntheticNames.male)
        case .unspecified, .other: return random.pick(SyntheticNames.neutral)
        }
    }
}

/// Race, as the demographics file's booleans.
struct RaceFlags: OptionSet {
    let rawValue: UInt8
    static let americanIndianOrAlaskaNative = RaceFlags(rawValue: 1)
    static let asian = RaceFlags(rawValue: 2)
    static let blackOrAfricanAmerican = RaceFlags(rawValue: 4)
    static let nativeHawaiianOrOtherPacificIslander = RaceFlags(rawValue: 8)
    static let white = RaceFlags(rawValue: 16)
    static let twoOrMore = RaceFlags(rawValue: 32)

    private static let single: [RaceFlags] = [
        .white, .blackOrAfricanAmerican, .asian, .americanIndianOrAlaskaNative, .nativeHawaiianOrOtherPacificIslander,
    ]

    /// Roughly the make-up of a large, diverse American district; some families decline to say.
    static func draw(_ random: inout SyntheticRandom) -> RaceFlags {
        let choice = random.weighted([48, 15, 8, 2, 1, 8, 18])
        switch choice {
        case 0..<5:
            return single[choice]
        case 5:
            let first = random.below(single.count)
            let second = (first + 1 + random.below(single.count - 1)) % single.count
            return [single[first], single[second], .twoOrMore]
        default:
            return []
        }
    }
}

struct Birthplace {
    var country: String
    var state: String
    var city: String

    static func draw(_ random: inout SyntheticRandom) -> Birthplace {
        if random.percent(88) {
            let local = random.percent(75)
            let place = local ? SyntheticNames.birthplacesUS[random.below(10)] : random.pick(SyntheticNames.birthplacesUS)
            return Birthplace(country: "US", state: place.state, city: place.city)
        }
        let place = random.pick(SyntheticNames.birthplacesAbroad)
        return Birthplace(country: place.country, state: "", city: place.city)
    }
}

/// A student: name, birth date fitting the grade, demographics, and how many guardians.
struct StudentPerson {
    let number: Int
    let grade: Int
    let sex: PersonSex
    let givenName: SyntheticName
    let middleName: SyntheticName?
    let familyName: SyntheticName
    /// Set for a few students (1.2 `preferredGivenName`).
    let preferredGivenName: SyntheticName?
    let pronouns: StaticString?
    let birthDate: CivilDate
    let race: RaceFlags
    let isHispanicOrLatino: Bool
    let birthplace: Birthplace
    let residenceStatus: StaticString
    let guardianCount: Int

    init(seed: UInt64, number: Int, grade: Int) {
        var random = SyntheticRandom(seed: seed, .student, number)
        self.number = number
        self.grade = grade
        sex = PersonSex.draw(&random)
        givenName = sex.givenName(&random)
        middleName = random.percent(55) ? sex.givenName(&random) : nil
        familyName = random.pick(SyntheticNames.family)
        preferredGivenName = random.percent(3) ? random.pick(SyntheticNames.neutral) : nil
        pronouns = random.percent(2) ? (random.percent(50) ? "they/them" : (sex == .male ? "he/him" : "she/her")) : nil
        // Age 5 on September 1 in kindergarten; a few students a year older.
        let held = random.percent(4) ? 1 : 0
        let earliest = CivilDate(year: SchoolCalendar.yearStart.year - 6 - grade - held, month: 9, day: 2)
        birthDate = earliest.adding(days: random.below(365))
        race = RaceFlags.draw(&random)
        isHispanicOrLatino = random.percent(28)
        birthplace = Birthplace.draw(&random)
        residenceStatus = ["01652", "01653", "01654"][random.weighted([93, 5, 2])]
        guardianCount = random.percent(72) ? 2 : 1
    }
}

/// A parent or guardian of one student. The first usually shares the student's family name.
struct GuardianPerson {
    let givenName: SyntheticName
    let familyName: SyntheticName
    let isParent: Bool
    /// Ten digits, fictional (555-01xx).
    let phone: Int
    let takesTextMessages: Bool

    init(seed: UInt64, student: StudentPerson, index: Int) {
        var random = SyntheticRandom(seed: seed, .guardian, student.number * 4 + index)
        let sex: PersonSex = random.percent(index == 1 ? 62 : 38) ? .female : .male
        givenName = sex.givenName(&random)
        familyName = random.percent(index == 1 ? 85 : 60) ? student.familyName : random.pick(SyntheticNames.family)
        isParent = random.percent(90)
        phone = random.pick(SyntheticNames.areaCodes) * 10_000_000 + 5_550_100 + random.below(100)
        takesTextMessages = random.percent(70)
    }
}

/// A teacher or an administrator.
struct StaffPerson {
    let givenName: SyntheticName
    let middleName: SyntheticName?
    let familyName: SyntheticName

    init(seed: UInt64, _ stream: SyntheticRandom.Stream, number: Int) {
        var random = SyntheticRandom(seed: seed, stream, number)
        let sex: PersonSex = random.percent(72) ? .female : .male
        givenName = sex.givenName(&random)
        middleName = random.percent(40) ? sex.givenName(&random) : nil
        familyName = random.pick(SyntheticNames.family)
    }
}

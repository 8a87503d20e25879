/// The synthetic district's source of chance: ``SplitMix64``, seeded
/// per record from the run's seed, a stream and the record's number.
///
/// Every record draws from its own generator, so any record can be rebuilt on its own, in any
/// order, on any thread: a student's name is the same whether users.csv, a delta or a defect asks
/// for it. Integer arithmetic only, so a seed gives the same district on every machine. Not for
/// secrets.
struct SyntheticRandom {
    /// Independent sequences, one per kind of record.
    enum Stream: UInt64 {
        case district = 1, school, student, guardian, teacher, administrator, classroom, defects, delta
    }

    private var generator: SplitMix64

    init(seed: UInt64, _ stream: Stream, _ index: Int = 0) {
        var mixer = SplitMix64(seed: seed)
        let base = mixer.next()
        generator = SplitMix64(seed: base ^ (stream.rawValue &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(bitPattern: Int64(index)) &* 0xAEF1_7502_108E_F2D9))
        _ = next()
    }

    mutating func next() -> UInt64 { generator.next() }

    /// A number in `0..<bound` (bound > 0), by multiply-high; the bias is far below anything a
    /// synthetic roster could show.
    mutating func below(_ bound: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// True `percent` times in a hundred.
    mutating func percent(_ percent: Int) -> Bool {
        below(100) < percent
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }

    /// An index into `weights`, chosen with probability proportional to each weight.
    mutating func weighted(_ weights: [Int]) -> Int {
        var roll = below(weights.reduce(0, +))
        for (index, weight) in weights.enumerated() {
            if roll < weight { return index }
            roll -= weight
        }
        return weights.count - 1
    }
}

/// A calendar day, for birth dates and session dates. Proleptic Gregorian, no time zone.
struct CivilDate: Equatable {
    var year: Int
    var month: Int
    var day: Int

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day `dayNumber` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    func adding(days: Int) -> CivilDate {
        CivilDate(dayNumber: dayNumber + days)
    }

    /// Writes `YYYY-MM-DD` into the current field.
    func append(to writer: CSVWriter) {
        writer.append(year, width: 4)
        writer.append("-")
        writer.append(month, width: 2)
        writer.append("-")
        writer.append(day, width: 2)
    }

    var text: String {
        func padded(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(padded(month))-\(padded(day))"
    }
}

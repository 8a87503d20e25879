/// The bulk drop: every record of the district, file by file, with the requested defects.
extension SyntheticDistrict {
    func writeBulk(_ entity: RosterEntity, _ rows: RowWriter) throws -> [InjectedDefect] {
        switch entity {
        case .orgs: return try writeOrgs(rows)
        case .academicSessions: return try writeSessions(rows)
        case .courses: return try writeCourses(rows)
        case .classes: return try writeSections(rows)
        case .users: return try writeUsers(rows)
        case .roles: return try writeRoles(rows)
        case .userProfiles: return try writeProfiles(rows)
        case .demographics: return try writeDemographics(rows)
        case .enrollments: return try writeEnrollments(rows)
        }
    }

    /// Where `defect` goes: on `line`, or on the line of the record about to be written, at
    /// `column` (none: the whole file or record).
    private func place(_ defect: RosterDefect, _ rows: RowWriter, line: Int? = nil, column: RosterColumn?) -> InjectedDefect {
        place(defect, rows, line: line, columnNumber: column.map(rows.layout.number(of:)) ?? 0)
    }

    private func place(_ defect: RosterDefect, _ rows: RowWriter, line: Int? = nil, columnNumber: Int) -> InjectedDefect {
        InjectedDefect(defect, file: rows.layout.entity.fileName, line: line ?? rows.writer.recordLine, column: columnNumber)
    }

    private func writeOrgs(_ rows: RowWriter) throws -> [InjectedDefect] {
        var injected: [InjectedDefect] = []
        if defects.contains(.crlf) { injected.append(place(.crlf, rows, line: 0, column: nil)) }
        try rows.header()
        try rows.write(OrgRecord(id: .district, name: Self.districtName, type: "district", identifier: Self.districtIdentifier))
        for school in schools {
            var record = OrgRecord(id: .school(school.number), name: school.name, type: "school",
                                   identifier: Self.districtIdentifier + pad(school.number, 5), parent: .district)
            if school.number == defects.filledStatusSchool {
                record.state = .filledInBulk
                injected.append(place(.bulkStatus, rows, column: .status))
            }
            try rows.write(record)
        }
        return injected
    }

    private func writeSessions(_ rows: RowWriter) throws -> [InjectedDefect] {
        var injected: [InjectedDefect] = []
        try rows.header()
        var year = SessionRecord(id: .schoolYear, title: "2026-2027", type: "schoolYear", startDate: SchoolCalendar.yearStart.text,
                                 endDate: SchoolCalendar.yearEnd.text)
        if defects.contains(.looseDate) {
            let start = SchoolCalendar.yearStart
            year.startDate = "\(start.year)-\(start.month)-\(start.day)"
            injected.append(place(.looseDate, rows, column: .startDate))
        }
        try rows.write(year)
        try rows.write(SessionRecord(id: .fallTerm, title: "Fall 2026", type: "semester", startDate: SchoolCalendar.yearStart.text,
                                     endDate: SchoolCalendar.fallEnd.text, parent: .schoolYear))
        try rows.write(SessionRecord(id: .springTerm, title: "Spring 2027", type: "semester",
                                     startDate: SchoolCalendar.springStart.text, endDate: SchoolCalendar.yearEnd.text,
                                     parent: .schoolYear))
        return injected
    }

    private func writeCourses(_ rows: RowWriter) throws -> [InjectedDefect] {
        var injected: [InjectedDefect] = []
        if defects.contains(.misspelledHeader) {
            injected.append(place(.misspelledHeader, rows, column: .dateLastModified))
            try rows.header(renaming: ["dateLastModified": "dataLastModified"])
        } else {
            try rows.header()
        }
        for school in schools {
            let plan = plan(school)
            for index in plan.courses.indices {
                let record = courseRecord(school, plan, index)
                try rows.write(record)
                if (school.number, index + 1) == defects.duplicateCourse {
                    injected.append(place(.duplicateId, rows, column: .sourcedId))
                    try rows.write(record)
                }
            }
        }
        return injected
    }

    private func writeSections(_ rows: RowWriter) throws -> [InjectedDefect] {
        var injected: [InjectedDefect] = []
        if defects.contains(.byteOrderMark) { injected.append(place(.byteOrderMark, rows, line: 1, column: .sourcedId)) }
        try rows.header()
        for school in schools {
            let plan = plan(school)
            for index in plan.sections.indices {
                var record = sectionRecord(school, plan, index)
                if (school.number, index + 1) == defects.badEnumerationSection {
                    record.classType = "lecture"
                    injected.append(place(.badEnumeration, rows, column: .classType))
                }
                if (school.number, index + 1) == defects.quotedNewlineSection {
                    record.location = record.location + ", \"North\" Annex\nBuilding B"
                    injected.append(place(.quotedNewline, rows, column: .location))
                }
                try rows.write(record)
            }
        }
        return injected
    }

    private func writeUsers(_ rows: RowWriter) throws -> [InjectedDefect] {
        var rows = rows
        var injected: [InjectedDefect] = []
        if defects.contains(.vendorColumn) {
            rows.extraColumn = (name: "vendorStudentFlag", value: "N")
            injected.append(place(.vendorColumn, rows, line: 1, columnNumber: rows.layout.names.count + 1))
        }
        try rows.header()
        try forEachUser { user in
            var user = user
            switch user.ref {
            case .teacher(defects.uppercaseTeacher):
                user.enabledUser = "TRUE"
                injected.append(place(.uppercaseBoolean, rows, column: .enabledUser))
            case .student(defects.missingFamilyStudent):
                user.familyName = []
                injected.append(place(.missingValue, rows, column: .familyName))
            case .guardian(defects.latin1GuardianStudent, 1):
                user.givenName = [0x4A, 0x6F, 0x73, 0xE9]  // "José" in Latin-1
                injected.append(place(.invalidUTF8, rows, column: .givenName))
            default:
                break
            }
            try rows.write(user)
        }
        return injected
    }

    private func writeRoles(_ rows: RowWriter) throws -> [InjectedDefect] {
        try rows.header()
        try forEachUser { try rows.writeRole($0) }
        return []
    }

    private func writeProfiles(_ rows: RowWriter) throws -> [InjectedDefect] {
        try rows.header()
        for number in 1...Self.districtAdministrators {
            try rows.writeProfile(administratorRecord(number, school: nil))
        }
        return []
    }

    private func writeDemographics(_ rows: RowWriter) throws -> [InjectedDefect] {
        var injected: [InjectedDefect] = []
        try rows.header()
        try forEachStudent { school, gradeIndex, _, number in
            let person = StudentPerson(seed: options.seed, number: number, grade: school.level.grades.lowerBound + gradeIndex)
            var record = DemographicRecord(person: person)
            if number == defects.ambiguousBirthStudent {
                let birth = person.birthDate
                record.birthDateText = "\(birth.month)/\(pad(birth.day > 12 ? birth.day % 12 + 1 : birth.day, 2))/\(birth.year)"
                injected.append(place(.ambiguousDate, rows, column: .birthDate))
            }
            try rows.write(record)
        }
        return injected
    }

    private func writeEnrollments(_ rows: RowWriter) throws -> [InjectedDefect] {
        var injected: [InjectedDefect] = []
        try rows.header()
        for school in schools {
            let plan = plan(school)
            for (index, section) in plan.sections.enumerated() {
                try rows.write(EnrollmentRecord(id: .teacherEnrollment(school: school.number, index: index + 1),
                                                section: .section(school: school.number, index: index + 1), school: school.number,
                                                user: .teacher(school.teacherBase + section.teacher + 1), isTeacher: true))
            }
            try forEachStudent(in: school) { gradeIndex, indexInGrade, number in
                var enrollment = 0
                try plan.schedule(gradeIndex: gradeIndex, indexInGrade: indexInGrade) { index in
                    enrollment += 1
                    var record = studentEnrollment(number, enrollment, school: school.number, section: index)
                    if number == defects.danglingStudent, enrollment == 1 {
                        record.section = .absentSection
                        injected.append(place(.danglingReference, rows, column: .classSourcedId))
                    }
                    try rows.write(record)
                }
            }
        }
        return injected
    }

    // MARK: - Records

    /// Every user: the district's administrators, then school by school its administrators,
    /// teachers, and students each followed by their guardians.
    func forEachUser(_ body: (UserRecord) throws -> Void) rethrows {
        for number in 1...Self.districtAdministrators { try body(administratorRecord(number, school: nil)) }
        for school in schools {
            for offset in 1...school.level.administrators {
                try body(administratorRecord(school.administratorBase + offset, school: school, isPrincipal: offset == 1))
            }
            for number in school.teacherBase..<school.teacherBase + school.teacherCount {
                try body(teacherRecord(number + 1, school: school))
            }
            try forEachStudent(in: school) { gradeIndex, _, number in
                let person = StudentPerson(seed: options.seed, number: number, grade: school.level.grades.lowerBound + gradeIndex)
                try body(studentRecord(person, school: school))
                for index in 1...person.guardianCount {
                    try body(guardianRecord(person, index, school: school))
                }
            }
        }
    }

    func studentRecord(_ person: StudentPerson, school: SchoolInfo) -> UserRecord {
        let number = person.number
        return UserRecord(ref: .student(number), org: .school(school.number), role11: "student", role12: "student",
                          login: .student, loginNumber: number, givenLogin: person.givenName.login,
                          familyLogin: person.familyName.login, givenName: person.givenName.text,
                          familyName: person.familyName.text, middleName: person.middleName?.text ?? [],
                          identifier: 1_000_000 + number, agents: .guardians(student: number, count: person.guardianCount),
                          grade: person.grade, masterIdentifier: 6_000_000_000 + (number &* 7_919) % 1_000_000_000,
                          preferredGivenName: person.preferredGivenName?.text ?? [], pronouns: person.pronouns)
    }

    func guardianRecord(_ student: StudentPerson, _ index: Int, school: SchoolInfo) -> UserRecord {
        let person = GuardianPerson(seed: options.seed, student: student, index: index)
        return UserRecord(ref: .guardian(student: student.number, index: index), org: .school(school.number),
                          role11: "guardian", role12: person.isParent ? "parent" : "guardian", login: .guardian,
                          loginNumber: student.number * 10 + index, givenLogin: person.givenName.login,
                          familyLogin: person.familyName.login, givenName: person.givenName.text,
                          familyName: person.familyName.text, phone: person.phone, takesTextMessages: person.takesTextMessages,
                          agents: .student(student.number))
    }

    func teacherRecord(_ number: Int, school: SchoolInfo) -> UserRecord {
        let person = StaffPerson(seed: options.seed, .teacher, number: number)
        return UserRecord(ref: .teacher(number), org: .school(school.number), role11: "teacher", role12: "teacher",
                          login: .staff, loginNumber: 100_000 + number, givenLogin: person.givenName.login,
                          familyLogin: person.familyName.login, givenName: person.givenName.text,
                          familyName: person.familyName.text, middleName: person.middleName?.text ?? [],
                          identifier: 100_000 + number)
    }

    /// A district administrator when `school` is nil, else a principal or an assistant.
    func administratorRecord(_ number: Int, school: SchoolInfo?, isPrincipal: Bool = false) -> UserRecord {
        let person = StaffPerson(seed: options.seed, .administrator, number: number)
        let role12: StaticString = school == nil ? "districtAdministrator" : (isPrincipal ? "principal" : "siteAdministrator")
        return UserRecord(ref: .administrator(number), org: school.map { .school($0.number) } ?? .district,
                          role11: "administrator", role12: role12, login: .staff, loginNumber: 900_000 + number,
                          givenLogin: person.givenName.login, familyLogin: person.familyName.login,
                          givenName: person.givenName.text, familyName: person.familyName.text,
                          middleName: person.middleName?.text ?? [], identifier: 900_000 + number, hasProfile: school == nil)
    }

    func courseRecord(_ school: SchoolInfo, _ plan: SchoolPlan, _ index: Int) -> CourseRecord {
        let course = plan.courses[index]
        return CourseRecord(id: .course(school: school.number, index: index + 1), definition: course.definition,
                            grade: school.level.grades.lowerBound + course.gradeIndex, school: school.number)
    }

    /// Section `index` (0-based) of `plan`: a homeroom in elementary school, else a period's section.
    func sectionRecord(_ school: SchoolInfo, _ plan: SchoolPlan, _ index: Int) -> SectionRecord {
        let section = plan.sections[index]
        let course = plan.courses[section.course].definition
        let isHomeroom = school.level == .elementary
        let letter = section.section < 26 ? String(UnicodeScalar(UInt8(65 + section.section))) : "\(section.section + 1)"
        let teacher = section.teacher
        let room = (teacher / 30 + 1) * 100 + teacher % 30 + 1
        return SectionRecord(
            id: .section(school: school.number, index: index + 1),
            title: isHomeroom ? "\(course.title) \(letter)" : "\(course.title) - Period \(section.period)",
            grade: school.level.grades.lowerBound + section.gradeIndex,
            course: .course(school: school.number, index: section.course + 1),
            classCode: isHomeroom ? "\(course.code)-\(letter)" : "\(course.code)-P\(section.period)-\(section.section + 1)",
            classType: isHomeroom ? "homeroom" : "scheduled", location: "Room \(room)", school: school.number,
            term: course.term, subject: course.subject, period: section.period)
    }

    func studentEnrollment(_ number: Int, _ enrollment: Int, school: Int, section index: Int) -> EnrollmentRecord {
        EnrollmentRecord(id: .studentEnrollment(student: number, index: enrollment), section: .section(school: school, index: index + 1),
                         school: school, user: .student(number), isTeacher: false)
    }
}

/// `value` in decimal, zero-padded to `width` digits.
func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

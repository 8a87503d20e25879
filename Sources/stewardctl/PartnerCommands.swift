import Foundation
import StewardControl
import StewardCore

extension Invocation {
    /// `partners`, `partners show NAME`, `partners preview NAME`, `library …`.
    func partnerCommand() throws -> ExitCode? {
        switch words {
        case ["partners"]: return try partnersList()
        case let words where words.count == 3 && words[0] == "partners" && words[1] == "show":
            return try partnerShow(words[2])
        case let words where words.count == 3 && words[0] == "partners" && words[1] == "preview":
            return try partnerPreview(words[2])
        case let words where words.count == 3 && words[0] == "partners" && words[1] == "credentials":
            return try partnerCredentials(words[2])
        case let words where words.count == 3 && words[0] == "library" && ["adopt", "remove"].contains(words[1]):
            return try libraryAdoption(words[2], adopt: words[1] == "adopt")
        case ["library"], ["library", "list"]: return try libraryList(nil)
        case ["modules"]: return try modulesList()
        case let words where words.count == 2 && words[0] == "disclosures": return try disclosures(words[1])
        case let words where words.count == 3 && words[0] == "library" && words[1] == "list": return try libraryList(words[2])
        default: return nil
        }
    }

    private func partnersList() throws -> ExitCode {
        let list = try call(.partnersList, PartnersList.self)
        if json { printJSON(list); return .ok }
        print("Partners on \(list.today), roster version \(list.rosterVersion)"
            + (list.sharingPaused ? "; SHARING PAUSED for every partner" : "")
            + (list.librarySharing ? "" : "; Library sharing OFF"))
        if list.partners.isEmpty { print("No partners: add a file to the partner folder, check it, then reload.") }
        var table = Table(headers: ["PARTNER", "TYPE", "CONNECTOR", "STATE", "STUDENTS", "TEACHERS", "SECTIONS", "EXPIRES", "FIELDS"])
        for partner in list.partners {
            table.rows.append([partner.name + (partner.recommended == true ? " (recommended)" : ""), partner.type, partner.connector,
                               partner.state, String(partner.counts.students), String(partner.counts.teachers),
                               String(partner.counts.sections), partner.agreementExpires, Self.tiers(partner.fields)])
        }
        if !list.partners.isEmpty { print(table.render()) }
        for partner in list.partners where !partner.reasons.isEmpty {
            print("\(partner.name): \(partner.state): \(partner.reasons.count) reason(s); stewardctl partners show \(partner.name)")
        }
        for file in list.unreadable {
            print("\(file.file): not loaded:")
            file.problems.forEach { print("  " + $0) }
        }
        return .ok
    }

    /// `directory: given_name grade; contact: email`.
    static func tiers(_ fields: [String: [String]]) -> String {
        FieldTier.allCases.compactMap { tier in fields[tier.rawValue].map { "\(tier.rawValue): \($0.joined(separator: " "))" } }
            .joined(separator: "; ")
    }

    private func partnerShow(_ name: String) throws -> ExitCode {
        let partner = try call(.partnersShow, PartnerSummary.self, parameters: .object(["name": .string(name)]))
        if json { printJSON(partner); return .ok }
        print(Self.describe(partner))
        return .ok
    }

    static func describe(_ partner: PartnerSummary) -> String {
        var lines = [
            "\(partner.displayName) (\(partner.name))",
            "  type:       \(partner.type)" + (partner.recommended == true ? ", recommended by the district" : ""),
            "  connector:  \(partner.connector)",
            "  contact:    \(partner.contact)",
            "  file:       \(partner.file)",
            "  agreement:  signed \(partner.agreementSigned), expires \(partner.agreementExpires)",
            "  state:      \(partner.state)",
        ]
        lines += partner.reasons.map { "    " + $0 }
        lines.append("  fields:")
        lines += FieldTier.allCases.compactMap { tier in partner.fields[tier.rawValue].map { "    \(tier.rawValue): \($0.joined(separator: " "))" } }
        if partner.fields.isEmpty { lines.append("    none") }
        lines.append("  view:       \(partner.counts.students) students, \(partner.counts.teachers) teachers, \(partner.counts.sections) sections")
        if let adoptions = partner.adoptions {
            lines.append("  adoptions:  \(adoptions.count)")
            lines += adoptions.map { "    section \($0.section) by teacher \($0.teacher) on \($0.adoptedAt.prefix(10))" }
        }
        return lines.joined(separator: "\n")
    }

    private func partnerPreview(_ name: String) throws -> ExitCode {
        var parameters: [String: JSONValue] = ["name": .string(name)]
        if let limit = options["--limit"] {
            guard let count = Int(limit), count > 0 else { throw CommandFailure(exitCode: .dataError, message: "--limit takes a number above 0") }
            parameters["limit"] = .number(Double(count))
        }
        let preview = try call(.partnersPreview, PartnerPreview.self, parameters: .object(parameters))
        if json { printJSON(preview); return .ok }
        print(Self.describe(preview.partner))
        if let note = preview.note { print("note: \(note)") }
        print("records (\(preview.records.count)), exactly as \(name) would receive them:")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for record in preview.records {
            let fields = (try? encoder.encode(record.fields)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            print("  \(record.kind.rawValue) \(record.id) \(fields)")
        }
        return .ok
    }

    /// Shows the client id, or with `--rotate` makes new credentials and prints the secret once.
    private func partnerCredentials(_ name: String) throws -> ExitCode {
        var parameters: [String: JSONValue] = ["name": .string(name)]
        if options["--rotate"] != nil { parameters["rotate"] = .bool(true) }
        let credentials = try call(.partnersCredentials, PartnerCredentials.self, parameters: .object(parameters))
        if json { printJSON(credentials); return .ok }
        guard let clientId = credentials.clientId else {
            print("\(name) has no client credentials yet; make them with: stewardctl partners credentials \(name) --rotate")
            return .ok
        }
        print("client_id:     \(clientId)")
        if let secret = credentials.clientSecret {
            print("client_secret: \(secret)")
            print("Give both to \(name) over a secure channel. The secret is shown this once and is not kept; "
                + "the previous secret and its tokens no longer work.")
        } else {
            print("created:       \(credentials.createdAt ?? "?") (the secret is not kept; --rotate makes a new one)")
        }
        return .ok
    }

    private func libraryAdoption(_ partner: String, adopt: Bool) throws -> ExitCode {
        guard let teacher = options["--teacher"], let section = options["--section"] else {
            throw CommandFailure(exitCode: .dataError, message: "library \(adopt ? "adopt" : "remove") PARTNER needs --teacher ID and --section ID")
        }
        let parameters: JSONValue = .object(["partner": .string(partner), "teacher": .string(teacher), "section": .string(section)])
        let reply = try call(adopt ? .libraryAdopt : .libraryRemove, LibraryAdoptionList.self, parameters: parameters)
        if json { printJSON(reply); return .ok }
        let verb = adopt ? "adopted" : "removed"
        print(reply.changed == true ? "\(partner): \(verb) for section \(section) (teacher \(teacher))"
                                    : "\(partner): no change; already \(verb) for section \(section)")
        print("\(partner) now has \(reply.adoptions.count) adopted section(s)")
        return .ok
    }

    /// `disclosures PERSON`: every partner that received anything about this person, which
    /// fields, and when.
    private func disclosures(_ person: String) throws -> ExitCode {
        let list = try call(.disclosuresList, PersonDisclosures.self, parameters: .object(["person": .string(person)]))
        if json { printJSON(list); return .ok }
        guard !list.disclosures.isEmpty else {
            print("No partner has received anything about \(person).")
            return .ok
        }
        var table = Table(headers: ["PARTNER", "FIRST (UTC)", "LAST (UTC)", "DAYS", "RESPONSES", "FIELDS"])
        for entry in list.disclosures {
            table.rows.append([entry.partner, entry.firstAt, entry.lastAt, String(entry.days), String(entry.responses),
                               entry.fields.joined(separator: " ")])
        }
        print(table.render())
        return .ok
    }

    private func modulesList() throws -> ExitCode {
        let list = try call(.modulesList, ModulesList.self)
        if json { printJSON(list); return .ok }
        var table = Table(headers: ["MODULE", "KIND", "PARTNERS", "ABI", "SHA-256", "FILE"])
        for entry in list.modules {
            for kind in entry.module.kinds {
                let users = entry.partners[kind] ?? []
                table.rows.append([entry.module.name, kind, users.isEmpty ? "-" : users.joined(separator: " "),
                                   String(entry.module.abiVersion), String(entry.module.sha256.prefix(16)) + "…", entry.module.file])
            }
        }
        print(list.modules.isEmpty ? "No connector modules loaded ([Steward] Modules= in steward.conf)." : table.render())
        for refusal in list.refused { print("refused: \(refusal.file): \(refusal.reason)") }
        return .ok
    }

    private func libraryList(_ partner: String?) throws -> ExitCode {
        let parameters: JSONValue = .object(partner.map { ["partner": .string($0)] } ?? [:])
        let list = try call(.libraryList, LibraryAdoptionList.self, parameters: parameters)
        if json { printJSON(list); return .ok }
        var table = Table(headers: ["PARTNER", "SECTION", "TEACHER", "ADOPTED (UTC)", "BY UID"])
        for adoption in list.adoptions {
            table.rows.append([adoption.partner, adoption.section, adoption.teacher, adoption.adoptedAt,
                               adoption.adoptedBy.map(String.init) ?? "-"])
        }
        print(list.adoptions.isEmpty ? "No Library adoptions." : table.render())
        return .ok
    }
}

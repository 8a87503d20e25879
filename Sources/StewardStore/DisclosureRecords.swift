import Foundation
import StewardCore

/// The record of disclosures (FERPA, 34 CFR 99.32): which partner received which fields of
/// which person, and when. Aggregated to one row per person, partner and day, so a full daily
/// sync of a large district adds one row per person, not one per request.
public enum DisclosureRecords {
    /// Records that `partner` was sent `fields` of each of `persons` (sourcedId and kind) at `at`.
    public static func record(partner: String, persons: [(sourcedId: String, kind: String)], fields: Set<String>, at: Date = Date(),
                              db: Database) throws(StewardError) {
        guard !persons.isEmpty, !fields.isEmpty else { return }
        let now = Timestamp.string(at)
        let day = String(now.prefix(10))
        let existing = try db.prepare("SELECT fields FROM disclosures WHERE person = ? AND partner = ? AND day = ?")
        let upsert = try db.prepare("""
            INSERT INTO disclosures (person, partner, day, kind, fields, first_at, last_at, responses) VALUES (?, ?, ?, ?, ?, ?, ?, 1)
            ON CONFLICT (person, partner, day) DO UPDATE SET fields = excluded.fields, last_at = excluded.last_at,
                responses = responses + 1
            """)
        for person in persons {
            try existing.bind([.text(person.sourcedId), .text(partner), .text(day)])
            var merged = fields
            if try existing.step() { merged.formUnion((existing.text(0) ?? "").split(separator: " ").map(String.init)) }
            try upsert.run([.text(person.sourcedId), .text(partner), .text(day), .text(person.kind),
                            .text(merged.sorted().joined(separator: " ")), .text(now), .text(now)])
        }
    }

    /// Everything recorded about `person`, one summary per partner.
    public static func of(person: String, db: Database) throws(StewardError) -> [DisclosureSummary] {
        let query = try db.prepare("""
            SELECT partner, kind, group_concat(fields, ' '), min(first_at), max(last_at), count(*), sum(responses)
            FROM disclosures WHERE person = ? GROUP BY partner ORDER BY partner
            """)
        try query.bind([.text(person)])
        var summaries: [DisclosureSummary] = []
        while try query.step() {
            let fields = Set((query.text(2) ?? "").split(separator: " ").map(String.init))
            let ordered = FieldCatalogue.all.map(\.name).filter(fields.contains) + fields.filter { FieldCatalogue.field(named: $0) == nil }.sorted()
            summaries.append(DisclosureSummary(partner: query.text(0) ?? "", kind: query.text(1) ?? "", fields: ordered,
                                               firstAt: query.text(3) ?? "", lastAt: query.text(4) ?? "",
                                               days: Int(query.int(5)), responses: Int(query.int(6))))
        }
        return summaries
    }
}

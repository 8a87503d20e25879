import Foundation
import StewardCore

/// The record of disclosures (FERPA, 34 CFR 99.32): which partner received which fields of
/// which person, and when. Aggregated to one row per person, partner and day, so a full daily
/// sync of a large district adds one row per person, not one per request.
public enum DisclosureRecords {
    /// Records that `partner` was sent `fields` of each of `persons` (sourcedId and kind) at `at`,
    /// read from roster version `rosterVersion`, and keeps the oldest roster version the partner
    /// was ever sent anything from (where its change feed starts; see `firstVersion`).
    public static func record(partner: String, persons: [(sourcedId: String, kind: String)], fields: Set<String>, at: Date = Date(),
                              rosterVersion: Int64, db: Database) throws(StewardError) {
        guard !persons.isEmpty, !fields.isEmpty else { return }
        let now = Timestamp.string(at)
        let day = String(now.prefix(10))
        // A page of persons in one statement, not one per person: every row written from one JSON
        // array of [person, kind]; a row the day already has keeps its fields and gains these.
        try db.prepare("""
            INSERT INTO disclosures (person, partner, day, roster_version, kind, fields, first_at, last_at, responses)
            SELECT json_extract(value, '$[0]'), ?1, ?2, ?5, json_extract(value, '$[1]'), ?6, ?3, ?3, 1
            FROM json_each(?4) WHERE true
            ON CONFLICT (person, partner, day, roster_version) DO UPDATE SET
                fields = steward_word_union(fields, excluded.fields), last_at = excluded.last_at, responses = responses + 1
            """).run([.text(partner), .text(day), .text(now), .text(JSONText.array(persons.map { [$0.sourcedId, $0.kind] })),
                      .int(rosterVersion), .text(fields.sorted().joined(separator: " "))])
        try db.prepare("""
            INSERT INTO disclosure_starts (partner, roster_version) VALUES (?1, ?2)
            ON CONFLICT (partner) DO UPDATE SET roster_version = min(roster_version, excluded.roster_version)
            """).run([.text(partner), .int(rosterVersion)])
    }

    /// The person (sourcedId and role) of each of `enrollments` (sourcedIds): an enrollment sent
    /// discloses its person's `sections`, recorded under that person.
    public static func persons(ofEnrollments enrollments: [String], db: Database) throws(StewardError) -> [(sourcedId: String, kind: String)] {
        guard !enrollments.isEmpty else { return [] }
        let query = try db.prepare("""
            SELECT DISTINCT e."userSourcedId", u."role" FROM roster_enrollments e JOIN roster_users u ON u."sourcedId" = e."userSourcedId"
            WHERE e."sourcedId" IN (SELECT value FROM json_each(?))
            """)
        try query.bind([.text(JSONText.array(enrollments))])
        var persons: [(sourcedId: String, kind: String)] = []
        while try query.step() { persons.append((query.text(0) ?? "", query.text(1) ?? "")) }
        return persons
    }

    /// What `partner` knows of each of `persons` before the import that made roster version
    /// `version`, as the record of disclosures tells: whether it was sent the person from an
    /// earlier version (`held`), and whether from exactly the version before (`current`: what
    /// it holds is the state the import changed), with the fields sent from it.
    public struct Knowledge: Sendable, Equatable {
        public var held = false
        public var current = false
        public var fields: Set<String> = []

        public init(held: Bool = false, current: Bool = false, fields: Set<String> = []) {
            self.held = held
            self.current = current
            self.fields = fields
        }
    }

    public static func knowledge(of persons: [String], by partner: String, before version: Int64, previous: Int64,
                                 db: Database) throws(StewardError) -> [String: Knowledge] {
        guard !persons.isEmpty else { return [:] }
        let query = try db.prepare("""
            SELECT person, fields, roster_version FROM disclosures
            WHERE person IN (SELECT value FROM json_each(?1)) AND partner = ?2 AND roster_version < ?3
            """)
        try query.bind([.text(JSONText.array(persons)), .text(partner), .int(version)])
        var known: [String: Knowledge] = [:]
        while try query.step() {
            let person = query.text(0) ?? ""
            known[person, default: Knowledge()].held = true
            guard query.int(2) == previous, previous > 0 else { continue }
            known[person]?.current = true
            known[person]?.fields.formUnion((query.text(1) ?? "").split(separator: " ").map(String.init))
        }
        return known
    }

    /// The roster version `partner` was first sent anything from, nil when never (rows from
    /// before versions were recorded count as version 0).
    public static func firstVersion(sentTo partner: String, db: Database) throws(StewardError) -> Int64? {
        let query = try db.prepare("SELECT roster_version FROM disclosure_starts WHERE partner = ?")
        try query.bind([.text(partner)])
        return try query.step() && !query.isNull(0) ? query.int(0) : nil
    }

    /// Everything recorded about `person`, one summary per partner.
    public static func of(person: String, db: Database) throws(StewardError) -> [DisclosureSummary] {
        let query = try db.prepare("""
            SELECT partner, kind, group_concat(fields, ' '), min(first_at), max(last_at), count(DISTINCT day), sum(responses)
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

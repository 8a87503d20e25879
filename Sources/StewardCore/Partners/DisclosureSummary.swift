/// What one partner received about one person, over every day it received anything.
public struct DisclosureSummary: Sendable, Equatable, Codable {
    public var partner: String
    public var kind: String
    /// Every field the partner was sent, by the field catalogue's names.
    public var fields: [String]
    public var firstAt: String
    public var lastAt: String
    /// Days on which it received something, and the responses that carried the person.
    public var days: Int
    public var responses: Int

    public init(partner: String, kind: String, fields: [String], firstAt: String, lastAt: String, days: Int, responses: Int) {
        self.partner = partner
        self.kind = kind
        self.fields = fields
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.days = days
        self.responses = responses
    }
}

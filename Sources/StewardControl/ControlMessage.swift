import Foundation

/// One request on the control socket: a compact JSON object on one line,
/// `{"method":"steward.Service.Status","parameters":{}}`. With `"more":true` the caller accepts a
/// stream of replies, each but the last marked `"continues":true` (as in varlink).
///
/// The message never says who is calling: the daemon reads that from the socket.
public struct ControlRequest: Sendable, Codable, Equatable {
    public var method: String
    public var parameters: JSONValue?
    public var more: Bool?

    public init(method: String, parameters: JSONValue? = nil, more: Bool? = nil) {
        self.method = method
        self.parameters = parameters
        self.more = more
    }

    /// Builds a request whose parameters are `value` encoded as JSON.
    public init<P: Encodable>(method: String, parameters value: P, more: Bool? = nil) throws {
        let encoded: JSONValue? = try ControlCoding.value(of: value)
        self.init(method: method, parameters: encoded, more: more)
    }
}

/// One reply line: `{"parameters":{…}}`, or `{"error":"steward.PermissionDenied","parameters":{…}}`.
public struct ControlReply: Sendable, Codable, Equatable {
    public var parameters: JSONValue?
    public var error: String?
    public var continues: Bool?

    public init(parameters: JSONValue? = nil, error: String? = nil, continues: Bool? = nil) {
        self.parameters = parameters
        self.error = error
        self.continues = continues
    }

    /// A successful reply carrying `value`.
    public static func ok<P: Encodable>(_ value: P, continues: Bool = false) throws -> ControlReply {
        ControlReply(parameters: try ControlCoding.value(of: value), continues: continues ? true : nil)
    }

    /// A named error with a message for the operator and optional details.
    public static func failure(_ error: ControlError, _ message: String, details: [String: JSONValue] = [:]) -> ControlReply {
        var parameters = details
        parameters["message"] = .string(message)
        return ControlReply(parameters: .object(parameters), error: error.rawValue)
    }

    /// The error's message, when this reply is an error.
    public var errorMessage: String? {
        guard error != nil, case .object(let fields)? = parameters, case .string(let message)? = fields["message"] else {
            return nil
        }
        return message
    }

    /// The reply's parameters decoded as `P`.
    public func decode<P: Decodable>(_ type: P.Type) throws -> P {
        try ControlCoding.decode(type, from: parameters ?? .object([:]))
    }
}

/// The errors the control socket names. Callers match on the name, never on the message.
public enum ControlError: String, Sendable, CaseIterable {
    case invalidRequest = "steward.InvalidRequest"
    case requestTooLong = "steward.RequestTooLong"
    case methodNotFound = "steward.MethodNotFound"
    case invalidParameter = "steward.InvalidParameter"
    case permissionDenied = "steward.PermissionDenied"
    /// The district's policy refuses it (a blocked Library application, Library sharing off).
    case refused = "steward.Refused"
    case configurationInvalid = "steward.ConfigurationInvalid"
    case storeFailed = "steward.StoreFailed"
    case shuttingDown = "steward.ShuttingDown"
    case internalError = "steward.InternalError"
}

/// How control messages become bytes: compact JSON, one object per line, at most
/// ``maximumLineLength`` bytes including the newline.
public enum ControlCoding {
    /// The longest line either side accepts: 1 MiB.
    public static let maximumLineLength = 1 << 20

    public static func encodeLine<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(value))
        bytes.append(0x0a)
        return bytes
    }

    public static func decodeLine<T: Decodable>(_ type: T.Type, from line: some Collection<UInt8>) throws -> T {
        try JSONDecoder().decode(type, from: Data(line))
    }

    static func value<P: Encodable>(of parameters: P) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(parameters))
    }

    static func decode<P: Decodable>(_ type: P.Type, from value: JSONValue) throws -> P {
        try JSONDecoder().decode(type, from: JSONEncoder().encode(value))
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Any JSON value, read and written with `JSONDecoder`/`JSONEncoder`.
///
/// For payloads whose fields are checked one by one with errors that name the field (subscription events, request
/// bodies that accept a number or a numeric string, the brokers' text messages), and for log lines whose metadata has
/// no fixed shape. Bodies with a fixed shape are `Codable` structs instead.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number that is a whole `Int64`.
    case integer(Int64)
    /// Any other number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Parses JSON text.
    /// - Parameter bytes: UTF-8 JSON.
    /// - Throws: `DecodingError` when the bytes are not JSON.
    public static func parse(_ bytes: some Sequence<UInt8>) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// The member `key` of an object; nil for a missing key and for anything but an object.
    /// - Parameter key: The member's name.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The elements of an array.
    public var arrayValue: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    /// The text of a string.
    public var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// The value of a number (never of a boolean).
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }

    /// A whole number given as a JSON number (`5`, `5.0`, never `true`) or as decimal text (`"5"`).
    public var integerValue: Int64? {
        switch self {
        case .integer(let value):
            return value
        case .number(let value):
            guard value.isFinite, value == value.rounded(), abs(value) < 9.2e18 else { return nil }
            return Int64(value)
        case .string(let text):
            let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
            return Int64(String(text.drop(while: blank).reversed().drop(while: blank).reversed()))
        default:
            return nil
        }
    }

    /// The JSON text of the value, e.g. `"TURBO"` or `5`, for messages that quote what was sent.
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}

extension JSONValue: Codable {
    /// Reads any JSON value.
    /// - Parameter decoder: The decoder.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Writes the value.
    /// - Parameter encoder: The encoder.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// A reply from Redis (RESP2, as hiredis 0.14 speaks it).
public enum RESPValue: Sendable, Equatable {
    /// A status reply such as `OK` or `PONG`.
    case simpleString(String)
    /// An error reply, e.g. `ERR unknown command`. Only returned inside pipelines and arrays; top-level errors are thrown.
    case error(String)
    /// An integer reply.
    case integer(Int64)
    /// A binary-safe bulk string.
    case bulkString([UInt8])
    /// A null bulk string or null array.
    case null
    /// An array of replies.
    indirect case array([RESPValue])

    /// The value as text: status replies, bulk strings (decoded as UTF-8, invalid sequences repaired) and integers.
    public var string: String? {
        switch self {
        case .simpleString(let value): value
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        default: nil
        }
    }

    /// The value as an integer: integer replies, and status or bulk strings that hold a decimal integer.
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .simpleString(let text): Int64(text)
        case .bulkString(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The raw bytes of a bulk string or status reply.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// Whether this is a null reply.
    public var isNull: Bool { self == .null }
}

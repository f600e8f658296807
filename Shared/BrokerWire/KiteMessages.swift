import SharedJSON

// Kite Connect WebSocket text messages: client requests and server text messages.

/// A request a Kite WebSocket client sends, as pykiteconnect's `subscribe`, `unsubscribe` and `set_mode` send them.
public enum KiteRequest: Sendable, Equatable {
    /// `{"a":"subscribe","v":[tokens]}`; Kite starts the tokens in `quote` mode.
    case subscribe([UInt32])
    /// `{"a":"unsubscribe","v":[tokens]}`.
    case unsubscribe([UInt32])
    /// `{"a":"mode","v":["full",[tokens]]}`.
    case mode(KiteMode, [UInt32])

    /// The JSON text of this request (compact, keys in the order `a`, `v`).
    /// - Returns: The message to send as a text WebSocket frame.
    public func jsonText() -> String {
        switch self {
        case let .subscribe(tokens): "{\"a\":\"subscribe\",\"v\":\(Self.list(tokens))}"
        case let .unsubscribe(tokens): "{\"a\":\"unsubscribe\",\"v\":\(Self.list(tokens))}"
        case let .mode(mode, tokens): "{\"a\":\"mode\",\"v\":[\"\(mode.rawValue)\",\(Self.list(tokens))]}"
        }
    }

    static func list(_ tokens: [UInt32]) -> String {
        "[" + tokens.map { String($0) }.joined(separator: ",") + "]"
    }

    /// Parses a request a client sent (any JSON spacing and key order).
    /// - Parameters:
    ///   - jsonText: The text WebSocket message.
    /// - Returns: The request.
    /// - Throws: ``KiteWireError`` with code `invalidJSON`, `unknownMessage` (unknown or missing `a`) or `invalidField`.
    public static func decode(jsonText: String) throws(KiteWireError) -> KiteRequest {
        let json: JSONValue
        switch WireText.parse(jsonText) {
        case .success(let value): json = value
        case .failure(let error): throw KiteWireError(.invalidJSON, error.message)
        }
        guard case .object = json else { throw KiteWireError(.unknownMessage, "request is not a JSON object") }
        guard let action = json["a"]?.stringValue else {
            throw KiteWireError(.unknownMessage, "request has no string field \"a\"")
        }
        guard let value = json["v"] else { throw KiteWireError(.invalidField, "request has no field \"v\"") }
        switch action {
        case "subscribe":
            return .subscribe(try tokens(value))
        case "unsubscribe":
            return .unsubscribe(try tokens(value))
        case "mode":
            guard let pair = value.arrayValue, pair.count == 2 else {
                throw KiteWireError(.invalidField, "\"v\" of a mode request must be [mode, [tokens]]")
            }
            guard let name = pair[0].stringValue, let mode = KiteMode(rawValue: name) else {
                throw KiteWireError(.invalidField, "unknown mode in a mode request")
            }
            return .mode(mode, try tokens(pair[1]))
        default:
            throw KiteWireError(.unknownMessage, "unknown action \(JSONText.quoted(action))")
        }
    }

    static func tokens(_ value: JSONValue) throws(KiteWireError) -> [UInt32] {
        guard let items = value.arrayValue else { throw KiteWireError(.invalidField, "instrument tokens must be an array") }
        var tokens = [UInt32]()
        tokens.reserveCapacity(items.count)
        for item in items {
            guard case .integer(let integer) = item, let token = UInt32(exactly: integer) else {
                throw KiteWireError(.invalidField, "instrument tokens must be integers from 0 to 4294967295")
            }
            tokens.append(token)
        }
        return tokens
    }
}

/// A text message the Kite server sends: `{"type":"order"|"error"|"message","data":...}`.
public enum KiteTextMessage: Sendable, Equatable {
    /// An order update; `json` is the exact JSON text of `data` (an order object).
    case order(json: String)
    /// An error string (`ticker.py` reports it through `on_error` with code 0).
    case error(String)
    /// An informational message string.
    case message(String)

    /// The JSON text of this message. For `order`, `json` is inserted as given and must itself be valid JSON.
    /// - Returns: The message to send as a text WebSocket frame.
    public func jsonText() -> String {
        switch self {
        case let .order(json): "{\"type\":\"order\",\"data\":\(json)}"
        case let .error(text): "{\"type\":\"error\",\"data\":\(JSONText.quoted(text))}"
        case let .message(text): "{\"type\":\"message\",\"data\":\(JSONText.quoted(text))}"
        }
    }

    /// Parses a server text message.
    /// - Parameters:
    ///   - jsonText: The text WebSocket message.
    /// - Returns: The message. For `error` and `message` with non-string `data`, the data's JSON text is returned.
    /// - Throws: ``KiteWireError`` with code `invalidJSON`, `unknownMessage` or `invalidField` (missing `data`).
    public static func decode(jsonText: String) throws(KiteWireError) -> KiteTextMessage {
        let json: JSONValue
        switch WireText.parse(jsonText) {
        case .success(let value): json = value
        case .failure(let error): throw KiteWireError(.invalidJSON, error.message)
        }
        guard case .object = json, let type = json["type"]?.stringValue else {
            throw KiteWireError(.unknownMessage, "message has no string field \"type\"")
        }
        guard let data = json["data"], let raw = WireText.rawMember("data", of: jsonText) else {
            throw KiteWireError(.invalidField, "message has no field \"data\"")
        }
        switch type {
        case "order": return .order(json: raw)
        case "error": return .error(data.stringValue ?? raw)
        case "message": return .message(data.stringValue ?? raw)
        default: throw KiteWireError(.unknownMessage, "unknown message type \(JSONText.quoted(type))")
        }
    }
}

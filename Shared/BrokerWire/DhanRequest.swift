import SharedJSON

// Dhan market feed v2 JSON requests, in the shape dhanhq's `MarketFeed` sends them.

/// One instrument in a Dhan subscription request.
public struct DhanInstrument: Sendable, Hashable {
    /// The exchange segment.
    public var segment: DhanExchangeSegment
    /// The security id, as text (dhanhq sends it as the caller passed it, normally a string such as `"1333"`).
    public var securityId: String

    /// Creates an instrument reference.
    /// - Parameters:
    ///   - segment: The exchange segment.
    ///   - securityId: The security id.
    public init(_ segment: DhanExchangeSegment, _ securityId: String) {
        self.segment = segment
        self.securityId = securityId
    }
}

/// A request a Dhan market feed v2 client sends as a text WebSocket message.
public enum DhanRequest: Sendable, Equatable {
    /// Subscribe (`RequestCode` 15, 17 or 21). dhanhq sends at most 100 instruments per message.
    case subscribe(DhanFeedMode, [DhanInstrument])
    /// Unsubscribe (`RequestCode` 16, 18 or 22).
    case unsubscribe(DhanFeedMode, [DhanInstrument])
    /// Disconnect (`RequestCode` 12).
    case disconnect

    /// The request code dhanhq's `MarketFeed` uses for this request.
    public static let disconnectCode = 12
    /// The largest instrument list dhanhq puts in one message.
    public static let maxInstrumentsPerMessage = 100

    /// The `RequestCode` of this request.
    public var requestCode: Int {
        switch self {
        case let .subscribe(mode, _): mode.subscribeCode
        case let .unsubscribe(mode, _): mode.unsubscribeCode
        case .disconnect: Self.disconnectCode
        }
    }

    /// The JSON text: `{"RequestCode":15,"InstrumentCount":1,"InstrumentList":[{"ExchangeSegment":"NSE_EQ","SecurityId":"1333"}]}`,
    /// or `{"RequestCode":12}` to disconnect.
    /// - Returns: The message to send as a text WebSocket frame.
    public func jsonText() -> String {
        switch self {
        case .disconnect:
            return "{\"RequestCode\":\(requestCode)}"
        case let .subscribe(_, list), let .unsubscribe(_, list):
            let items = list.map {
                "{\"ExchangeSegment\":\"\($0.segment.name)\",\"SecurityId\":\(JSONText.quoted($0.securityId))}"
            }
            return "{\"RequestCode\":\(requestCode),\"InstrumentCount\":\(list.count),\"InstrumentList\":[\(items.joined(separator: ","))]}"
        }
    }

    /// Parses a request a client sent (any spacing and key order; `SecurityId` may be a string or an integer).
    /// - Parameters:
    ///   - jsonText: The text WebSocket message.
    /// - Returns: The request.
    /// - Throws: ``DhanWireError`` with code `invalidJSON`, `unknownMessage` (unknown `RequestCode`) or `invalidField`.
    public static func decode(jsonText: String) throws(DhanWireError) -> DhanRequest {
        let json: JSONValue
        switch WireText.parse(jsonText) {
        case .success(let value): json = value
        case .failure(let error): throw DhanWireError(.invalidJSON, error.message)
        }
        guard case .object = json, case .integer(let requestCode)? = json["RequestCode"], let code = Int(exactly: requestCode) else {
            throw DhanWireError(.unknownMessage, "request has no integer \"RequestCode\"")
        }
        if code == disconnectCode { return .disconnect }
        guard let (mode, subscribe) = modeForCode(code) else {
            throw DhanWireError(.unknownMessage, "unknown RequestCode \(code)")
        }
        guard let items = json["InstrumentList"]?.arrayValue else {
            throw DhanWireError(.invalidField, "\"InstrumentList\" must be an array")
        }
        var list = [DhanInstrument]()
        list.reserveCapacity(items.count)
        for item in items {
            guard let name = item["ExchangeSegment"]?.stringValue else {
                throw DhanWireError(.invalidField, "instrument has no string \"ExchangeSegment\"")
            }
            guard let segment = DhanExchangeSegment(name: name) else {
                throw DhanWireError(.invalidField, "unknown ExchangeSegment \(JSONText.quoted(name))")
            }
            let securityId: String
            switch item["SecurityId"] {
            case let .string(text)?: securityId = text
            case let .integer(value)? where UInt32(exactly: value) != nil: securityId = String(value)
            default: throw DhanWireError(.invalidField, "instrument has no string or integer \"SecurityId\"")
            }
            list.append(DhanInstrument(segment, securityId))
        }
        if let countField = json["InstrumentCount"] {
            guard case .integer(let count) = countField, count == list.count else {
                throw DhanWireError(.invalidField, "\"InstrumentCount\" does not match the instrument list")
            }
        }
        return subscribe ? .subscribe(mode, list) : .unsubscribe(mode, list)
    }

    static func modeForCode(_ code: Int) -> (DhanFeedMode, Bool)? {
        for mode in DhanFeedMode.allCases {
            if code == mode.subscribeCode { return (mode, true) }
            if code == mode.unsubscribeCode { return (mode, false) }
        }
        return nil
    }
}

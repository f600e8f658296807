import SharedJSON

// Dhan v2's intraday candle API, `POST /v2/charts/intraday`, as dhanhq's `HistoricalData.intraday_minute_data` calls it:
// a JSON request `{"securityId":"2885","exchangeSegment":"NSE_EQ","instrument":"EQUITY","interval":"1","oi":false,
// "fromDate":"2025-11-20 09:15:00","toDate":"2025-11-20 15:30:00"}` (headers `access-token`, `client-id`), answered with
// columns `{"open":[..],"high":[..],"low":[..],"close":[..],"volume":[..],"timestamp":[epoch s..](,"open_interest":[..])}`,
// and errors as `{"errorType":"Input_Exception","errorCode":"DH-905","errorMessage":".."}`.

/// A candle length of Dhan's intraday API, in minutes (`interval`).
public enum DhanChartInterval: Int, Sendable, CaseIterable, Hashable {
    case one = 1
    case five = 5
    case fifteen = 15
    case twentyFive = 25
    case sixty = 60

    /// Dhan's largest `toDate - fromDate` for one intraday request ("only 90 days of data can be polled at once").
    public static let maxRangeDays = 90

    /// The Dhan interval with the same candles as a Kite interval; nil for Kite intervals Dhan does not serve
    /// (3, 10 and 30 minutes, day).
    /// - Parameters:
    ///   - kite: A Kite candle interval.
    public init?(kite: KiteCandleInterval) {
        switch kite {
        case .minute: self = .one
        case .fiveMinute: self = .five
        case .fifteenMinute: self = .fifteen
        case .sixtyMinute: self = .sixty
        case .threeMinute, .tenMinute, .thirtyMinute, .day: return nil
        }
    }
}

/// The body of `POST /v2/charts/intraday`.
public struct DhanChartRequest: Sendable, Equatable {
    /// The security id, as text (`"2885"`; `"13"` for NIFTY in `IDX_I`).
    public var securityId: String
    /// The exchange segment.
    public var exchangeSegment: DhanExchangeSegment
    /// Dhan's instrument type (`INDEX`, `EQUITY`, `OPTIDX`, ...; see ``DhanInstrumentMap/chartInstrument(forKiteToken:instrumentType:underlyingIsIndex:)``).
    public var instrument: String
    /// The candle length.
    public var interval: DhanChartInterval
    /// Whether to add `open_interest`.
    public var oi: Bool
    /// Start, `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-dd`, IST.
    public var fromDate: String
    /// End (exclusive), `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-dd`, IST.
    public var toDate: String

    /// Creates a request.
    /// - Parameters:
    ///   - securityId: The security id.
    ///   - exchangeSegment: The exchange segment.
    ///   - instrument: Dhan's instrument type.
    ///   - interval: The candle length.
    ///   - oi: Whether to add open interest.
    ///   - fromDate: Start, IST.
    ///   - toDate: End (exclusive), IST.
    public init(
        securityId: String, exchangeSegment: DhanExchangeSegment, instrument: String, interval: DhanChartInterval, oi: Bool,
        fromDate: String, toDate: String
    ) {
        self.securityId = securityId
        self.exchangeSegment = exchangeSegment
        self.instrument = instrument
        self.interval = interval
        self.oi = oi
        self.fromDate = fromDate
        self.toDate = toDate
    }

    /// The JSON body, with `interval` as text as Dhan's documentation writes it.
    public func jsonText() -> String {
        "{\"securityId\":\(JSONText.quoted(securityId)),\"exchangeSegment\":\"\(exchangeSegment.name)\",\"instrument\":\(JSONText.quoted(instrument)),"
            + "\"interval\":\"\(interval.rawValue)\",\"oi\":\(oi),\"fromDate\":\(JSONText.quoted(fromDate)),\"toDate\":\(JSONText.quoted(toDate))}"
    }

    /// Parses a request body. `securityId` and `interval` may be text or numbers (dhanhq sends `interval` as a number);
    /// `oi` is optional; unknown fields (dhanhq adds `dhanClientId`) are ignored.
    /// - Parameters:
    ///   - jsonText: The body.
    /// - Throws: ``DhanWireError`` (`invalidJSON`, `invalidField`) naming the field.
    public static func decode(jsonText: String) throws(DhanWireError) -> DhanChartRequest {
        let json: JSONValue
        switch WireText.parse(jsonText) {
        case .success(let value): json = value
        case .failure(let error): throw DhanWireError(.invalidJSON, error.message)
        }
        guard case .object = json else { throw DhanWireError(.invalidField, "the body is not a JSON object") }
        func text(_ key: String) throws(DhanWireError) -> String {
            switch json[key] {
            case .string(let value)?: return value
            case .integer(let value)?: return String(value)
            default: throw DhanWireError(.invalidField, "\(key) is required (a string)")
            }
        }
        let securityId = try text("securityId")
        guard let segment = DhanExchangeSegment(name: try text("exchangeSegment")) else {
            throw DhanWireError(.invalidField, "exchangeSegment must be one of \(DhanExchangeSegment.allCases.map(\.name).joined(separator: ", "))")
        }
        let instrument = try text("instrument")
        let intervals = DhanChartInterval.allCases.map { String($0.rawValue) }.joined(separator: ", ")
        guard let minutes = json["interval"]?.integerValue, let interval = DhanChartInterval(rawValue: Int(minutes)) else {
            throw DhanWireError(.invalidField, "interval must be one of \(intervals)")
        }
        var oi = false
        switch json["oi"] {
        case nil, .null?: break
        case .bool(let value)?: oi = value
        default: throw DhanWireError(.invalidField, "oi must be true or false")
        }
        return DhanChartRequest(
            securityId: securityId, exchangeSegment: segment, instrument: instrument, interval: interval, oi: oi,
            fromDate: try text("fromDate"), toDate: try text("toDate")
        )
    }
}

/// Dhan's chart JSON (columns) and date formats, converted from and to ``KiteCandle``s.
public enum DhanChartsJSON {
    /// Formats a Unix time as Dhan's request dates: `2025-11-20 09:15:00` (IST).
    /// - Parameters:
    ///   - unixSeconds: Seconds since the Unix epoch.
    public static func formatDate(_ unixSeconds: Int64) -> String {
        let kite = KiteHistoricalJSON.formatTimestamp(unixSeconds)  // 2025-11-20T09:15:00+0530
        return String(kite.prefix(10)) + " " + String(kite.dropFirst(11).prefix(8))
    }

    /// Parses a request date: `yyyy-MM-dd HH:mm:ss`, `yyyy-MM-dd HH:mm` or `yyyy-MM-dd`, read as IST.
    /// - Parameters:
    ///   - text: The date.
    /// - Returns: Unix seconds, or nil when the text is none of these.
    public static func parseDate(_ text: String) -> Int64? {
        guard text.count == 10 || text.count == 16 || text.count == 19, !text.contains("T") else { return nil }
        return KiteHistoricalJSON.parseTimestamp(text)
    }

    /// The success body for candles, oldest first: one array per field, `timestamp` in epoch seconds of each candle's start.
    /// - Parameters:
    ///   - candles: The candles.
    ///   - includeOI: Whether to add `open_interest` (a candle without one writes 0).
    public static func encode(_ candles: [KiteCandle], includeOI: Bool) -> String {
        func column(_ name: String, _ value: (KiteCandle) -> String) -> String {
            "\"\(name)\":[" + candles.map(value).joined(separator: ",") + "]"
        }
        var columns = [
            column("open") { KiteInstrumentCSV.formatNumber($0.open) },
            column("high") { KiteInstrumentCSV.formatNumber($0.high) },
            column("low") { KiteInstrumentCSV.formatNumber($0.low) },
            column("close") { KiteInstrumentCSV.formatNumber($0.close) },
            column("volume") { String($0.volume) },
            column("timestamp") { String($0.timestamp) },
        ]
        if includeOI { columns.append(column("open_interest") { String($0.oi ?? 0) }) }
        return "{" + columns.joined(separator: ",") + "}"
    }

    /// Parses a success body into candles. Every present column must have the same length; `timestamp` may hold
    /// whole or fractional seconds; a body without any column (`{}`) has no candles.
    /// - Parameters:
    ///   - text: The body.
    /// - Returns: The candles; `oi` is set when the body has `open_interest`.
    /// - Throws: ``DhanWireError`` (`invalidJSON`, `invalidField`).
    public static func parse(_ text: String) throws(DhanWireError) -> [KiteCandle] {
        let json: JSONValue
        switch WireText.parse(text) {
        case .success(let value): json = value
        case .failure(let error): throw DhanWireError(.invalidJSON, error.message)
        }
        guard case .object = json else { throw DhanWireError(.invalidField, "the answer is not a JSON object") }
        let names = ["open", "high", "low", "close", "volume", "timestamp"]
        if names.allSatisfy({ json[$0] == nil }) { return [] }
        var columns: [[Double]] = []
        for name in names + (json["open_interest"] == nil ? [] : ["open_interest"]) {
            guard let items = json[name]?.arrayValue else { throw DhanWireError(.invalidField, "\(name) is not an array") }
            var values: [Double] = []
            values.reserveCapacity(items.count)
            for item in items {
                guard let value = item.doubleValue else { throw DhanWireError(.invalidField, "\(name) holds a value that is not a number") }
                values.append(value)
            }
            if let first = columns.first, first.count != values.count {
                throw DhanWireError(.invalidField, "\(name) has \(values.count) values, open has \(first.count)")
            }
            columns.append(values)
        }
        return (0..<columns[0].count).map { i in
            KiteCandle(
                timestamp: Int64(columns[5][i].rounded()), open: columns[0][i], high: columns[1][i], low: columns[2][i], close: columns[3][i],
                volume: Int64(columns[4][i]), oi: columns.count > 6 ? Int64(columns[6][i]) : nil
            )
        }
    }
}

/// Dhan's error body, `{"errorType":"Input_Exception","errorCode":"DH-905","errorMessage":"..."}`, with the codes of
/// Dhan's annexure ("Trading API Error") that the data APIs answer.
public struct DhanAPIErrorBody: Sendable, Equatable {
    /// `Invalid_Authentication`, `Rate_Limit`, `Input_Exception`, ...
    public var errorType: String
    /// `DH-901` ... `DH-910`.
    public var errorCode: String
    /// The explanation.
    public var errorMessage: String

    /// Creates an error body.
    /// - Parameters:
    ///   - errorType: Dhan's error type.
    ///   - errorCode: Dhan's code.
    ///   - errorMessage: The explanation.
    public init(errorType: String, errorCode: String, errorMessage: String) {
        self.errorType = errorType
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }

    /// DH-901: the client id or access token is invalid or expired (HTTP 401).
    public static let invalidAuthentication = "DH-901"
    /// DH-902: the account has no Data API subscription.
    public static let invalidAccess = "DH-902"
    /// DH-903: an account problem (segments not activated, ...).
    public static let userAccount = "DH-903"
    /// DH-904: too many requests (HTTP 429).
    public static let rateLimit = "DH-904"
    /// DH-905: missing or bad parameters (HTTP 400).
    public static let inputException = "DH-905"
    /// DH-907: no data for the parameters (HTTP 400).
    public static let dataError = "DH-907"
    /// DH-908: the server could not process the request (HTTP 500).
    public static let internalServerError = "DH-908"

    /// The JSON text.
    public func jsonText() -> String {
        "{\"errorType\":\(JSONText.quoted(errorType)),\"errorCode\":\(JSONText.quoted(errorCode)),\"errorMessage\":\(JSONText.quoted(errorMessage))}"
    }

    /// Reads an error body; nil when the text is not one.
    /// - Parameters:
    ///   - text: A response body.
    public static func parse(_ text: String) -> DhanAPIErrorBody? {
        guard case .success(let json) = WireText.parse(text), let code = json["errorCode"]?.stringValue else { return nil }
        return DhanAPIErrorBody(errorType: json["errorType"]?.stringValue ?? "", errorCode: code, errorMessage: json["errorMessage"]?.stringValue ?? "")
    }
}

import SharedJSON

// Kite's historical-candle API: the candle type, the intervals with their range limits, and the JSON shape
// `{"status":"success","data":{"candles":[["2025-11-20T09:15:00+0530",o,h,l,c,v(,oi)],...]}}`.

/// A candle interval of `GET /instruments/historical/{token}/{interval}`, with Kite's maximum range per request.
public enum KiteCandleInterval: String, Sendable, CaseIterable, Hashable {
    case minute
    case threeMinute = "3minute"
    case fiveMinute = "5minute"
    case tenMinute = "10minute"
    case fifteenMinute = "15minute"
    case thirtyMinute = "30minute"
    case sixtyMinute = "60minute"
    case day

    /// The candle length in minutes (a trading day counts as one candle for `day`, reported here as 1440).
    public var minutes: Int {
        switch self {
        case .minute: 1
        case .threeMinute: 3
        case .fiveMinute: 5
        case .tenMinute: 10
        case .fifteenMinute: 15
        case .thirtyMinute: 30
        case .sixtyMinute: 60
        case .day: 1440
        }
    }

    /// Kite's largest `to - from` for one request, in days (minute 60; 3/5/10minute 100; 15/30minute 200; 60minute 400; day 2000).
    public var maxRangeDays: Int {
        switch self {
        case .minute: 60
        case .threeMinute, .fiveMinute, .tenMinute: 100
        case .fifteenMinute, .thirtyMinute: 200
        case .sixtyMinute: 400
        case .day: 2000
        }
    }
}

/// One historical candle. The timestamp is the candle's start in Unix seconds; Kite prints it in IST.
public struct KiteCandle: Sendable, Hashable {
    /// Candle start, seconds since 1970-01-01T00:00:00Z.
    public var timestamp: Int64
    /// Open price.
    public var open: Double
    /// High price.
    public var high: Double
    /// Low price.
    public var low: Double
    /// Close price.
    public var close: Double
    /// Traded volume within the candle.
    public var volume: Int64
    /// Open interest at the candle's end; present when the request asked for `oi=1`.
    public var oi: Int64?

    /// Creates a candle.
    /// - Parameters:
    ///   - timestamp: Start, Unix seconds.
    ///   - open: Open price.
    ///   - high: High price.
    ///   - low: Low price.
    ///   - close: Close price.
    ///   - volume: Volume within the candle.
    ///   - oi: Open interest at the end, or nil.
    public init(timestamp: Int64, open: Double, high: Double, low: Double, close: Double, volume: Int64, oi: Int64? = nil) {
        self.timestamp = timestamp
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.oi = oi
    }
}

/// Kite's historical JSON and timestamp formats.
public enum KiteHistoricalJSON {
    /// India Standard Time is UTC+05:30 all year.
    public static let istOffsetSeconds: Int64 = 19_800

    /// Formats a Unix time as Kite does in candles: `2025-11-20T09:15:00+0530`.
    /// - Parameters:
    ///   - unixSeconds: Seconds since the Unix epoch.
    public static func formatTimestamp(_ unixSeconds: Int64) -> String {
        let local = unixSeconds + istOffsetSeconds
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = Int(local - days * 86_400)
        let date = KiteCalendarDate(daysSinceEpoch: Int(days))
        return "\(date.iso)T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))+0530"
    }

    /// Parses the timestamp formats Kite uses or accepts: `2025-11-20T09:15:00+0530` (any `±hhmm` or `±hh:mm` offset, or `Z`),
    /// `2025-11-20 09:15:00` and `2025-11-20` (both read as IST), and `2025-11-20 09:15` (IST).
    /// - Parameters:
    ///   - text: The timestamp.
    /// - Returns: Unix seconds, or nil when the text is none of these.
    public static func parseTimestamp(_ text: some StringProtocol) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, let date = KiteCalendarDate(iso: String(decoding: bytes[0..<10], as: UTF8.self)) else { return nil }
        var seconds = Int64(date.daysSinceEpoch) * 86_400
        var offset = istOffsetSeconds
        if bytes.count > 10 {
            guard bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"), bytes.count >= 16 else { return nil }
            func digits(_ range: Range<Int>) -> Int? {
                guard range.upperBound <= bytes.count else { return nil }
                var value = 0
                for byte in bytes[range] {
                    guard (48...57).contains(byte) else { return nil }
                    value = value * 10 + Int(byte - 48)
                }
                return value
            }
            guard let hour = digits(11..<13), bytes[13] == UInt8(ascii: ":"), let minute = digits(14..<16),
                  hour < 24, minute < 60
            else { return nil }
            var second = 0
            var rest = 16
            if bytes.count >= 19, bytes[16] == UInt8(ascii: ":") {
                guard let s = digits(17..<19), s < 60 else { return nil }
                second = s
                rest = 19
            }
            seconds += Int64(hour * 3600 + minute * 60 + second)
            if rest < bytes.count {
                let zone = String(decoding: bytes[rest...], as: UTF8.self)
                if zone == "Z" {
                    offset = 0
                } else {
                    let sign: Int64
                    switch zone.first {
                    case "+": sign = 1
                    case "-": sign = -1
                    default: return nil
                    }
                    let body = zone.dropFirst().filter { $0 != ":" }
                    guard body.count == 4, let hhmm = Int(body) else { return nil }
                    offset = sign * Int64(hhmm / 100 * 3600 + hhmm % 100 * 60)
                }
            }
        }
        return seconds - offset
    }

    /// Encodes a success response exactly as Kite shapes it.
    /// - Parameters:
    ///   - candles: The candles, oldest first.
    ///   - includeOI: Whether to append each candle's open interest (`oi=1`); a candle without one writes 0.
    /// - Returns: The JSON text.
    public static func encode(_ candles: [KiteCandle], includeOI: Bool) -> String {
        var out = #"{"status":"success","data":{"candles":["#
        out.reserveCapacity(candles.count * 80 + 48)
        for (index, candle) in candles.enumerated() {
            if index > 0 { out += "," }
            out += "[\""
            out += formatTimestamp(candle.timestamp)
            out += "\","
            out += number(candle.open)
            out += ","
            out += number(candle.high)
            out += ","
            out += number(candle.low)
            out += ","
            out += number(candle.close)
            out += ","
            out += String(candle.volume)
            if includeOI {
                out += ","
                out += String(candle.oi ?? 0)
            }
            out += "]"
        }
        out += "]}}"
        return out
    }

    /// Parses a success response (the shape ``encode(_:includeOI:)`` writes, as Kite returns it).
    /// - Parameters:
    ///   - text: The JSON.
    /// - Returns: The candles; `oi` is set when a candle has a 7th element.
    public static func parse(_ text: String) throws(KiteDataFormatError) -> [KiteCandle] {
        let json: JSONValue
        switch WireText.parse(text) {
        case .success(let value): json = value
        case .failure(let error): throw KiteDataFormatError(.invalidHistorical, error.message)
        }
        guard case let .string(status)? = json["status"] else {
            throw KiteDataFormatError(.invalidHistorical, "missing status")
        }
        guard status == "success" else {
            var message = "status \(status)"
            if case let .string(text)? = json["message"] { message += ": \(text)" }
            throw KiteDataFormatError(.invalidHistorical, message)
        }
        guard case let .array(rows)? = json["data"]?["candles"] else {
            throw KiteDataFormatError(.invalidHistorical, "missing data.candles")
        }
        var candles: [KiteCandle] = []
        candles.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            guard case let .array(items) = row, items.count == 6 || items.count == 7,
                  case let .string(time) = items[0], let timestamp = parseTimestamp(time)
            else { throw KiteDataFormatError(.invalidHistorical, "candle \(index) is not [time,o,h,l,c,v(,oi)]") }
            var values: [Double] = []
            for item in items.dropFirst() {
                guard let value = item.doubleValue else {
                    throw KiteDataFormatError(.invalidHistorical, "candle \(index) has a non-numeric value")
                }
                values.append(value)
            }
            candles.append(
                KiteCandle(
                    timestamp: timestamp, open: values[0], high: values[1], low: values[2], close: values[3],
                    volume: Int64(values[4]), oi: values.count == 6 ? Int64(values[5]) : nil
                )
            )
        }
        return candles
    }

    private static func number(_ value: Double) -> String {
        KiteInstrumentCSV.formatNumber(value)
    }

    private static func two(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}

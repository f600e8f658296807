// Kite's instruments dump (`GET /instruments`): the row type and a CSV writer/parser for its exact columns.
// Foundation-free like the rest of BrokerWire; the dump is ~10 MB, so writing and parsing work on UTF-8 bytes.

import SharedBasics

/// A calendar date as Kite writes it in the dump's `expiry` column (`yyyy-mm-dd`), with no time zone.
public struct KiteCalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The date itself; this type adds Kite's text form and the calendar arithmetic the dump needs.
    public var civil: CivilDate

    /// The year, e.g. 2025.
    public var year: Int { civil.year }
    /// The month, 1...12.
    public var month: Int { civil.month }
    /// The day of the month, 1...31.
    public var day: Int { civil.day }

    /// Creates a date from its parts (not validated beyond the ranges of a proleptic Gregorian calendar).
    /// - Parameters:
    ///   - year: The year.
    ///   - month: The month, 1...12.
    ///   - day: The day of the month.
    public init(year: Int, month: Int, day: Int) {
        civil = CivilDate(year: year, month: month, day: day)
    }

    /// Parses `yyyy-mm-dd`.
    /// - Parameters:
    ///   - iso: The text, e.g. `2025-11-25`.
    public init?(iso: some StringProtocol) {
        let parts = iso.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Creates the date that is `days` days after 1970-01-01.
    /// - Parameters:
    ///   - daysSinceEpoch: Days since 1970-01-01 (negative before it).
    public init(daysSinceEpoch: Int) {
        civil = CivilDate(daysSinceEpoch: daysSinceEpoch)
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int { civil.daysSinceEpoch }

    /// ISO weekday: 1 = Monday ... 7 = Sunday.
    public var weekday: Int {
        // 1970-01-01 was a Thursday (4).
        let w = (daysSinceEpoch % 7 + 7) % 7
        return (w + 3) % 7 + 1
    }

    /// The date `days` days later (earlier when negative).
    /// - Parameters:
    ///   - days: The number of days to add.
    public func adding(days: Int) -> KiteCalendarDate {
        KiteCalendarDate(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// The number of days in a month.
    /// - Parameters:
    ///   - month: The month, 1...12.
    ///   - year: The year.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `yyyy-mm-dd`.
    public var iso: String {
        let m = month < 10 ? "0\(month)" : "\(month)"
        let d = day < 10 ? "0\(day)" : "\(day)"
        return "\(year)-\(m)-\(d)"
    }

    public var description: String { iso }

    public static func < (lhs: KiteCalendarDate, rhs: KiteCalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// One row of Kite's instruments dump.
///
/// `instrumentType`, `segment` and `exchange` stay strings because Kite adds values over time
/// (`EQ`, `FUT`, `CE`, `PE`; `NFO-OPT`, `MCX-FUT`, `INDICES`, ...); a reader must not fail on a new one.
public struct KiteInstrument: Sendable, Hashable {
    /// `exchange_token << 8 | segment`; what the ticker and historical API take.
    public var instrumentToken: UInt32
    /// The exchange's own token.
    public var exchangeToken: UInt32
    /// E.g. `RELIANCE`, `NIFTY 50`, `NIFTY25NOV24500CE`, `NIFTY25N1824500CE`, `CRUDEOIL25DECFUT`.
    public var tradingsymbol: String
    /// The underlying's name for derivatives (`NIFTY`), the company name for equities.
    public var name: String
    /// Kite always writes 0 in the dump.
    public var lastPrice: Double
    /// Expiry of a derivative; nil for equities and indices.
    public var expiry: KiteCalendarDate?
    /// Strike of an option; 0 otherwise.
    public var strike: Double
    /// Minimum price step, e.g. 0.05.
    public var tickSize: Double
    /// Contract multiplier (1 for equities).
    public var lotSize: Int
    /// `EQ`, `FUT`, `CE`, `PE`.
    public var instrumentType: String
    /// `NSE`, `BSE`, `INDICES`, `NFO-OPT`, `NFO-FUT`, `BFO-OPT`, `BFO-FUT`, `MCX-FUT`, `MCX-OPT`.
    public var segment: String
    /// `NSE`, `BSE`, `NFO`, `BFO`, `MCX`.
    public var exchange: String

    /// Creates a row.
    /// - Parameters:
    ///   - instrumentToken: `exchange_token << 8 | segment`.
    ///   - exchangeToken: The exchange's token.
    ///   - tradingsymbol: Kite's trading symbol.
    ///   - name: Underlying or company name.
    ///   - lastPrice: Usually 0 in the dump.
    ///   - expiry: Derivative expiry, nil otherwise.
    ///   - strike: Option strike, 0 otherwise.
    ///   - tickSize: Minimum price step.
    ///   - lotSize: Contract multiplier.
    ///   - instrumentType: `EQ`, `FUT`, `CE`, `PE`.
    ///   - segment: E.g. `NFO-OPT`.
    ///   - exchange: E.g. `NFO`.
    public init(
        instrumentToken: UInt32, exchangeToken: UInt32, tradingsymbol: String, name: String, lastPrice: Double = 0,
        expiry: KiteCalendarDate?, strike: Double, tickSize: Double, lotSize: Int, instrumentType: String,
        segment: String, exchange: String
    ) {
        self.instrumentToken = instrumentToken
        self.exchangeToken = exchangeToken
        self.tradingsymbol = tradingsymbol
        self.name = name
        self.lastPrice = lastPrice
        self.expiry = expiry
        self.strike = strike
        self.tickSize = tickSize
        self.lotSize = lotSize
        self.instrumentType = instrumentType
        self.segment = segment
        self.exchange = exchange
    }

    /// True for `CE` and `PE`.
    public var isOption: Bool { instrumentType == "CE" || instrumentType == "PE" }
    /// True for `FUT`.
    public var isFuture: Bool { instrumentType == "FUT" }
}

/// A problem found while reading Kite data (the instruments CSV or the historical JSON).
public struct KiteDataFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem was found.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        /// The CSV header is not Kite's.
        public static let unexpectedHeader = Code("unexpectedHeader")
        /// A CSV row has the wrong number of fields or a field that does not parse.
        public static let invalidRow = Code("invalidRow")
        /// The historical JSON is not Kite's shape.
        public static let invalidHistorical = Code("invalidHistorical")
        /// The code's name.
        public var description: String { name }
    }

    /// What kind of problem was found.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The 1-based line of the CSV (or nil for JSON).
    public var line: Int?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - message: What was wrong.
    ///   - line: The CSV line, when known.
    public init(_ code: Code, _ message: String, line: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
    }

    public var description: String {
        if let line { return "\(code) at line \(line): \(message)" }
        return "\(code): \(message)"
    }
}

/// Kite's instruments CSV: `instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange`.
public enum KiteInstrumentCSV {
    /// The header line, without a line break.
    public static let header =
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange"

    /// Writes the header and one line per instrument, each ending in `\n`, as Kite does (`name` is quoted).
    /// - Parameters:
    ///   - instruments: The rows to write.
    /// - Returns: The CSV as UTF-8 bytes.
    public static func write(_ instruments: some Sequence<KiteInstrument>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(instruments.underestimatedCount * 96 + 200)
        out.append(contentsOf: header.utf8)
        out.append(UInt8(ascii: "\n"))
        for row in instruments {
            append(row, to: &out)
        }
        return out
    }

    /// Appends one row (with its line break).
    /// - Parameters:
    ///   - row: The instrument.
    ///   - out: The buffer to append to.
    public static func append(_ row: KiteInstrument, to out: inout [UInt8]) {
        let comma = UInt8(ascii: ",")
        out.append(contentsOf: String(row.instrumentToken).utf8)
        out.append(comma)
        out.append(contentsOf: String(row.exchangeToken).utf8)
        out.append(comma)
        appendField(row.tradingsymbol, quoted: false, to: &out)
        out.append(comma)
        appendField(row.name, quoted: true, to: &out)
        out.append(comma)
        out.append(contentsOf: formatNumber(row.lastPrice).utf8)
        out.append(comma)
        if let expiry = row.expiry { out.append(contentsOf: expiry.iso.utf8) }
        out.append(comma)
        out.append(contentsOf: formatNumber(row.strike).utf8)
        out.append(comma)
        out.append(contentsOf: formatNumber(row.tickSize).utf8)
        out.append(comma)
        out.append(contentsOf: String(row.lotSize).utf8)
        out.append(comma)
        appendField(row.instrumentType, quoted: false, to: &out)
        out.append(comma)
        appendField(row.segment, quoted: false, to: &out)
        out.append(comma)
        appendField(row.exchange, quoted: false, to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    /// Kite writes whole numbers without a fraction (`24500`, `0`) and others in shortest form (`0.05`, `24512.5`).
    /// - Parameters:
    ///   - value: The number.
    public static func formatNumber(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    private static func appendField(_ value: String, quoted: Bool, to out: inout [UInt8]) {
        let needsQuotes = quoted || value.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }
        guard needsQuotes else {
            out.append(contentsOf: value.utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses a whole dump (header first). Accepts `\n` and `\r\n` line ends and a missing final line break.
    /// - Parameters:
    ///   - bytes: The CSV as UTF-8.
    /// - Returns: The rows in file order.
    public static func parse(_ bytes: some Collection<UInt8>) throws(KiteDataFormatError) -> [KiteInstrument] {
        var rows: [KiteInstrument] = []
        var fields: [String] = []
        var lineNumber = 0
        var sawHeader = false
        var failure: KiteDataFormatError?
        forEachRecord(bytes) { record in
            lineNumber += 1
            fields = record
            if !sawHeader {
                sawHeader = true
                if fields.joined(separator: ",") != header {
                    failure = KiteDataFormatError(.unexpectedHeader, "expected Kite's instruments header", line: lineNumber)
                    return false
                }
                return true
            }
            if fields.count == 1 && fields[0].isEmpty { return true }
            do throws(KiteDataFormatError) {
                rows.append(try parseRow(fields, line: lineNumber))
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        if !sawHeader { throw KiteDataFormatError(.unexpectedHeader, "empty CSV", line: 1) }
        return rows
    }

    /// Parses a whole dump given as text.
    /// - Parameters:
    ///   - text: The CSV.
    public static func parse(_ text: String) throws(KiteDataFormatError) -> [KiteInstrument] {
        try parse(Array(text.utf8))
    }

    /// Parses the 12 fields of one data row.
    /// - Parameters:
    ///   - fields: The unquoted fields in Kite's column order.
    ///   - line: The line number, for errors.
    public static func parseRow(_ fields: [String], line: Int? = nil) throws(KiteDataFormatError) -> KiteInstrument {
        guard fields.count == 12 else {
            throw KiteDataFormatError(.invalidRow, "expected 12 fields, got \(fields.count)", line: line)
        }
        func number(_ index: Int, _ column: String) throws(KiteDataFormatError) -> Double {
            if fields[index].isEmpty { return 0 }
            guard let value = Double(fields[index]) else {
                throw KiteDataFormatError(.invalidRow, "\(column) is not a number: \(fields[index])", line: line)
            }
            return value
        }
        guard let token = UInt32(fields[0]) else {
            throw KiteDataFormatError(.invalidRow, "instrument_token is not an unsigned integer: \(fields[0])", line: line)
        }
        guard let exchangeToken = UInt32(fields[1]) else {
            throw KiteDataFormatError(.invalidRow, "exchange_token is not an unsigned integer: \(fields[1])", line: line)
        }
        var expiry: KiteCalendarDate?
        if !fields[5].isEmpty {
            guard let date = KiteCalendarDate(iso: fields[5]) else {
                throw KiteDataFormatError(.invalidRow, "expiry is not yyyy-mm-dd: \(fields[5])", line: line)
            }
            expiry = date
        }
        let lotText = fields[8]
        guard let lot = lotText.isEmpty ? 0 : Int(lotText) ?? Double(lotText).map({ Int($0) }) else {
            throw KiteDataFormatError(.invalidRow, "lot_size is not an integer: \(lotText)", line: line)
        }
        return KiteInstrument(
            instrumentToken: token, exchangeToken: exchangeToken, tradingsymbol: fields[2], name: fields[3],
            lastPrice: try number(4, "last_price"), expiry: expiry, strike: try number(6, "strike"),
            tickSize: try number(7, "tick_size"), lotSize: lot, instrumentType: fields[9], segment: fields[10],
            exchange: fields[11]
        )
    }

    /// Splits RFC 4180 CSV into records; `body` returns false to stop.
    private static func forEachRecord(_ bytes: some Collection<UInt8>, _ body: ([String]) -> Bool) {
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var pendingQuote = false
        var any = false
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf: UInt8 = 10, cr: UInt8 = 13
        for byte in bytes {
            any = true
            if inQuotes {
                if pendingQuote {
                    pendingQuote = false
                    if byte == quote { field.append(quote); continue }
                    inQuotes = false
                } else if byte == quote {
                    pendingQuote = true
                    continue
                } else {
                    field.append(byte)
                    continue
                }
            }
            switch byte {
            case quote where field.isEmpty:
                inQuotes = true
            case comma:
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            case lf:
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                if !body(fields) { return }
                fields.removeAll(keepingCapacity: true)
                any = false
            case cr:
                continue
            default:
                field.append(byte)
            }
        }
        if any {
            fields.append(String(decoding: field, as: UTF8.self))
            _ = body(fields)
        }
    }
}

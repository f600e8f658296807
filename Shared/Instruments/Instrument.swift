import Foundation

/// One instrument of the broker's dump, as the `instruments` table holds it (TickerService loads it; every service reads
/// it through an ``InstrumentCatalog``). Encoded with the table's snake_case column names, which is also the body of
/// TickerService's `GET /instruments/{token}`.
///
/// Not BrokerWire's `KiteInstrument`, though the fields are alike: that is the broker's CSV row (32-bit tokens, a
/// calendar date, the dump's `last_price`), read once by the writer; this is what the table keeps and every reader gets
/// (the table's 64-bit tokens, `yyyy-mm-dd` text, `updated_at`), so a reader needs no broker codec.
public struct Instrument: Sendable, Hashable, Codable {
    /// The broker's instrument token (the key of the table and of the ticker feed).
    public var instrumentToken: Int64
    /// The exchange's own token; unique only together with the exchange.
    public var exchangeToken: Int64
    /// e.g. `NIFTY25NOV24500CE`.
    public var tradingsymbol: String
    /// The underlying's name for derivatives (`NIFTY`), the company's name for equities; may be empty.
    public var name: String
    /// `yyyy-mm-dd`, nil for equities and indices.
    public var expiry: String?
    /// 0 unless an option.
    public var strike: Double
    public var tickSize: Double
    public var lotSize: Int
    /// ``InstrumentType``'s values (`EQ`, `FUT`, `CE`, `PE`) or whatever else the dump says.
    public var instrumentType: String
    /// Kite's segment, e.g. `NFO-OPT`.
    public var segment: String
    /// e.g. `NFO`.
    public var exchange: String
    /// When the dump last wrote the row.
    public var updatedAt: Date

    /// - Parameters:
    ///   - instrumentToken: The broker's instrument token.
    ///   - exchangeToken: The exchange's token.
    ///   - tradingsymbol: The trading symbol.
    ///   - name: The underlying's (or company's) name.
    ///   - expiry: `yyyy-mm-dd`, nil when the instrument does not expire.
    ///   - strike: The strike (0 unless an option).
    ///   - tickSize: The price step.
    ///   - lotSize: The contract size.
    ///   - instrumentType: `EQ`, `FUT`, `CE`, `PE`, ….
    ///   - segment: Kite's segment (`NFO-OPT`).
    ///   - exchange: The exchange (`NFO`).
    ///   - updatedAt: When the row was last written.
    public init(
        instrumentToken: Int64, exchangeToken: Int64, tradingsymbol: String, name: String, expiry: String?, strike: Double,
        tickSize: Double, lotSize: Int, instrumentType: String, segment: String, exchange: String, updatedAt: Date
    ) {
        self.instrumentToken = instrumentToken
        self.exchangeToken = exchangeToken
        self.tradingsymbol = tradingsymbol
        self.name = name
        self.expiry = expiry
        self.strike = strike
        self.tickSize = tickSize
        self.lotSize = lotSize
        self.instrumentType = instrumentType
        self.segment = segment
        self.exchange = exchange
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case exchangeToken = "exchange_token"
        case tradingsymbol, name, expiry, strike
        case tickSize = "tick_size"
        case lotSize = "lot_size"
        case instrumentType = "instrument_type"
        case segment, exchange
        case updatedAt = "updated_at"
    }

    /// Reads what ``Instrument`` encodes, and also the thinner `GET /instruments/{token}` bodies of tickers that send
    /// only the token and the trading symbol: a missing field is 0, empty, nil or (for `updated_at`, which needs the
    /// decoder's `.iso8601` date strategy) the epoch.
    /// - Parameters:
    ///   - decoder: The decoder.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        instrumentToken = try c.decode(Int64.self, forKey: .instrumentToken)
        tradingsymbol = try c.decode(String.self, forKey: .tradingsymbol)
        exchangeToken = try c.decodeIfPresent(Int64.self, forKey: .exchangeToken) ?? 0
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        expiry = try c.decodeIfPresent(String.self, forKey: .expiry)
        strike = try c.decodeIfPresent(Double.self, forKey: .strike) ?? 0
        tickSize = try c.decodeIfPresent(Double.self, forKey: .tickSize) ?? 0
        lotSize = try c.decodeIfPresent(Int.self, forKey: .lotSize) ?? 0
        instrumentType = try c.decodeIfPresent(String.self, forKey: .instrumentType) ?? ""
        segment = try c.decodeIfPresent(String.self, forKey: .segment) ?? ""
        exchange = try c.decodeIfPresent(String.self, forKey: .exchange) ?? ""
        updatedAt = try c.decodeIfPresent(Date.self, forKey: .updatedAt) ?? Date(timeIntervalSince1970: 0)
    }
}

/// The `instrument_type` values the catalog's queries select on.
public enum InstrumentType {
    /// An equity (the spot of a stock underlying).
    public static let equity = "EQ"
    /// A future.
    public static let future = "FUT"
    /// A call option.
    public static let call = "CE"
    /// A put option.
    public static let put = "PE"
    /// Both option types.
    public static let options = [call, put]
}

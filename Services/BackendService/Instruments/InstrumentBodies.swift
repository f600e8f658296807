import ServiceRuntime
import SharedInstruments

/// One instrument as the `/api/v2` answers carry it (`GET /api/v2/instruments/token/{token}`, each search result):
/// the dump's fields, every key present, `expiry` `null` for an instrument that does not expire.
struct InstrumentBody: JSONResponseBody, Sendable {
    var instrument: Instrument

    enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case exchangeToken = "exchange_token"
        case tickSize = "tick_size"
        case lotSize = "lot_size"
        case instrumentType = "instrument_type"
        case updatedAt = "updated_at"
        case tradingsymbol, name, expiry, strike, segment, exchange
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(instrument.instrumentToken, forKey: .instrumentToken)
        try container.encode(instrument.exchangeToken, forKey: .exchangeToken)
        try container.encode(instrument.tradingsymbol, forKey: .tradingsymbol)
        try container.encode(instrument.name, forKey: .name)
        try container.encode(instrument.expiry, forKey: .expiry)
        try container.encode(instrument.strike, forKey: .strike)
        try container.encode(instrument.tickSize, forKey: .tickSize)
        try container.encode(instrument.lotSize, forKey: .lotSize)
        try container.encode(instrument.instrumentType, forKey: .instrumentType)
        try container.encode(instrument.segment, forKey: .segment)
        try container.encode(instrument.exchange, forKey: .exchange)
        try container.encode(instrument.updatedAt, forKey: .updatedAt)
    }
}

/// `GET /api/v2/instruments/search`'s answer.
struct InstrumentSearchBody: JSONResponseBody, Sendable {
    var query: String
    var results: [InstrumentBody]
    var count: Int
}

/// `GET /api/v2/instruments/{symbol}/expiries`'s answer: seed 004's `expiries` as days, and per expiry its strikes.
struct ExpiriesBody: JSONResponseBody, Sendable {
    struct Detail: Encodable, Sendable {
        var expiry: String
        var strikes: Int
        var strikeStep: Nullable<Double>

        enum CodingKeys: String, CodingKey {
            case strikeStep = "strike_step"
            case expiry, strikes
        }
    }

    var symbol: String
    /// Option expiries from today on, `yyyy-MM-dd`, nearest first.
    var expiries: [String]
    var details: [Detail]
    /// The futures' expiries.
    var futures: [String]
    var count: Int
}

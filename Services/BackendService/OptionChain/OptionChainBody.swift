import ServiceRuntime
import SharedInstruments

/// `GET /api/v2/option-chain/{symbol}`'s answer.
///
/// `{"symbol","expiry","expiries":[..],"underlying":{"instrument_token"|null,"ltp","source"},"atm_strike","strike_step",
/// "model":"black_76"|"black_scholes"|null,"rate","years_to_expiry","strikes":[{"strike","atm","ce":Leg|null,"pe":Leg|null}],"count"}`
/// where a Leg is `{"instrument_token","tradingsymbol","lot_size","quote":Quote|null,"iv":..|null,"delta":..|null}`.
struct OptionChainBody: JSONResponseBody, Sendable {
    struct Underlying: Encodable, Sendable {
        var instrumentToken: Nullable<Int64>
        var ltp: Double
        var source: UnderlyingPrice.Source

        enum CodingKeys: String, CodingKey {
            case instrumentToken = "instrument_token"
            case ltp, source
        }
    }

    struct Leg: Encodable, Sendable {
        var instrumentToken: Int64
        var tradingsymbol: String
        var lotSize: Int
        var quote: Nullable<QuoteBody>
        /// Implied volatility (0.18 = 18%); null without a live option and underlying price, or when the price is
        /// outside what any volatility gives.
        var iv: Nullable<Double>
        var delta: Nullable<Double>

        enum CodingKeys: String, CodingKey {
            case instrumentToken = "instrument_token"
            case lotSize = "lot_size"
            case tradingsymbol, quote, iv, delta
        }
    }

    struct Row: Encodable, Sendable {
        var strike: Double
        var atm: Bool
        var ce: Nullable<Leg>
        var pe: Nullable<Leg>
    }

    var symbol: String
    var expiry: String
    var expiries: [String]
    /// Seed 004's `underlying_ltp` (the same as `underlying.ltp`).
    var underlyingLTP: Double
    var underlying: Underlying
    var atmStrike: Double
    var strikeStep: Double
    var model: Nullable<OptionModel>
    var rate: Double
    var yearsToExpiry: Double
    /// Seed 004's `strikes`: one row per strike, ascending.
    var strikes: [Row]
    var count: Int

    enum CodingKeys: String, CodingKey {
        case atmStrike = "atm_strike"
        case strikeStep = "strike_step"
        case yearsToExpiry = "years_to_expiry"
        case underlyingLTP = "underlying_ltp"
        case symbol, expiry, expiries, underlying, model, rate, strikes, count
    }
}

/// `GET /api/v2/atm/{symbol}`'s answer: where the chain of one expiry is centred now.
struct ATMBody: JSONResponseBody, Sendable {
    var symbol: String
    var expiry: String
    var underlyingLTP: Double
    var source: UnderlyingPrice.Source
    var atmStrike: Double
    var strikeStep: Double
    /// The window of `strikes` strikes around the money.
    var strikes: [Double]
    /// Whether a window centred on `centre` (the query's `centre`, e.g. a watchlist's ATM strike) should be re-centred.
    var shouldRecalculate: Nullable<Bool>

    enum CodingKeys: String, CodingKey {
        case underlyingLTP = "underlying_ltp"
        case atmStrike = "atm_strike"
        case strikeStep = "strike_step"
        case shouldRecalculate = "should_recalculate"
        case symbol, expiry, source, strikes
    }
}

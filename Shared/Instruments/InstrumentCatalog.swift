/// Looks an instrument up by its token; what a second source (TickerService over HTTP) must answer so that
/// ``FallbackInstrumentCatalog`` can ask it when the shared table lacks a token.
public protocol InstrumentTokenLookup: Sendable {
    /// One instrument, or nil when this source does not know the token.
    /// - Parameters:
    ///   - token: The broker's instrument token.
    func instrument(token: Int64) async throws -> Instrument?
}

/// The one read API over the instrument table (migration `0001_instruments_and_bars.sql`): every service that needs an
/// instrument's metadata, an underlying's option chain or its spot asks this and never writes SQL of its own against
/// `instruments`. TickerService owns the write side (it loads the broker's dump).
///
/// Every lookup answers from what is loaded: nil or empty means "not in the catalog", which in a database whose dump has
/// not been loaded yet is not the same as "does not exist" (see ``FallbackInstrumentCatalog``).
public protocol InstrumentCatalog: InstrumentTokenLookup {
    /// The instruments among `tokens` that are in the catalog, by token (one query for any number of tokens).
    /// - Parameters:
    ///   - tokens: Broker instrument tokens; duplicates and unknown tokens are fine.
    func instruments(tokens: [Int64]) async throws -> [Int64: Instrument]

    /// The instrument an exchange knows by `exchangeToken` (exchange tokens repeat across exchanges).
    /// - Parameters:
    ///   - exchangeToken: The exchange's token.
    ///   - exchange: The exchange (`NSE`, `NFO`, `MCX`, …), any case.
    func instrument(exchangeToken: Int64, exchange: String) async throws -> Instrument?

    /// The instrument by exchange and trading symbol, both compared case-insensitively.
    /// - Parameters:
    ///   - tradingsymbol: e.g. `RELIANCE`.
    ///   - exchange: e.g. `NSE`.
    func instrument(tradingsymbol: String, exchange: String) async throws -> Instrument?

    /// Whether any option (`CE`/`PE`) of the underlying is in the catalog.
    /// - Parameters:
    ///   - underlying: The underlying's name as the dump's `name` column has it (`NIFTY`).
    func hasOptions(underlying: String) async throws -> Bool

    /// The first `limit` option expiries of the underlying on or after `fromDay`, ascending.
    /// - Parameters:
    ///   - underlying: The underlying's name (`NIFTY`).
    ///   - fromDay: `yyyy-MM-dd`, inclusive.
    ///   - limit: At most this many expiries.
    /// - Returns: `yyyy-MM-dd` days.
    func optionExpiries(underlying: String, fromDay: String, limit: Int) async throws -> [String]

    /// Every option of the underlying expiring on one of `expiries`, ordered by expiry, strike, then type (`CE` before `PE`).
    /// - Parameters:
    ///   - underlying: The underlying's name (`NIFTY`).
    ///   - expiries: Validated `yyyy-MM-dd` days.
    func options(underlying: String, expiries: [String]) async throws -> [Instrument]

    /// The underlying's futures expiring on or after `fromDay`, nearest first.
    /// - Parameters:
    ///   - underlying: The underlying's name (`NIFTY`).
    ///   - fromDay: `yyyy-MM-dd`, inclusive.
    func futures(underlying: String, fromDay: String) async throws -> [Instrument]

    /// Every instrument in the catalog, by token (BackendService's in-memory registry loads it whole, about 100,000 rows).
    func allInstruments() async throws -> [Instrument]

    /// The token of the underlying's spot: its index (``IndexSpot``) for the indices, else the NSE (or, failing that, BSE)
    /// equity whose trading symbol is the underlying's name; nil when neither is known.
    /// - Parameters:
    ///   - underlying: The underlying's name (`NIFTY`, `RELIANCE`).
    func spotToken(underlying: String) async throws -> Int64?
}

/// The spot index of each index underlying: indices are not in the dump under their derivatives' `name`, so their tokens
/// are fixed here (they are stable across dumps).
public enum IndexSpot {
    /// Underlying name → index token.
    public static let tokens: [String: Int64] = [
        "NIFTY": 256_265,  // NIFTY 50
        "BANKNIFTY": 260_105,  // NIFTY BANK
        "FINNIFTY": 257_801,  // NIFTY FIN SERVICE
        "MIDCPNIFTY": 288_009,  // NIFTY MID SELECT
        "SENSEX": 265,
        "BANKEX": 274_441,
    ]
}

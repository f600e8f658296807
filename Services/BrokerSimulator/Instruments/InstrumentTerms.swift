// What the market model needs to price an instrument, kept beside each dump row.

/// The pricing terms of one instrument.
struct InstrumentTerms: Sendable {
    enum Kind: UInt8, Sendable {
        case index, equity, future, call, put
    }

    var kind: Kind
    /// Index into ``InstrumentUniverse/underlyings``.
    var underlying: Int32
    var strike: Double
    /// Unix second the contract expires (15:30 IST for NSE/BSE, 23:30 IST for MCX); 0 for spot instruments.
    var expirySecond: Int64
    /// Unix second the carry runs to: the expiry, or for an MCX option the expiry of the future it is written on.
    var carrySecond: Int64
    /// 1 / tick size (20 for 0.05), so rounding lands on exact decimals.
    var ticksPerUnit: Double
    /// Typical traded quantity per day, in units.
    var dailyVolume: Double
    var lotSize: Int32
    /// The token of what it derives from (index, equity, or MCX future); 0 when none.
    var underlyingToken: UInt32
}

/// The session calendar an underlying trades on.
enum TradingVenue: Sendable {
    /// NSE, NFO, BSE, BFO and indices: 09:15–15:30 IST.
    case equity
    /// MCX: 09:00–23:30 IST.
    case commodity
}

/// One underlying: the random walk all its instruments are priced from.
struct UnderlyingInfo: Sendable {
    var name: String
    var path: PricePath
    var impliedVolatility: Double
    var venue: TradingVenue
    /// The index or equity token, nil for MCX (no spot instrument).
    var spotToken: UInt32?
    /// The price at the trading date's start; strikes are centred on it.
    var referencePrice: Double
}

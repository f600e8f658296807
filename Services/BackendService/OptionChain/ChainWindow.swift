import SharedInstruments

/// The strikes of one expiry around the money: what a watchlist entry or Tier B holds and what an option chain shows.
struct ChainWindow: Sendable {
    /// One strike's call and put (either may be unlisted).
    struct Row: Sendable {
        var strike: Double
        var call: Instrument?
        var put: Instrument?
    }

    var symbol: String
    /// `yyyy-MM-dd`.
    var expiry: String
    /// The instrument whose price is the underlying's (index, equity or nearest future); nil when not listed.
    var underlyingToken: Int64?
    var underlyingLTP: Double
    /// Where the price came from (``UnderlyingPrice/Source``).
    var priceSource: UnderlyingPrice.Source
    var atmStrike: Double
    var strikeStep: Double
    /// Ascending by strike.
    var rows: [Row]

    /// The options of the window, calls and puts, by strike.
    var optionTokens: [Int64] { rows.flatMap { [$0.call?.instrumentToken, $0.put?.instrumentToken].compactMap { $0 } } }
}

/// An underlying's price and where it came from.
struct UnderlyingPrice: Sendable, Equatable {
    enum Source: String, Codable, Sendable {
        /// The latest live tick of the underlying's price instrument.
        case tick
        /// The caller's `underlying_ltp`.
        case caller
        /// The latest stored 1-minute bar.
        case bars
        /// TickerService's `/history`.
        case history
    }

    var instrumentToken: Int64?
    var price: Double
    var source: Source
}

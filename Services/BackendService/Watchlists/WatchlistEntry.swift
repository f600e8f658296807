import Foundation

/// One entry of a user's watchlist (seed 004's `watchlist` table): an underlying, which holds its option chain around
/// the money and the underlying itself, or one instrument.
struct WatchlistEntry: Sendable, Equatable {
    enum Kind: String, Sendable, Codable {
        case underlying, instrument
    }

    var userID: String
    var kind: Kind
    /// The underlying's name for an underlying entry; the instrument's trading symbol for an instrument entry.
    var symbol: String
    /// The instrument of an instrument entry; 0 for an underlying.
    var instrumentToken: Int64
    /// The chain an underlying entry holds: its expiry (`yyyy-MM-dd`), the strike it is centred on and how many strikes.
    var expiry: String?
    var atmStrike: Double?
    var strikes: Int?
    var addedAt: Date = Date()

    /// The `tier_holdings` source of what this entry holds.
    var source: String { kind == .underlying ? TierSource.watchlist(symbol) : TierSource.watchlistInstrument }
}

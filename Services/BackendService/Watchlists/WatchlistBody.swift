import Foundation
import ServiceRuntime

/// `POST /api/v2/watchlist/add` and `/remove`: `{"user_id", "symbol"}` or `{"user_id", "instrument_token"}`.
struct WatchlistChangeRequest: Decodable, Sendable {
    static let shape = #"{"user_id": string, "symbol": string} or {"user_id": string, "instrument_token": integer}"#
    var userID: String
    var symbol: String?
    var instrumentToken: Int64?

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case instrumentToken = "instrument_token"
        case symbol
    }
}

/// One watchlist entry as the API shows it.
struct WatchlistEntryBody: Encodable, Sendable {
    var kind: String
    var symbol: String
    var instrumentToken: Nullable<Int64>
    var expiry: Nullable<String>
    var atmStrike: Nullable<Double>
    var strikes: Nullable<Int>
    var addedAt: Date
    /// Instruments this entry holds now.
    var instruments: Int
    /// The live quote of the instrument, or of the underlying for an underlying entry; null when none has come.
    var quote: Nullable<QuoteBody>

    enum CodingKeys: String, CodingKey {
        case kind, symbol, expiry, strikes, instruments, quote
        case instrumentToken = "instrument_token"
        case atmStrike = "atm_strike"
        case addedAt = "added_at"
    }

    init(_ entry: WatchlistEntry, instruments: Int, quote: QuoteBody?) {
        kind = entry.kind.rawValue
        symbol = entry.symbol
        instrumentToken = Nullable(entry.kind == .instrument ? entry.instrumentToken : nil)
        expiry = Nullable(entry.expiry)
        atmStrike = Nullable(entry.atmStrike)
        strikes = Nullable(entry.strikes)
        addedAt = entry.addedAt
        self.instruments = instruments
        self.quote = Nullable(quote)
    }
}

/// An instrument the cap took from the user.
struct EvictionBody: Encodable, Sendable {
    var instrumentToken: Int64
    var source: String
    var reason: String
    var evictedAt: Date

    enum CodingKeys: String, CodingKey {
        case source, reason
        case instrumentToken = "instrument_token"
        case evictedAt = "evicted_at"
    }
}

/// `GET /api/v2/watchlist?user_id=`.
struct WatchlistBody: JSONResponseBody, Sendable {
    var userID: String
    var entries: [WatchlistEntryBody]
    var count: Int
    /// Instruments held for the user across entries.
    var instruments: Int
    /// Instruments the cap evicted from this user (newest first, at most 100) since the last end-of-day cleanup.
    var evictions: [EvictionBody]

    enum CodingKeys: String, CodingKey {
        case entries, count, instruments, evictions
        case userID = "user_id"
    }
}

/// The answer of an add or a remove.
struct WatchlistChangeBody: JSONResponseBody, Sendable {
    var userID: String
    var entry: WatchlistEntryBody
    /// add: whether the entry is new; remove: always true.
    var changed: Bool
    var instruments: [Int64]
    var evicted: [Int64]

    enum CodingKeys: String, CodingKey {
        case entry, changed, instruments, evicted
        case userID = "user_id"
    }
}

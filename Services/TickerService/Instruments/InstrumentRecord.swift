import Foundation

/// What the registry knows about one instrument (a row of the cached broker dump).
struct InstrumentRecord: Sendable, Hashable, Codable {
    var instrumentToken: Int64
    var exchangeToken: Int64
    var tradingsymbol: String
    var name: String
    /// `yyyy-mm-dd`, nil for equities and indices.
    var expiry: String?
    var strike: Double
    var tickSize: Double
    var lotSize: Int
    var instrumentType: String
    /// Kite's segment, e.g. `NFO-OPT`.
    var segment: String
    /// e.g. `NFO`.
    var exchange: String
    var updatedAt: Date

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
}

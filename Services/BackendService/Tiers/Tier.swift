/// Seed 004's two tiers: A is what users asked for (watchlists, on-demand) and may be evicted by the cap; B is the
/// always-on list, never evicted (docs/tiers.md).
enum Tier: String, Sendable, Codable, CaseIterable {
    case a = "A"
    case b = "B"
}

/// One reason a holder holds an instrument (`tier_holdings`).
struct TierHolding: Sendable, Hashable {
    var instrumentToken: Int64
    /// TickerService's holder name.
    var holder: String
    /// Why: `watchlist:NIFTY`, `watchlist:token`, `on-demand`, `tier-b:NIFTY`, `tier-b:mcx-futures`.
    var source: String
    var tier: Tier
    var userID: String?
}

/// The TickerService holder names the tiers use (docs/tiers.md): a user's watchlist, an on-demand request, Tier B.
enum TierHolder {
    static let alwaysOn = "tier:always-on"
    static func user(_ userID: String) -> String { "user:\(userID)" }
    static func onDemand(_ userID: String?) -> String { "on-demand:\(userID ?? "api")" }
}

/// The sources of `tier_holdings` rows.
enum TierSource {
    static let onDemand = "on-demand"
    static let watchlistInstrument = "watchlist:token"
    static func watchlist(_ symbol: String) -> String { "watchlist:\(symbol)" }
    static func tierB(_ part: String) -> String { "tier-b:\(part)" }
}

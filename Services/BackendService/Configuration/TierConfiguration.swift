import Foundation
import Shared

extension ConfigKey {
    /// `SUBSCRIPTION_CAP`: most instruments the tiers hold together (Tier A + Tier B); never above the brokers' capacity.
    static let subscriptionCap = ConfigKey("SUBSCRIPTION_CAP")
    /// `TIER_B_ENABLED`: subscribe the always-on instruments at startup.
    static let tierBEnabled = ConfigKey("TIER_B_ENABLED")
    /// `TIER_B_INDEX_OPTIONS`: `SYMBOL:EXPIRIES:STRIKES,...`: index options held always-on.
    static let tierBIndexOptions = ConfigKey("TIER_B_INDEX_OPTIONS")
    /// `TIER_B_MCX_FUTURES`: MCX commodities whose listed futures are held always-on.
    static let tierBMCXFutures = ConfigKey("TIER_B_MCX_FUTURES")
    /// `TIER_B_MCX_OPTIONS`: `SYMBOL:EXPIRIES:STRIKES,...`: MCX options held always-on (centred on the nearest future).
    static let tierBMCXOptions = ConfigKey("TIER_B_MCX_OPTIONS")
    /// `TIER_B_PRICE_TIMEOUT`: how long the preload waits for the underlyings' live prices before it skips the missing ones.
    static let tierBPriceTimeout = ConfigKey("TIER_B_PRICE_TIMEOUT")
    /// `TIER_B_MODE`: the mode Tier B instruments are subscribed in.
    static let tierBMode = ConfigKey("TIER_B_MODE")
    /// `WATCHLIST_CHAIN_STRIKES`: strikes of the nearest expiry an underlying on a watchlist holds (× CE and PE).
    static let watchlistChainStrikes = ConfigKey("WATCHLIST_CHAIN_STRIKES")
    /// `WATCHLIST_MAX_ENTRIES`: most entries one user's watchlist may have.
    static let watchlistMaxEntries = ConfigKey("WATCHLIST_MAX_ENTRIES")
    /// `TIER_A_MODE`: the mode watchlist and on-demand instruments are subscribed in.
    static let tierAMode = ConfigKey("TIER_A_MODE")
    /// `EOD_CLEANUP_TIME`: `HH:MM` in IST when Tier A is released on trading days.
    static let eodCleanupTime = ConfigKey("EOD_CLEANUP_TIME")
    /// `EOD_CLEAR_WATCHLISTS`: whether the end-of-day cleanup also empties the watchlists.
    static let eodClearWatchlists = ConfigKey("EOD_CLEAR_WATCHLISTS")
    /// `EOD_ENABLED`: run the end-of-day cleanup service.
    static let eodEnabled = ConfigKey("EOD_ENABLED")
    /// `ATM_RECENTER_STRIKES`: how many strikes the underlying must move before a watchlist chain is re-centred.
    static let atmRecenterStrikes = ConfigKey("ATM_RECENTER_STRIKES")
    /// `OPTION_RISK_FREE_RATE`: the continuously compounded rate of the option chain's implied volatility and delta.
    static let optionRiskFreeRate = ConfigKey("OPTION_RISK_FREE_RATE")
}

/// Settings of the two-tier subscription system (docs/tiers.md, docs/configuration.md).
struct TierConfiguration: Sendable {
    /// One `SYMBOL:EXPIRIES:STRIKES` entry: the nearest `expiries` expiries, `strikes` strikes each around the money.
    struct ChainSpec: Sendable, Equatable {
        var symbol: String
        var expiries: Int
        var strikes: Int
    }

    var cap: Int
    var tierBEnabled: Bool
    var tierBIndexOptions: [ChainSpec]
    var tierBMCXFutures: [String]
    var tierBMCXOptions: [ChainSpec]
    var tierBPriceTimeout: Duration
    var tierBMode: SubscriptionMode
    var tierAMode: SubscriptionMode
    var watchlistChainStrikes: Int
    var watchlistMaxEntries: Int
    var eodEnabled: Bool
    /// Minutes after midnight IST.
    var eodCleanupMinute: Int
    var eodClearWatchlists: Bool
    var atmRecenterStrikes: Int
    var optionRiskFreeRate: Double

    /// Seed 004's list; the defaults come to about 8,430 instruments on a full instrument dump (docs/tiers.md).
    static let defaultIndexOptions = "NIFTY:12:141,BANKNIFTY:5:141,SENSEX:7:141,FINNIFTY:3:141,MIDCPNIFTY:3:141,BANKEX:3:141"
    static let defaultMCXFutures = "GOLD,SILVER,CRUDEOIL,NATURALGAS,COPPER"
    static let defaultMCXOptions = "CRUDEOIL:2:63,NATURALGAS:2:63"

    init(source: ConfigSource) throws(ConfigError) {
        cap = try source.int(.subscriptionCap, default: 25_000, in: 1...1_000_000)
        // On everywhere but ENVIRONMENT=test, whose processes start with nothing subscribed unless a test asks.
        tierBEnabled = try source.bool(.tierBEnabled, default: source.deployment != .test)
        tierBIndexOptions = try Self.chainSpecs(.tierBIndexOptions, source.string(.tierBIndexOptions, default: Self.defaultIndexOptions))
        tierBMCXFutures = try Self.symbols(.tierBMCXFutures, source.string(.tierBMCXFutures, default: Self.defaultMCXFutures))
        tierBMCXOptions = try Self.chainSpecs(.tierBMCXOptions, source.string(.tierBMCXOptions, default: Self.defaultMCXOptions))
        tierBPriceTimeout = try source.seconds(.tierBPriceTimeout, default: .seconds(30))
        tierBMode = try Self.mode(.tierBMode, source.string(.tierBMode, default: "QUOTE"))
        tierAMode = try Self.mode(.tierAMode, source.string(.tierAMode, default: "FULL"))
        watchlistChainStrikes = try source.int(.watchlistChainStrikes, default: 25, in: 1...201)
        watchlistMaxEntries = try source.int(.watchlistMaxEntries, default: 200, in: 1...10_000)
        eodEnabled = try source.bool(.eodEnabled, default: source.deployment != .test)
        eodCleanupMinute = try Self.clock(.eodCleanupTime, source.string(.eodCleanupTime, default: "15:30"))
        eodClearWatchlists = try source.bool(.eodClearWatchlists, default: true)
        atmRecenterStrikes = try source.int(.atmRecenterStrikes, default: 2, in: 1...100)
        let rate = source.string(.optionRiskFreeRate, default: "0.065")
        guard let parsed = Double(rate), parsed.isFinite, (0...0.5).contains(parsed) else {
            throw ConfigError(.invalid, key: ConfigKey.optionRiskFreeRate.name, reason: "'\(rate)' is not a rate from 0 to 0.5 (0.065 = 6.5%)")
        }
        optionRiskFreeRate = parsed
    }

    static let declaredKeys: [ConfigKey] = [
        .subscriptionCap, .tierBEnabled, .tierBIndexOptions, .tierBMCXFutures, .tierBMCXOptions, .tierBPriceTimeout, .tierBMode, .tierAMode,
        .watchlistChainStrikes, .watchlistMaxEntries, .eodEnabled, .eodCleanupTime, .eodClearWatchlists, .atmRecenterStrikes, .optionRiskFreeRate,
    ]

    static func chainSpecs(_ key: ConfigKey, _ text: String) throws(ConfigError) -> [ChainSpec] {
        var specs: [ChainSpec] = []
        for part in text.split(separator: ",") {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3, !fields[0].isEmpty, let expiries = Int(fields[1]), (1...52).contains(expiries),
                let strikes = Int(fields[2]), (1...501).contains(strikes)
            else {
                throw ConfigError(.invalid, key: key.name, reason: "'\(part)' is not SYMBOL:EXPIRIES(1-52):STRIKES(1-501)")
            }
            specs.append(ChainSpec(symbol: fields[0].uppercased(), expiries: expiries, strikes: strikes))
        }
        return specs
    }

    static func symbols(_ key: ConfigKey, _ text: String) throws(ConfigError) -> [String] {
        let list = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        if let bad = list.first(where: { $0.count > 40 }) { throw ConfigError(.invalid, key: key.name, reason: "'\(bad)' is not a symbol") }
        return list
    }

    static func mode(_ key: ConfigKey, _ text: String) throws(ConfigError) -> SubscriptionMode {
        guard let mode = SubscriptionMode(rawValue: text.uppercased()) else {
            throw ConfigError(.invalid, key: key.name, reason: "'\(text)' is not one of LTP, QUOTE, FULL")
        }
        return mode
    }

    /// `HH:MM` → minutes after midnight.
    static func clock(_ key: ConfigKey, _ text: String) throws(ConfigError) -> Int {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute) else {
            throw ConfigError(.invalid, key: key.name, reason: "'\(text)' is not HH:MM (IST)")
        }
        return hour * 60 + minute
    }
}

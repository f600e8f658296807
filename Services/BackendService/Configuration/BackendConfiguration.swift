import Shared

/// BackendService's settings: the shared ones, event consumption and backfill (``BackfillConfiguration``:
/// `SUBSCRIPTION_EVENTS_ENABLED`, `BACKFILL_*`, `TICKER_URL`, ...), and the market APIs
/// (``MarketAPIConfiguration``: `SMART_SUBSCRIPTION_*`, `TICK_BARS_*`, `BARS_MAX_POINTS`).
struct BackendConfiguration: Sendable {
    static let serviceName = "backend-service"
    static let defaultPort = 8081

    var common: CommonConfiguration
    var backfill: BackfillConfiguration
    var market: MarketAPIConfiguration

    init(source: ConfigSource) throws(ConfigError) {
        common = try CommonConfiguration(source: source, defaultPort: Self.defaultPort)
        backfill = try BackfillConfiguration(source: source)
        market = try MarketAPIConfiguration(source: source)
    }

    var redactedSummary: [(key: String, value: String)] {
        var seen = Set<String>()
        return (common.redactedSummary + backfill.redactedSummary + market.redactedSummary).filter { seen.insert($0.key).inserted }
    }
}

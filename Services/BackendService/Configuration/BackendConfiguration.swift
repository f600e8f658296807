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

    /// Every key BackendService reads, in the order `print-config` prints them (duplicates, such as
    /// `REDIS_CHANNEL_PREFIX`, print once). A key read without being listed here is caught by `ConfigurationKeysTests`.
    static let declaredKeys: [ConfigKey] = ConfigKey.commonKeys + BackfillConfiguration.declaredKeys + MarketAPIConfiguration.declaredKeys

    /// Reads the configuration from `source` and returns what `--print-config` prints and the startup log carries.
    /// - Returns: The configuration and the `KEY=value` pairs, secrets masked.
    static func load(source: ConfigSource) throws(ConfigError) -> (config: BackendConfiguration, printable: [(key: String, value: String)]) {
        let config = try BackendConfiguration(source: source)
        return (config, source.printableValues(declared: declaredKeys))
    }
}

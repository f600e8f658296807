import Shared

/// BackendService's settings: the shared ones plus the seeds' feature flags.
struct BackendConfiguration: Sendable {
    static let serviceName = "backend-service"
    static let defaultPort = 8081

    var common: CommonConfiguration
    /// `SUBSCRIPTION_EVENTS_ENABLED` (seed 001): consume subscription events.
    var subscriptionEventsEnabled: Bool
    /// `BACKFILL_SUBSCRIPTION_AWARE` (seed 001): the periodic backfill covers the active subscriptions.
    var backfillSubscriptionAware: Bool
    /// `BACKFILL_IMMEDIATE_ON_SUBSCRIBE` (seed 001): backfill as soon as a subscription is created.
    var backfillImmediateOnSubscribe: Bool
    /// `SMART_SUBSCRIPTION_ENABLED` (seed 002).
    var smartSubscriptionEnabled: Bool
    /// `SMART_SUBSCRIPTION_WAIT_TIMEOUT` (seed 002), default 10 s.
    var smartSubscriptionWaitTimeout: Duration
    /// `SMART_SUBSCRIPTION_CACHE_TTL` (seed 002), default 60 s.
    var smartSubscriptionCacheTTL: Duration
    /// `TICKER_URL`: where TickerService is.
    var tickerURL: String

    init(source: ConfigSource) throws(ConfigError) {
        common = try CommonConfiguration(source: source, defaultPort: Self.defaultPort)
        subscriptionEventsEnabled = try source.bool(.subscriptionEventsEnabled, default: true)
        backfillSubscriptionAware = try source.bool(.backfillSubscriptionAware, default: true)
        backfillImmediateOnSubscribe = try source.bool(.backfillImmediateOnSubscribe, default: true)
        smartSubscriptionEnabled = try source.bool(.smartSubscriptionEnabled, default: true)
        smartSubscriptionWaitTimeout = try source.seconds(.smartSubscriptionWaitTimeout, default: .seconds(10))
        smartSubscriptionCacheTTL = try source.seconds(.smartSubscriptionCacheTTL, default: .seconds(60))
        tickerURL = source.string(.tickerURL, default: "http://127.0.0.1:8080")
        guard tickerURL.hasPrefix("http://") || tickerURL.hasPrefix("https://") else {
            throw ConfigError(.invalid, key: ConfigKey.tickerURL.name, reason: "'\(tickerURL)' must be an http(s) URL")
        }
    }

    var redactedSummary: [(key: String, value: String)] {
        common.redactedSummary + [
            (ConfigKey.subscriptionEventsEnabled.name, String(subscriptionEventsEnabled)),
            (ConfigKey.backfillSubscriptionAware.name, String(backfillSubscriptionAware)),
            (ConfigKey.backfillImmediateOnSubscribe.name, String(backfillImmediateOnSubscribe)),
            (ConfigKey.smartSubscriptionEnabled.name, String(smartSubscriptionEnabled)),
            (ConfigKey.smartSubscriptionWaitTimeout.name, "\(smartSubscriptionWaitTimeout)"),
            (ConfigKey.smartSubscriptionCacheTTL.name, "\(smartSubscriptionCacheTTL)"),
            (ConfigKey.tickerURL.name, tickerURL),
        ]
    }
}

import Shared

/// Settings of the bars pipeline and the market-data APIs (docs/bars.md, docs/configuration.md).
struct MarketAPIConfiguration: Sendable {
    /// `TICK_BARS_ENABLED`: run the tick consumer.
    var tickBarsEnabled: Bool
    /// `TICK_BARS_CONSUMER_GROUP`: the consumer group on `{prefix}:ticks`.
    var tickBarsConsumerGroup: String
    /// `TICK_BARS_FLUSH_INTERVAL`: time between bulk writes of the open bars.
    var tickBarsFlushInterval: Duration
    /// `TICK_BARS_READ_COUNT`: entries per `XREADGROUP`.
    var tickBarsReadCount: Int
    /// `TICK_BARS_CLAIM_IDLE`: how long an entry stays unacknowledged before this consumer claims it.
    var tickBarsClaimIdle: Duration
    /// `BARS_MAX_POINTS`: most bars one `GET /bars` answer may cover.
    var barsMaxPoints: Int
    /// `SMART_SUBSCRIPTION_ENABLED` (seed 002).
    var smartSubscriptionEnabled: Bool
    /// `SMART_SUBSCRIPTION_WAIT_TIMEOUT` (seed 002): how long to wait for the first stored bar.
    var smartSubscriptionWaitTimeout: Duration
    /// `SMART_SUBSCRIPTION_CACHE_TTL` (seed 002): how long a subscription-status answer is trusted.
    var smartSubscriptionCacheTTL: Duration
    /// `SMART_SUBSCRIPTION_STRIKES`: strikes on each side of the at-the-money strike.
    var smartSubscriptionStrikes: Int
    /// `SMART_SUBSCRIPTION_POLL_INTERVAL`: time between checks for the first stored bar.
    var smartSubscriptionPollInterval: Duration
    /// `REDIS_CHANNEL_PREFIX`'s names (ticks stream, latest-quote keys).
    var channels: EventChannels

    init(source: ConfigSource) throws(ConfigError) {
        tickBarsEnabled = try source.bool(.tickBarsEnabled, default: true)
        tickBarsConsumerGroup = source.string(.tickBarsConsumerGroup, default: "backend-bars")
        guard !tickBarsConsumerGroup.isEmpty, !tickBarsConsumerGroup.contains(where: \.isWhitespace) else {
            throw ConfigError(.invalid, key: ConfigKey.tickBarsConsumerGroup.name, reason: "'\(tickBarsConsumerGroup)' must be a non-empty name without spaces")
        }
        tickBarsFlushInterval = try source.seconds(.tickBarsFlushInterval, default: .seconds(1))
        guard tickBarsFlushInterval >= .milliseconds(50), tickBarsFlushInterval <= .seconds(30) else {
            throw ConfigError(.invalid, key: ConfigKey.tickBarsFlushInterval.name, reason: "must be between 0.05 and 30 seconds")
        }
        tickBarsReadCount = try source.int(.tickBarsReadCount, default: 5_000, in: 1...100_000)
        tickBarsClaimIdle = try source.seconds(.tickBarsClaimIdle, default: .seconds(30))
        barsMaxPoints = try source.int(.barsMaxPoints, default: 20_000, in: 1...1_000_000)
        smartSubscriptionEnabled = try source.bool(.smartSubscriptionEnabled, default: true)
        smartSubscriptionWaitTimeout = try source.seconds(.smartSubscriptionWaitTimeout, default: .seconds(10))
        smartSubscriptionCacheTTL = try source.seconds(.smartSubscriptionCacheTTL, default: .seconds(60))
        smartSubscriptionStrikes = try source.int(.smartSubscriptionStrikes, default: 10, in: 0...100)
        smartSubscriptionPollInterval = try source.seconds(.smartSubscriptionPollInterval, default: .milliseconds(250))
        guard smartSubscriptionPollInterval >= .milliseconds(10) else {
            throw ConfigError(.invalid, key: ConfigKey.smartSubscriptionPollInterval.name, reason: "must be at least 0.01 seconds")
        }
        channels = EventChannels(prefix: source.string(.redisChannelPrefix, default: EventChannels.defaultPrefix))
    }

    /// The keys this configuration reads (``BackendConfiguration/declaredKeys`` includes them).
    static let declaredKeys: [ConfigKey] = [
        .tickBarsEnabled, .tickBarsConsumerGroup, .tickBarsFlushInterval, .tickBarsReadCount, .tickBarsClaimIdle, .barsMaxPoints,
        .smartSubscriptionEnabled, .smartSubscriptionWaitTimeout, .smartSubscriptionCacheTTL, .smartSubscriptionStrikes,
        .smartSubscriptionPollInterval, .redisChannelPrefix,
    ]
}

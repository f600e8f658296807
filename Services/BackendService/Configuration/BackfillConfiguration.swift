import Foundation
import Shared

/// Settings of event consumption and backfill (docs/backfill.md), read from a ``ConfigSource``.
struct BackfillConfiguration: Sendable {
    /// Where candles come from.
    enum HistorySource: String, Sendable, CaseIterable {
        /// TickerService's `/history` (production: it splits and paces requests per broker account).
        case ticker
        /// The broker's `/instruments/historical` directly, with `KITE_API_KEY`/`KITE_ACCESS_TOKEN` (local runs without TickerService).
        case broker
    }

    /// `SUBSCRIPTION_EVENTS_ENABLED`: stream consumer, pub/sub listener and webhook on or off.
    var eventsEnabled: Bool
    /// `BACKFILL_IMMEDIATE_ON_SUBSCRIBE`.
    var immediateOnSubscribe: Bool
    /// `BACKFILL_SUBSCRIPTION_AWARE`: run the periodic gap-filling cycle over the active subscriptions.
    var subscriptionAware: Bool
    /// `BACKFILL_SESSION`.
    var session: SessionCalendar.Mode
    /// `BACKFILL_LOOKBACK_MINUTES`: session minutes fetched for an instrument without recent bars.
    var lookbackMinutes: Int
    /// `BACKFILL_MAX_LOOKBACK_HOURS`: "since the last bar" never reaches further back than this.
    var maxLookback: Duration
    /// `BACKFILL_INTERVAL_SECONDS`.
    var cycleInterval: Duration
    /// `BACKFILL_GAP_LOOKBACK_HOURS`.
    var gapLookback: Duration
    /// `BACKFILL_CONCURRENCY`.
    var concurrency: Int
    /// `BACKFILL_MAX_ATTEMPTS`.
    var maxAttempts: Int
    /// `BACKFILL_RETRY_BASE_SECONDS`.
    var retryBase: Duration
    /// `BACKFILL_HISTORY_SOURCE`.
    var historySource: HistorySource
    /// `TICKER_URL`.
    var tickerURL: String
    /// `TICKER_API_KEY`, nil when unset.
    var tickerAPIKey: String?
    /// `BROKER_URL` (for ``HistorySource/broker``).
    var brokerURL: String
    /// `KITE_API_KEY` / `KITE_ACCESS_TOKEN` (for ``HistorySource/broker``).
    var brokerAPIKey: String
    var brokerAccessToken: String
    /// Redis names from `REDIS_CHANNEL_PREFIX`.
    var channels: EventChannels
    /// `EVENTS_CONSUMER_GROUP`.
    var consumerGroup: String
    /// `EVENTS_CONSUMER_NAME`.
    var consumerName: String
    /// `EVENTS_CLAIM_MIN_IDLE_SECONDS`.
    var claimMinIdle: Duration
    /// `EVENTS_MAX_DELIVERIES`.
    var maxDeliveries: Int
    /// `EVENTS_GROUP_START_ID`.
    var groupStartID: String

    /// Reads the settings.
    /// - Parameters:
    ///   - source: Flags, environment and `.env`.
    init(source: ConfigSource) throws(ConfigError) {
        eventsEnabled = try source.bool(.subscriptionEventsEnabled, default: true)
        immediateOnSubscribe = try source.bool(.backfillImmediateOnSubscribe, default: true)
        subscriptionAware = try source.bool(.backfillSubscriptionAware, default: true)
        // The local simulator runs `--session-mode always`; real exchanges keep hours.
        session = try source.value(.backfillSession, default: source.deployment.isLocal ? .always : .exchange)
        lookbackMinutes = try source.int(.backfillLookbackMinutes, default: 120, in: 1...100_000)
        maxLookback = .seconds(try source.int(.backfillMaxLookbackHours, default: 72, in: 1...24 * 60) * 3600)
        cycleInterval = try source.seconds(.backfillIntervalSeconds, default: .seconds(300))
        gapLookback = .seconds(try source.int(.backfillGapLookbackHours, default: 24, in: 1...24 * 60) * 3600)
        concurrency = try source.int(.backfillConcurrency, default: 4, in: 1...256)
        maxAttempts = try source.int(.backfillMaxAttempts, default: 5, in: 1...100)
        retryBase = try source.seconds(.backfillRetryBaseSeconds, default: .seconds(1))
        historySource = try source.value(.backfillHistorySource, default: .ticker)
        tickerURL = source.string(.tickerURL, default: "http://127.0.0.1:8080")
        let tickerKey = source.string(.tickerAPIKey, default: "")
        tickerAPIKey = tickerKey.isEmpty ? nil : tickerKey
        brokerURL = source.string(.brokerURL, default: "http://127.0.0.1:8090")
        brokerAPIKey = source.string(.kiteAPIKey, default: "sim_api_key")
        brokerAccessToken = source.string(.kiteAccessToken, default: "sim_access_token")
        channels = EventChannels(prefix: source.string(.redisChannelPrefix, default: EventChannels.defaultPrefix))
        consumerGroup = source.string(.eventsConsumerGroup, default: "backend")
        consumerName = source.string(.eventsConsumerName, default: Self.defaultConsumerName())
        claimMinIdle = try source.seconds(.eventsClaimMinIdleSeconds, default: .seconds(30))
        maxDeliveries = try source.int(.eventsMaxDeliveries, default: 5, in: 1...1000)
        groupStartID = source.string(.eventsGroupStartID, default: "0")
        guard !consumerGroup.isEmpty, !consumerGroup.contains(where: \.isWhitespace) else {
            throw ConfigError(.invalid, key: ConfigKey.eventsConsumerGroup.name, reason: "'\(consumerGroup)' must be a non-empty word")
        }
        guard !consumerName.isEmpty else {
            throw ConfigError(.invalid, key: ConfigKey.eventsConsumerName.name, reason: "must not be empty")
        }
        guard groupStartID == "0" || groupStartID == "$" else {
            throw ConfigError(.invalid, key: ConfigKey.eventsGroupStartID.name, reason: "'\(groupStartID)' must be 0 or $")
        }
        guard cycleInterval >= .seconds(1) else {
            throw ConfigError(.invalid, key: ConfigKey.backfillIntervalSeconds.name, reason: "must be at least 1 second")
        }
    }

    /// `hostname-pid`: unique per process, stable for its lifetime.
    static func defaultConsumerName() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The keys this configuration reads (``BackendConfiguration/declaredKeys`` includes them).
    static let declaredKeys: [ConfigKey] = [
        .subscriptionEventsEnabled, .backfillImmediateOnSubscribe, .backfillSubscriptionAware, .backfillSession, .backfillLookbackMinutes,
        .backfillMaxLookbackHours, .backfillIntervalSeconds, .backfillGapLookbackHours, .backfillConcurrency, .backfillMaxAttempts,
        .backfillRetryBaseSeconds, .backfillHistorySource, .tickerURL, .tickerAPIKey, .brokerURL, .kiteAPIKey, .kiteAccessToken,
        .redisChannelPrefix, .eventsConsumerGroup, .eventsConsumerName, .eventsClaimMinIdleSeconds, .eventsMaxDeliveries, .eventsGroupStartID,
    ]
}

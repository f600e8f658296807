/// The name of one configuration setting, as users set it in the environment or a `.env` file.
///
/// Every key the services read is declared once here, so that TickerService and BackendService can never
/// disagree on a name again (the seeds' `subscription_deleted` vs `subscription_removed` lesson).
public struct ConfigKey: Hashable, Sendable, CustomStringConvertible {
    /// The environment-variable spelling, e.g. `REDIS_URL`.
    public let name: String
    /// Whether the value is a secret that must never be printed or logged.
    public let isSecret: Bool
    /// Whether the value is a URL whose password part must be masked when printed.
    public let isURLWithCredentials: Bool

    /// Declares a key.
    /// - Parameters:
    ///   - name: The environment-variable spelling.
    ///   - isSecret: `true` for access tokens, API keys and passwords.
    ///   - isURLWithCredentials: `true` for connection URLs that may embed a password.
    public init(_ name: String, isSecret: Bool = false, isURLWithCredentials: Bool = false) {
        self.name = name
        self.isSecret = isSecret
        self.isURLWithCredentials = isURLWithCredentials
    }

    public var description: String { name }
}

extension ConfigKey {
    /// The keys ``CommonConfiguration`` reads; each service's declared list starts with these.
    public static let commonKeys: [ConfigKey] = [
        .environment, .redisURL, .redisSentinels, .redisMasterName, .databaseURL, .databasePoolSize, .redisChannelPrefix, .logLevel, .logFormat,
        .host, .port, .apiKeyEnabled,
    ]

    // Shared by every service.
    /// `ENVIRONMENT`: dev, test, staging or production.
    public static let environment = ConfigKey("ENVIRONMENT")
    /// `REDIS_URL`: `redis://[:password@]host:port[/db]`.
    public static let redisURL = ConfigKey("REDIS_URL", isURLWithCredentials: true)
    /// `REDIS_SENTINELS`: `host:port,...` of Redis Sentinel; with `REDIS_MASTER_NAME`, the master is found through them.
    public static let redisSentinels = ConfigKey("REDIS_SENTINELS")
    /// `REDIS_MASTER_NAME`: the master's name in Sentinel.
    public static let redisMasterName = ConfigKey("REDIS_MASTER_NAME")
    /// `DATABASE_URL`: a libpq connection string (URL or key=value); empty means libpq's `PG*` variables.
    public static let databaseURL = ConfigKey("DATABASE_URL", isURLWithCredentials: true)
    /// `DATABASE_POOL_SIZE`: connections per service.
    public static let databasePoolSize = ConfigKey("DATABASE_POOL_SIZE")
    /// `REDIS_CHANNEL_PREFIX`: prefix of every Redis key, channel and stream (default `ticker:nifty`).
    public static let redisChannelPrefix = ConfigKey("REDIS_CHANNEL_PREFIX")
    /// `LOG_LEVEL`: trace, debug, info, notice, warning, error, critical.
    public static let logLevel = ConfigKey("LOG_LEVEL")
    /// `LOG_FORMAT`: human or json.
    public static let logFormat = ConfigKey("LOG_FORMAT")
    /// `HOST`: the address the HTTP server binds.
    public static let host = ConfigKey("HOST")
    /// `PORT`: the HTTP port.
    public static let port = ConfigKey("PORT")
    /// `API_KEY_ENABLED`: whether changing endpoints require `X-API-Key`.
    public static let apiKeyEnabled = ConfigKey("API_KEY_ENABLED")
    /// `API_KEY`: the key clients present in `X-API-Key`.
    public static let apiKey = ConfigKey("API_KEY", isSecret: true)
    /// `WEBHOOK_SECRET`: a second secret BackendService's webhook accepts, in `X-Webhook-Secret`, when `API_KEY_ENABLED` is on.
    public static let webhookSecret = ConfigKey("WEBHOOK_SECRET", isSecret: true)

    // BackendService (names from seeds 001 and 002).
    /// `SUBSCRIPTION_EVENTS_ENABLED`: consume subscription events.
    public static let subscriptionEventsEnabled = ConfigKey("SUBSCRIPTION_EVENTS_ENABLED")
    /// `BACKFILL_SUBSCRIPTION_AWARE`: the periodic backfill covers the active subscriptions.
    public static let backfillSubscriptionAware = ConfigKey("BACKFILL_SUBSCRIPTION_AWARE")
    /// `BACKFILL_IMMEDIATE_ON_SUBSCRIBE`: backfill as soon as a subscription is created.
    public static let backfillImmediateOnSubscribe = ConfigKey("BACKFILL_IMMEDIATE_ON_SUBSCRIBE")
    /// `SMART_SUBSCRIPTION_ENABLED`: subscribe missing option chains on demand.
    public static let smartSubscriptionEnabled = ConfigKey("SMART_SUBSCRIPTION_ENABLED")
    /// `SMART_SUBSCRIPTION_WAIT_TIMEOUT`: seconds to wait for the first stored bar after subscribing.
    public static let smartSubscriptionWaitTimeout = ConfigKey("SMART_SUBSCRIPTION_WAIT_TIMEOUT")
    /// `SMART_SUBSCRIPTION_CACHE_TTL`: seconds a subscription-status answer is cached.
    public static let smartSubscriptionCacheTTL = ConfigKey("SMART_SUBSCRIPTION_CACHE_TTL")
    /// `TICKER_URL`: where BackendService reaches TickerService.
    public static let tickerURL = ConfigKey("TICKER_URL", isURLWithCredentials: true)

    // TickerService.
    /// `BROKER_URL`: the broker's REST base URL (the simulator by default).
    public static let brokerURL = ConfigKey("BROKER_URL", isURLWithCredentials: true)
    /// `BROKER_WS_URL`: the broker's ticker WebSocket URL.
    public static let brokerWebSocketURL = ConfigKey("BROKER_WS_URL", isURLWithCredentials: true)
    /// `ACCOUNTS_FILE`: a JSON file describing broker accounts.
    public static let accountsFile = ConfigKey("ACCOUNTS_FILE")
}

extension ConfigKey {
    // TickerService broker feed (docs/feed.md).
    /// `KITE_API_KEY`: the API key of the single account used when `ACCOUNTS_FILE` is not set.
    public static let kiteAPIKey = ConfigKey("KITE_API_KEY", isSecret: true)
    /// `KITE_ACCESS_TOKEN`: that account's access token.
    public static let kiteAccessToken = ConfigKey("KITE_ACCESS_TOKEN", isSecret: true)
    /// `FEED_STALE_SECONDS`: a connection that delivers nothing (not even a heartbeat) for this long is reconnected.
    public static let feedStaleSeconds = ConfigKey("FEED_STALE_SECONDS")
    /// `DHAN_WS_URL`: the Dhan feed root for `ACCOUNTS_FILE` entries with `"broker":"dhan"` and no `ws_url`
    /// (default `wss://api-feed.dhan.co`; the simulator serves it at `ws://127.0.0.1:8090/dhan`).
    public static let dhanWebSocketURL = ConfigKey("DHAN_WS_URL", isURLWithCredentials: true)
    /// `DHAN_URL`: the Dhan REST root for Dhan entries with no `rest_url` (default `https://api.dhan.co`).
    public static let dhanURL = ConfigKey("DHAN_URL", isURLWithCredentials: true)
    /// `FEED_PLACEMENT`: where a new instrument goes: `least_loaded` (default: the connection with the smallest share of
    /// its capacity in use, across every account of every broker) or `ordered` (fill accounts in `ACCOUNTS_FILE` order).
    public static let feedPlacement = ConfigKey("FEED_PLACEMENT")
    /// `FEED_REBALANCE_INTERVAL_SECONDS`: how often TickerService checks the connections' spread (0: never automatically).
    public static let feedRebalanceIntervalSeconds = ConfigKey("FEED_REBALANCE_INTERVAL_SECONDS")
    /// `FEED_REBALANCE_THRESHOLD_PERCENT`: the spread, in % of a connection's capacity, above which it rebalances.
    public static let feedRebalanceThresholdPercent = ConfigKey("FEED_REBALANCE_THRESHOLD_PERCENT")
    /// `FEED_REBALANCE_OVERLAP_SECONDS`: how long a moved instrument streams on both connections before the old one lets go.
    public static let feedRebalanceOverlapSeconds = ConfigKey("FEED_REBALANCE_OVERLAP_SECONDS")
    /// `FEED_HANDSHAKE_TIMEOUT_SECONDS`: a WebSocket upgrade the broker has not completed in this long is abandoned (default 10).
    public static let feedHandshakeTimeoutSeconds = ConfigKey("FEED_HANDSHAKE_TIMEOUT_SECONDS")
    /// `FEED_RECONNECT_BASE_SECONDS`: first reconnect delay; it doubles per failed attempt.
    public static let feedReconnectBaseSeconds = ConfigKey("FEED_RECONNECT_BASE_SECONDS")
    /// `FEED_RECONNECT_MAX_SECONDS`: cap of the reconnect delay.
    public static let feedReconnectMaxSeconds = ConfigKey("FEED_RECONNECT_MAX_SECONDS")
    /// `TICKS_STREAM_MAXLEN`: approximate length cap of the `{prefix}:ticks` stream.
    public static let ticksStreamMaxLength = ConfigKey("TICKS_STREAM_MAXLEN")
    /// `TICKS_BUFFER_FRAMES`: frames held between the WebSocket readers and the Redis writer before the oldest is dropped.
    public static let ticksBufferFrames = ConfigKey("TICKS_BUFFER_FRAMES")
    /// `HISTORY_REQUESTS_PER_SECOND`: historical-candle requests per second per account (Kite allows 3).
    public static let historyRequestsPerSecond = ConfigKey("HISTORY_REQUESTS_PER_SECOND")
}

extension ConfigKey {
    // BackendService bars and market APIs (docs/bars.md).
    /// `TICK_BARS_ENABLED`: build 1-minute bars from the `{prefix}:ticks` stream.
    public static let tickBarsEnabled = ConfigKey("TICK_BARS_ENABLED")
    /// `TICK_BARS_CONSUMER_GROUP`: the consumer group on `{prefix}:ticks` that builds bars.
    public static let tickBarsConsumerGroup = ConfigKey("TICK_BARS_CONSUMER_GROUP")
    /// `TICK_BARS_FLUSH_INTERVAL`: seconds between bulk writes of the open bars (a minute change also writes).
    public static let tickBarsFlushInterval = ConfigKey("TICK_BARS_FLUSH_INTERVAL")
    /// `TICK_BARS_READ_COUNT`: tick entries read per `XREADGROUP`.
    public static let tickBarsReadCount = ConfigKey("TICK_BARS_READ_COUNT")
    /// `TICK_BARS_CLAIM_IDLE`: seconds an entry stays unacknowledged before another consumer claims it.
    public static let tickBarsClaimIdle = ConfigKey("TICK_BARS_CLAIM_IDLE")
    /// `BARS_MAX_POINTS`: most bars one `GET /bars` answer may cover.
    public static let barsMaxPoints = ConfigKey("BARS_MAX_POINTS")
    /// `SMART_SUBSCRIPTION_STRIKES`: strikes on each side of the money that smart subscription subscribes.
    public static let smartSubscriptionStrikes = ConfigKey("SMART_SUBSCRIPTION_STRIKES")
    /// `SMART_SUBSCRIPTION_POLL_INTERVAL`: seconds between checks for the first stored bar while waiting.
    public static let smartSubscriptionPollInterval = ConfigKey("SMART_SUBSCRIPTION_POLL_INTERVAL")
}

extension ConfigKey {
    // BackendService events and backfill (docs/backfill.md).
    /// `BACKFILL_SESSION`: `exchange` (NSE 09:15–15:30, MCX 09:00–23:30 IST, Mon–Fri) or `always` (every minute).
    public static let backfillSession = ConfigKey("BACKFILL_SESSION")
    /// `BACKFILL_LOOKBACK_MINUTES`: session minutes an instrument without bars is backfilled for (default 120).
    public static let backfillLookbackMinutes = ConfigKey("BACKFILL_LOOKBACK_MINUTES")
    /// `BACKFILL_MAX_LOOKBACK_HOURS`: the oldest "since the last bar" an immediate backfill reaches back (default 72).
    public static let backfillMaxLookbackHours = ConfigKey("BACKFILL_MAX_LOOKBACK_HOURS")
    /// `BACKFILL_INTERVAL_SECONDS`: period of the subscription-aware gap-filling cycle (default 300).
    public static let backfillIntervalSeconds = ConfigKey("BACKFILL_INTERVAL_SECONDS")
    /// `BACKFILL_GAP_LOOKBACK_HOURS`: how far back the periodic cycle looks for gaps (default 24).
    public static let backfillGapLookbackHours = ConfigKey("BACKFILL_GAP_LOOKBACK_HOURS")
    /// `BACKFILL_CONCURRENCY`: instruments backfilled at the same time (default 4).
    public static let backfillConcurrency = ConfigKey("BACKFILL_CONCURRENCY")
    /// `BACKFILL_MAX_ATTEMPTS`: fetch attempts per backfill before it is recorded as failed (default 5).
    public static let backfillMaxAttempts = ConfigKey("BACKFILL_MAX_ATTEMPTS")
    /// `BACKFILL_RETRY_BASE_SECONDS`: first retry delay; doubles per attempt, capped at 30 s (default 1).
    public static let backfillRetryBaseSeconds = ConfigKey("BACKFILL_RETRY_BASE_SECONDS")
    /// `BACKFILL_HISTORY_SOURCE`: `ticker` (TickerService `/history`, default) or `broker` (the broker's API directly).
    public static let backfillHistorySource = ConfigKey("BACKFILL_HISTORY_SOURCE")
    /// `TICKER_API_KEY`: the `X-API-Key` BackendService presents to TickerService.
    public static let tickerAPIKey = ConfigKey("TICKER_API_KEY", isSecret: true)
    /// `EVENTS_CONSUMER_GROUP`: the Redis Stream consumer group of BackendService instances (default `backend`).
    public static let eventsConsumerGroup = ConfigKey("EVENTS_CONSUMER_GROUP")
    /// `EVENTS_CONSUMER_NAME`: this instance's consumer name (default `hostname-pid`).
    public static let eventsConsumerName = ConfigKey("EVENTS_CONSUMER_NAME")
    /// `EVENTS_CLAIM_MIN_IDLE_SECONDS`: a pending entry idle this long is claimed from its (dead) consumer (default 30).
    public static let eventsClaimMinIdleSeconds = ConfigKey("EVENTS_CLAIM_MIN_IDLE_SECONDS")
    /// `EVENTS_MAX_DELIVERIES`: deliveries after which a failing entry is dead-lettered (default 5).
    public static let eventsMaxDeliveries = ConfigKey("EVENTS_MAX_DELIVERIES")
    /// `EVENTS_GROUP_START_ID`: where a newly created consumer group starts: `0` (whole stream, default) or `$`.
    public static let eventsGroupStartID = ConfigKey("EVENTS_GROUP_START_ID")
}

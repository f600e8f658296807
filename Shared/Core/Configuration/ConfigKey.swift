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
    // Shared by every service.
    /// `ENVIRONMENT`: dev, test, staging or production.
    public static let environment = ConfigKey("ENVIRONMENT")
    /// `REDIS_URL`: `redis://[:password@]host:port[/db]`.
    public static let redisURL = ConfigKey("REDIS_URL", isURLWithCredentials: true)
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
    public static let tickerURL = ConfigKey("TICKER_URL")

    // TickerService.
    /// `BROKER_URL`: the broker's REST base URL (the simulator by default).
    public static let brokerURL = ConfigKey("BROKER_URL")
    /// `BROKER_WS_URL`: the broker's ticker WebSocket URL.
    public static let brokerWebSocketURL = ConfigKey("BROKER_WS_URL")
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

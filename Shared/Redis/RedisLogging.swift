import Logging

/// Logger metadata keys used by the Redis wrapper, defined once.
public enum RedisLogKey {
    /// `host:port` of the server (never includes credentials).
    public static let address = "redis.address"
    /// Redacted URL of the server.
    public static let url = "redis.url"
    /// Reconnect attempt number within one call.
    public static let attempt = "redis.attempt"
    /// Backoff delay before the next attempt, in milliseconds.
    public static let delayMS = "redis.delay_ms"
    /// Error text.
    public static let error = "redis.error"
    /// Pub/sub channels of a subscription.
    public static let channels = "redis.channels"
}

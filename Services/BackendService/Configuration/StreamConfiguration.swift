import Foundation
import Shared

extension ConfigKey {
    /// `STREAM_ENABLED`: serve the quote stream (`GET /api/v2/stream`) and read the tick stream for it.
    static let streamEnabled = ConfigKey("STREAM_ENABLED")
    /// `STREAM_MAX_CLIENTS`: most stream clients connected at once; the next one is closed with 1013.
    static let streamMaxClients = ConfigKey("STREAM_MAX_CLIENTS")
    /// `STREAM_PING_INTERVAL`: seconds between WebSocket pings; a client that does not answer one in time is closed.
    static let streamPingInterval = ConfigKey("STREAM_PING_INTERVAL")
    /// `STREAM_MAX_TOKENS_PER_CLIENT`: most instruments one client may stream.
    static let streamMaxTokensPerClient = ConfigKey("STREAM_MAX_TOKENS_PER_CLIENT")
    /// `STREAM_MAX_TOKENS_PER_MESSAGE`: most tokens one subscribe or unsubscribe message may name.
    static let streamMaxTokensPerMessage = ConfigKey("STREAM_MAX_TOKENS_PER_MESSAGE")
    /// `STREAM_MAX_QUOTES_PER_MESSAGE`: most quotes one `quotes` message carries (the queue is sent in batches of this).
    static let streamMaxQuotesPerMessage = ConfigKey("STREAM_MAX_QUOTES_PER_MESSAGE")
    /// `STREAM_USE_INTERVAL`: seconds between the LRU use records of the streamed instruments.
    static let streamUseInterval = ConfigKey("STREAM_USE_INTERVAL")
}

/// Settings of the quote stream (docs/stream.md, docs/configuration.md).
///
/// A client's queue holds at most one quote per instrument it streams, so it is bounded by
/// `maxTokensPerClient`; `maxQuotesPerMessage` bounds one outgoing message.
struct StreamConfiguration: Sendable {
    var enabled: Bool
    var maxClients: Int
    var pingInterval: Duration
    var maxTokensPerClient: Int
    var maxTokensPerMessage: Int
    var maxQuotesPerMessage: Int
    var useInterval: Duration
    /// Largest inbound WebSocket message; a control message never needs more than a token list.
    var maxInboundBytes: Int { max(4_096, maxTokensPerMessage * 24 + 1_024) }

    init(source: ConfigSource) throws(ConfigError) {
        enabled = try source.bool(.streamEnabled, default: true)
        maxClients = try source.int(.streamMaxClients, default: 1_000, in: 1...100_000)
        pingInterval = try source.seconds(.streamPingInterval, default: .seconds(30))
        maxTokensPerClient = try source.int(.streamMaxTokensPerClient, default: 5_000, in: 1...100_000)
        maxTokensPerMessage = try source.int(.streamMaxTokensPerMessage, default: 1_000, in: 1...100_000)
        maxQuotesPerMessage = try source.int(.streamMaxQuotesPerMessage, default: 500, in: 1...10_000)
        useInterval = try source.seconds(.streamUseInterval, default: .seconds(30))
        if pingInterval <= .zero { throw ConfigError(.invalid, key: ConfigKey.streamPingInterval.name, reason: "must be positive") }
        if useInterval <= .zero { throw ConfigError(.invalid, key: ConfigKey.streamUseInterval.name, reason: "must be positive") }
    }

    static let declaredKeys: [ConfigKey] = [
        .streamEnabled, .streamMaxClients, .streamPingInterval, .streamMaxTokensPerClient, .streamMaxTokensPerMessage,
        .streamMaxQuotesPerMessage, .streamUseInterval,
    ]
}

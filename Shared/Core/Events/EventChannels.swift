/// The Redis names the services share, all derived from `REDIS_CHANNEL_PREFIX`.
public struct EventChannels: Sendable, Hashable {
    /// The seeds' default prefix.
    public static let defaultPrefix = "ticker:nifty"

    /// The prefix, e.g. `ticker:nifty`.
    public let prefix: String

    /// Creates the names for a prefix.
    /// - Parameter prefix: `REDIS_CHANNEL_PREFIX`.
    public init(prefix: String = EventChannels.defaultPrefix) {
        self.prefix = prefix
    }

    /// Pub/sub channel for subscription events (what `redis-cli SUBSCRIBE ticker:nifty:events` watches).
    public var eventsChannel: String { "\(prefix):events" }
    /// Stream holding every subscription event durably (same name as the channel; a key and a channel do not clash).
    public var eventsStream: String { "\(prefix):events" }
    /// Stream of entries that kept failing, with the reason.
    public var eventsDeadLetterStream: String { "\(prefix):events:dead" }
    /// Stream of feed gaps (``FeedGap``): spans in which some instruments' ticks may be incomplete.
    public var feedGapsStream: String { "\(prefix):feed-gaps" }
    /// Stream of live ticks.
    public var ticksStream: String { "\(prefix):ticks" }
    /// Hash key holding the latest quote of one instrument.
    /// - Parameter instrumentToken: The instrument.
    public func latestQuoteKey(_ instrumentToken: Int64) -> String { "\(prefix):quote:\(instrumentToken)" }
}

import Foundation
import Shared
import SharedBasics

extension ConfigKey {
    /// `INSTRUMENTS_REFRESH_INTERVAL`: seconds between two downloads of the broker's instrument dump.
    static let instrumentsRefreshInterval = ConfigKey("INSTRUMENTS_REFRESH_INTERVAL")
    /// `EVENTS_STREAM_MAXLEN`: approximate cap on the events stream (`XADD ... MAXLEN ~ n`).
    static let eventsStreamMaxLength = ConfigKey("EVENTS_STREAM_MAXLEN")
    /// `OUTBOX_POLL_INTERVAL`: seconds between two outbox polls when nothing woke the relay (a safety net).
    static let outboxPollInterval = ConfigKey("OUTBOX_POLL_INTERVAL")
    /// `OUTBOX_RETENTION`: seconds a published outbox row is kept before it is deleted.
    static let outboxRetention = ConfigKey("OUTBOX_RETENTION")
    /// `FEED_GAPS_STREAM_MAXLEN`: approximate cap on the feed gaps stream (`XADD ... MAXLEN ~ n`).
    static let feedGapsStreamMaxLength = ConfigKey("FEED_GAPS_STREAM_MAXLEN")
    /// `TICKER_INSTANCE_ID`: this instance's name in the broker sessions' lease (default `host:port`).
    static let tickerInstanceID = ConfigKey("TICKER_INSTANCE_ID")
    /// `TICKER_ADVERTISE_URL`: where the other instances reach this one's HTTP API (default `http://host:port`).
    static let tickerAdvertiseURL = ConfigKey("TICKER_ADVERTISE_URL")
    /// `FEED_LEASE_SECONDS`: how long the broker sessions' lease lasts unrenewed (renewed every fifth of it).
    static let feedLeaseSeconds = ConfigKey("FEED_LEASE_SECONDS")
}

/// TickerService's settings: the shared ones plus its own.
struct TickerConfiguration: Sendable {
    static let serviceName = "ticker-service"
    static let defaultPort = 8080
    static let defaultBrokerURL = "http://127.0.0.1:8090"

    var common: CommonConfiguration
    /// Whether changing endpoints require `X-API-Key` (default on outside dev and test).
    var apiKeyEnabled: Bool
    /// The key clients must present when ``apiKeyEnabled``.
    var apiKey: String?
    /// The broker's REST base URL, without a trailing slash (the instrument dump is `GET {brokerURL}/instruments`).
    var brokerURL: String
    /// Time between two instrument dump downloads.
    var instrumentsRefreshInterval: Duration
    /// `MAXLEN ~` of the events stream.
    var eventsStreamMaxLength: Int
    /// Slow poll of the outbox relay (it is woken at once after each commit).
    var outboxPollInterval: Duration
    /// How long published outbox rows are kept.
    var outboxRetention: Duration
    /// `MAXLEN ~` of the feed gaps stream.
    var feedGapsStreamMaxLength: Int
    /// This instance's name in the broker sessions' lease: the same after a restart on the same host and port, so a
    /// lone instance takes its own lease back at once.
    var instanceID: String
    /// Where the other instances send the requests they forward to this one while it holds the lease.
    var advertisedURL: String
    /// How long the lease lasts unrenewed; a standby takes over at most this long after the owner died.
    var feedLeaseDuration: Duration

    init(source: ConfigSource) throws(ConfigError) {
        common = try CommonConfiguration(source: source, defaultPort: Self.defaultPort)
        apiKeyEnabled = common.apiKeyEnabled
        apiKey = source.raw(.apiKey)
        if apiKeyEnabled, apiKey?.isEmpty ?? true {
            throw ConfigError(.missing, key: ConfigKey.apiKey.name, reason: "is required when API_KEY_ENABLED is on")
        }
        var broker = source.string(.brokerURL, default: Self.defaultBrokerURL)
        while broker.hasSuffix("/") { broker.removeLast() }
        guard broker.hasPrefix("http://") || broker.hasPrefix("https://") else {
            throw ConfigError(.invalid, key: ConfigKey.brokerURL.name, reason: "'\(broker)' must start with http:// or https://")
        }
        brokerURL = broker
        instrumentsRefreshInterval = try source.seconds(.instrumentsRefreshInterval, default: .seconds(86_400))
        guard instrumentsRefreshInterval >= .seconds(1) else {
            throw ConfigError(.invalid, key: ConfigKey.instrumentsRefreshInterval.name, reason: "must be at least 1 second")
        }
        eventsStreamMaxLength = try source.int(.eventsStreamMaxLength, default: 100_000, in: 1_000...100_000_000)
        outboxPollInterval = try source.seconds(.outboxPollInterval, default: .seconds(5))
        guard outboxPollInterval >= .milliseconds(10) else {
            throw ConfigError(.invalid, key: ConfigKey.outboxPollInterval.name, reason: "must be at least 0.01 seconds")
        }
        outboxRetention = try source.seconds(.outboxRetention, default: .seconds(7 * 86_400))
        feedGapsStreamMaxLength = try source.int(.feedGapsStreamMaxLength, default: 100_000, in: 1_000...100_000_000)
        let wildcard = ["", "0.0.0.0", "::", "[::]"].contains(common.host)
        let reachableHost = wildcard ? ProcessInfo.processInfo.hostName : common.host
        instanceID = source.string(.tickerInstanceID, default: "\(reachableHost):\(common.port)")
        guard !instanceID.isEmpty, instanceID.count <= 200 else {
            throw ConfigError(.invalid, key: ConfigKey.tickerInstanceID.name, reason: "must be 1 to 200 characters")
        }
        var advertised = source.string(.tickerAdvertiseURL, default: "http://\(reachableHost.contains(":") ? "[\(reachableHost)]" : reachableHost):\(common.port)")
        while advertised.hasSuffix("/") { advertised.removeLast() }
        guard advertised.hasPrefix("http://") || advertised.hasPrefix("https://") else {
            throw ConfigError(.invalid, key: ConfigKey.tickerAdvertiseURL.name, reason: "'\(advertised)' must start with http:// or https://")
        }
        advertisedURL = advertised
        feedLeaseDuration = try source.seconds(.feedLeaseSeconds, default: .seconds(5))
        guard feedLeaseDuration >= .seconds(1), feedLeaseDuration <= .seconds(300) else {
            throw ConfigError(.invalid, key: ConfigKey.feedLeaseSeconds.name, reason: "must be within 1...300 seconds")
        }
    }

    /// Every key TickerService reads (this struct's and ``FeedConfiguration``'s), in the order `print-config` prints
    /// them. A key read without being listed here is caught by `ConfigurationKeysTests`.
    static let declaredKeys: [ConfigKey] = ConfigKey.commonKeys + [
        .apiKey, .brokerURL, .instrumentsRefreshInterval, .eventsStreamMaxLength, .outboxPollInterval, .outboxRetention,
        .feedGapsStreamMaxLength, .tickerInstanceID, .tickerAdvertiseURL, .feedLeaseSeconds,
    ] + FeedConfiguration.declaredKeys

    /// Reads both configurations from `source` and returns what `print-config` prints and the startup log carries.
    /// - Returns: The configurations and the `KEY=value` pairs, secrets masked.
    static func load(source: ConfigSource) throws(ConfigError) -> (ticker: TickerConfiguration, feed: FeedConfiguration, printable: [(key: String, value: String)]) {
        let ticker = try TickerConfiguration(source: source)
        let feed = try FeedConfiguration(source: source)
        return (ticker, feed, source.printableValues(declared: declaredKeys))
    }
}

import Shared
import SharedBasics

/// The broker feed's settings: the accounts and the session, tick and history tuning (docs/feed.md).
struct FeedConfiguration: Sendable {
    /// The simulator's first credentials, used in dev/test when no account is configured.
    static let simulatorCredentials = BrokerCredentials(apiKey: "sim_api_key", accessToken: "sim_access_token")
    static let defaultWebSocketURL = "ws://127.0.0.1:8090"
    static let defaultRestURL = "http://127.0.0.1:8090"

    /// Where new instruments go (`FEED_PLACEMENT`).
    enum Placement: String, Sendable, CaseIterable {
        /// The connection with the smallest share of its capacity in use, across every account of every broker.
        case leastLoaded = "least_loaded"
        /// The first account in file order with room (least loaded among its connections).
        case ordered
    }

    /// The accounts, in the order placement breaks ties.
    var accounts: [BrokerAccount]
    var placement: Placement = .leastLoaded
    /// A connection that delivers nothing at all (Kite sends a 1-byte heartbeat every second when idle) for this long is reconnected.
    var staleAfter: Duration = .seconds(10)
    /// `/health` shows a streaming connection `stale` once it has been silent this long: two of Kite's 1 s idle
    /// heartbeats, or half of ``staleAfter`` when that is shorter, so it shows before the watchdog reconnects.
    var staleReportAfter: Duration { min(.seconds(2), staleAfter / 2) }
    /// A WebSocket upgrade the broker has not completed in this long is abandoned and retried (as a failed attempt).
    var handshakeTimeout: Duration = .seconds(10)
    /// First reconnect delay; it doubles per failed attempt, with jitter.
    var reconnectBaseDelay: Duration = .milliseconds(500)
    /// Reconnect delay cap.
    var reconnectMaxDelay: Duration = .seconds(30)
    /// The backoff between reconnects: ``reconnectBaseDelay`` doubled per failed attempt up to ``reconnectMaxDelay``.
    var reconnectBackoff: Backoff { Backoff(base: reconnectBaseDelay, cap: reconnectMaxDelay) }
    /// Smallest delay after a 429 (the broker is asking us to slow down).
    var rateLimitedMinDelay: Duration = .seconds(2)
    /// After a 403 an account is not retried until its credentials change; this is how often the source is re-read.
    var forbiddenRecheckInterval: Duration = .seconds(30)
    /// Tokens per subscribe/unsubscribe/mode message.
    var requestBatchSize: Int = 500
    /// Largest WebSocket message accepted (a 3,000-instrument full frame is about 550 KB).
    var maxFrameSize: Int = 1 << 22
    /// `MAXLEN ~` of the ticks stream.
    var ticksStreamMaxLength: Int = 200_000
    /// Frames buffered between the socket readers and the Redis writer; beyond it the oldest frame is dropped.
    var ticksBufferFrames: Int = 256
    /// Historical requests per second per account (Kite: 3).
    var historyRequestsPerSecond: Int = 3
    /// How often the spread is checked for an automatic rebalance; nil: never.
    var rebalanceInterval: Duration? = .seconds(30)
    /// The spread (share of a connection's capacity) above which the check rebalances.
    var rebalanceThreshold: Double = 0.01
    /// How long a moved instrument is carried by both connections (at least one tick interval).
    var rebalanceOverlap: Duration = .seconds(1)

    /// Creates a configuration directly (tests, benchmarks).
    init(accounts: [BrokerAccount]) {
        self.accounts = accounts
    }

    /// Reads `ACCOUNTS_FILE`, or a single account from `KITE_API_KEY`/`KITE_ACCESS_TOKEN` (in dev and test the simulator's
    /// `sim_api_key` as account `primary` when neither is set), plus the tuning keys.
    init(source: ConfigSource) throws(ConfigError) {
        let webSocketURL = source.string(.brokerWebSocketURL, default: Self.defaultWebSocketURL)
        let restURL = source.string(.brokerURL, default: Self.defaultRestURL)
        if let path = source.raw(.accountsFile), !path.isEmpty {
            do {
                accounts = try AccountsFile.accounts(
                    path: path, defaultWebSocketURL: webSocketURL, defaultRestURL: restURL,
                    dhanWebSocketURL: source.string(.dhanWebSocketURL, default: Broker.dhan.defaultWebSocketURL),
                    dhanRestURL: source.string(.dhanURL, default: Broker.dhan.defaultRestURL)
                )
            } catch {
                throw ConfigError(.invalid, key: ConfigKey.accountsFile.name, reason: error.message)
            }
            guard !accounts.isEmpty else {
                throw ConfigError(.invalid, key: ConfigKey.accountsFile.name, reason: "\(path) lists no accounts")
            }
        } else {
            let credentials: BrokerCredentials
            if let apiKey = source.raw(.kiteAPIKey), !apiKey.isEmpty {
                credentials = BrokerCredentials(apiKey: apiKey, accessToken: try source.requiredString(.kiteAccessToken))
            } else if source.deployment.isLocal {
                credentials = Self.simulatorCredentials
            } else {
                throw ConfigError(.missing, key: ConfigKey.accountsFile.name, reason: "set ACCOUNTS_FILE or KITE_API_KEY and KITE_ACCESS_TOKEN")
            }
            accounts = [BrokerAccount(id: "primary", webSocketURL: webSocketURL, restURL: restURL, credentialSource: .fixed(credentials))]
        }
        staleAfter = try source.seconds(.feedStaleSeconds, default: staleAfter)
        handshakeTimeout = try source.seconds(.feedHandshakeTimeoutSeconds, default: handshakeTimeout)
        reconnectBaseDelay = try source.seconds(.feedReconnectBaseSeconds, default: reconnectBaseDelay)
        reconnectMaxDelay = try source.seconds(.feedReconnectMaxSeconds, default: reconnectMaxDelay)
        ticksStreamMaxLength = try source.int(.ticksStreamMaxLength, default: ticksStreamMaxLength, in: 1_000...100_000_000)
        ticksBufferFrames = try source.int(.ticksBufferFrames, default: ticksBufferFrames, in: 1...100_000)
        historyRequestsPerSecond = try source.int(.historyRequestsPerSecond, default: historyRequestsPerSecond, in: 1...100)
        // Off under ENVIRONMENT=test, whose tests place instruments where they assert them unless they ask.
        let interval = try source.seconds(.feedRebalanceIntervalSeconds, default: source.deployment == .test ? .zero : .seconds(30))
        rebalanceInterval = interval > .zero ? interval : nil
        rebalanceThreshold = Double(try source.int(.feedRebalanceThresholdPercent, default: 1, in: 1...100)) / 100
        rebalanceOverlap = try source.seconds(.feedRebalanceOverlapSeconds, default: rebalanceOverlap)
        let placementText = source.string(.feedPlacement, default: Placement.leastLoaded.rawValue)
        guard let placement = Placement(rawValue: placementText.lowercased()) else {
            throw ConfigError(
                .invalid, key: ConfigKey.feedPlacement.name, reason: "must be one of \(Placement.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.placement = placement
        guard staleAfter >= .milliseconds(500) else {
            throw ConfigError(.invalid, key: ConfigKey.feedStaleSeconds.name, reason: "must be at least 0.5 seconds")
        }
        guard handshakeTimeout >= .milliseconds(100) else {
            throw ConfigError(.invalid, key: ConfigKey.feedHandshakeTimeoutSeconds.name, reason: "must be at least 0.1 seconds")
        }
    }

    /// The keys this configuration reads (``TickerConfiguration/declaredKeys`` includes them).
    static let declaredKeys: [ConfigKey] = [
        .brokerWebSocketURL, .accountsFile, .kiteAPIKey, .kiteAccessToken, .feedStaleSeconds, .feedHandshakeTimeoutSeconds,
        .feedReconnectBaseSeconds, .feedReconnectMaxSeconds, .ticksStreamMaxLength, .ticksBufferFrames, .historyRequestsPerSecond, .feedPlacement,
        .dhanWebSocketURL, .dhanURL, .feedRebalanceIntervalSeconds, .feedRebalanceThresholdPercent, .feedRebalanceOverlapSeconds,
    ]

    /// For `print-config` and the startup log: account ids, limits and URLs, never a key or token.
    var accountsSummary: String {
        accounts.map { "\($0.id)(\($0.broker.rawValue) \($0.maxConnections)x\($0.instrumentsPerConnection) \(Redaction.redactURLPassword($0.webSocketURL)))" }
            .joined(separator: ",")
    }
}

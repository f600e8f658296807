import Metrics

/// Every metric the feed, the tick publisher and the history proxy report, named once (docs/feed.md lists them).
enum FeedMetrics {
    // Names.
    static let framesReceived = "ticker_feed_frames_total"
    static let heartbeats = "ticker_feed_heartbeats_total"
    static let textMessages = "ticker_feed_text_messages_total"
    static let reconnects = "ticker_feed_reconnects_total"
    static let staleReconnects = "ticker_feed_stale_reconnects_total"
    static let connectionState = "ticker_feed_connection_state"
    static let brokerRateLimited = "ticker_broker_rate_limited_total"
    static let ticksReceived = "ticker_ticks_received_total"
    static let ticksPublished = "ticker_ticks_published_total"
    static let ticksDropped = "ticker_ticks_dropped_total"
    static let decodeErrors = "ticker_tick_decode_errors_total"
    static let publishFailures = "ticker_tick_publish_failures_total"
    static let historyRequests = "ticker_history_requests_total"
    static let historyUpstreamRequests = "ticker_history_upstream_requests_total"
    static let feedGaps = "ticker_feed_gaps_total"
    static let feedGapsDroppedName = "ticker_feed_gaps_dropped_total"
    static let feedGapsPendingName = "ticker_feed_gaps_pending"
    static let rebalanceMoves = "ticker_feed_rebalance_moves_total"
    static let spreadName = "ticker_feed_spread_ratio"

    // Label values.
    enum Reason {
        static let dropped = "dropped"
        static let stale = "stale"
        static let handshakeTimeout = "handshake_timeout"
        static let rateLimited = "rate_limited"
        static let forbidden = "forbidden"
        /// Dhan 805: the client id has too many connections.
        static let tooManyConnections = "too_many_connections"
        /// Dhan 804: the connection carries more instruments than the broker allows.
        static let instrumentLimit = "instrument_limit"
        static let error = "error"
    }

    /// The numeric value of ``connectionState`` per state name.
    static func stateValue(_ state: FeedConnectionPhase) -> Double {
        switch state {
        case .idle: 0
        case .connecting: 1
        case .streaming: 2
        case .backoff: 3
        case .stalled: 4
        case .credentialsRejected: 5
        }
    }

    static func frame(account: String) { Counter(label: framesReceived, dimensions: [("account", account)]).increment() }
    static func heartbeat(account: String) { Counter(label: heartbeats, dimensions: [("account", account)]).increment() }
    static func textMessage(type: String) { Counter(label: textMessages, dimensions: [("type", type)]).increment() }
    static func reconnect(account: String, reason: String) {
        Counter(label: reconnects, dimensions: [("account", account), ("reason", reason)]).increment()
        if reason == Reason.stale { Counter(label: staleReconnects, dimensions: [("account", account)]).increment() }
        if reason == Reason.rateLimited { rateLimited(account: account, api: "websocket") }
    }
    static func rateLimited(account: String, api: String) {
        Counter(label: brokerRateLimited, dimensions: [("account", account), ("api", api)]).increment()
    }
    static func state(account: String, connection: Int, _ phase: FeedConnectionPhase) {
        Gauge(label: connectionState, dimensions: [("account", account), ("connection", String(connection))]).record(stateValue(phase))
    }
    static func ticks(received: Int) { Counter(label: ticksReceived).increment(by: received) }
    static func ticks(published: Int) { Counter(label: ticksPublished).increment(by: published) }
    static func ticks(dropped: Int, reason: String) { Counter(label: ticksDropped, dimensions: [("reason", reason)]).increment(by: dropped) }
    static func decodeError(count: Int) { Counter(label: decodeErrors).increment(by: count) }
    static func publishFailure() { Counter(label: publishFailures).increment() }
    static func history(outcome: String) { Counter(label: historyRequests, dimensions: [("outcome", outcome)]).increment() }
    static func historyUpstream(account: String, status: String, purpose: String) {
        Counter(label: historyUpstreamRequests, dimensions: [("account", account), ("status", status), ("purpose", purpose)]).increment()
    }
    /// Counts one recorded feed gap (before it is split at the instrument limit).
    static func feedGap(reason: String) { Counter(label: feedGaps, dimensions: [("reason", reason)]).increment() }
    /// Counts gaps lost because the pending queue was full.
    static func feedGapsDropped(_ count: Int) { Counter(label: feedGapsDroppedName).increment(by: count) }
    /// Gaps waiting to be written to Redis.
    static func feedGapsPending(_ count: Int) { Gauge(label: feedGapsPendingName).record(count) }
    /// Counts instruments a rebalance moved.
    static func rebalanced(_ moves: Int) { Counter(label: rebalanceMoves).increment(by: moves) }
    /// The largest difference between two connections' loads, as a share of capacity.
    static func spread(_ ratio: Double) { Gauge(label: spreadName).record(ratio) }
}

import CoreMetrics
import Metrics

/// Every metric the subscription, outbox and instrument parts of TickerService emit, named once here.
enum TickerMetrics {
    /// Metric names.
    enum Name {
        static let subscriptionsActive = "ticker_subscriptions_active"
        static let subscriptionRequests = "ticker_subscription_requests_total"
        static let outboxPending = "ticker_outbox_pending"
        static let eventsPublished = "ticker_events_published_total"
        static let relayFailures = "ticker_outbox_relay_failures_total"
        static let instrumentsCached = "ticker_instruments_cached"
        static let instrumentLoads = "ticker_instrument_loads_total"
        static let restoredSubscriptions = "ticker_subscriptions_restored_total"
        static let feedLeaseOwned = "ticker_feed_lease_owned"
        static let feedLeaseTerms = "ticker_feed_lease_terms_total"
    }

    /// Dimension keys and values.
    enum Dimension {
        static let operation = "operation"
        static let outcome = "outcome"
        static let kind = "event_type"
    }

    /// Instruments with at least one holder.
    static let subscriptionsActive = Gauge(label: Name.subscriptionsActive)
    /// Outbox rows not yet accepted by Redis.
    static let outboxPending = Gauge(label: Name.outboxPending)
    /// Outbox publish attempts that failed (Redis or PostgreSQL away).
    static let relayFailures = Counter(label: Name.relayFailures)
    /// Rows in the instrument cache.
    static let instrumentsCached = Gauge(label: Name.instrumentsCached)
    /// Subscriptions re-placed on the feed at startup.
    static let restoredSubscriptions = Counter(label: Name.restoredSubscriptions)
    /// 1 while this instance holds the broker sessions' lease, 0 while standby.
    static let feedLeaseOwned = Gauge(label: Name.feedLeaseOwned)
    /// Lease terms this instance started (it took the lease and opened the sessions).
    static let feedLeaseTerms = Counter(label: Name.feedLeaseTerms)

    /// Counts one subscribe or unsubscribe request by outcome (`created`, `updated`, `removed`, `client_error`,
    /// `capacity_exhausted`, `failed`, ...).
    /// - Parameters:
    ///   - operation: `subscribe` or `unsubscribe`.
    ///   - outcome: How it ended.
    static func request(_ operation: String, outcome: String) {
        Counter(label: Name.subscriptionRequests, dimensions: [(Dimension.operation, operation), (Dimension.outcome, outcome)]).increment()
    }

    /// Counts events Redis accepted.
    /// - Parameters:
    ///   - kind: The event type.
    ///   - count: How many.
    static func published(_ kind: String, count: Int) {
        Counter(label: Name.eventsPublished, dimensions: [(Dimension.kind, kind)]).increment(by: count)
    }

    /// Counts instrument dump loads by outcome (`ok`, `failed`).
    /// - Parameter outcome: How it ended.
    static func instrumentLoad(outcome: String) {
        Counter(label: Name.instrumentLoads, dimensions: [(Dimension.outcome, outcome)]).increment()
    }
}

/// Log metadata keys of the subscription, outbox and instrument parts.
enum TickerLogKey {
    static let token = "instrument.token"
    static let tokens = "instrument.count"
    static let holder = "subscription.holder"
    static let mode = "subscription.mode"
    static let outboxID = "outbox.id"
    static let batch = "outbox.batch"
    static let attempt = "retry.attempt"
    static let delayMS = "retry.delay_ms"
    static let error = "error"
    static let url = "broker.url"
    static let rows = "rows"
    static let durationMS = "duration_ms"
}

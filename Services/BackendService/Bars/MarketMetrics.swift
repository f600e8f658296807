import Metrics

/// Every metric of the bars pipeline and the market-data APIs, named once (docs/bars.md lists them).
enum MarketMetrics {
    static let ticksConsumed = "backend_ticks_consumed_total"
    static let ticksMalformed = "backend_ticks_malformed_total"
    static let barsWritten = "backend_tick_bars_written_total"
    static let barFlushes = "backend_tick_bar_flushes_total"
    static let barFlushFailures = "backend_tick_bar_flush_failures_total"
    static let ticksClaimed = "backend_ticks_claimed_total"
    static let ticksTrimmedUnread = "backend_tick_trims_skipped_total"
    static let strikeDistributionRequests = "backend_strike_distribution_requests_total"
    static let autoSubscribeAttempts = "backend_auto_subscribe_attempts_total"
    static let autoSubscribeFailures = "backend_auto_subscribe_failures_total"
    static let barsRequests = "backend_bars_requests_total"

    static func consumed(_ count: Int) { Counter(label: ticksConsumed).increment(by: count) }
    static func malformed(_ count: Int) { Counter(label: ticksMalformed).increment(by: count) }
    static func claimed(_ count: Int) { Counter(label: ticksClaimed).increment(by: count) }
    static func trimmedUnread() { Counter(label: ticksTrimmedUnread).increment() }
    static func written(_ count: Int) {
        Counter(label: barsWritten).increment(by: count)
        Counter(label: barFlushes).increment()
    }
    static func flushFailed() { Counter(label: barFlushFailures).increment() }
    /// - Parameter outcome: `ok`, `client_error` or `error`.
    static func strikeDistribution(outcome: String) { Counter(label: strikeDistributionRequests, dimensions: [("outcome", outcome)]).increment() }
    /// - Parameter outcome: `ok`, `client_error` or `error`.
    static func bars(outcome: String) { Counter(label: barsRequests, dimensions: [("outcome", outcome)]).increment() }
    static func autoSubscribeAttempt() { Counter(label: autoSubscribeAttempts).increment() }
    static func autoSubscribeFailure() { Counter(label: autoSubscribeFailures).increment() }
}

import Logging
import ServiceLifecycle

/// Rebalances automatically: every `FEED_REBALANCE_INTERVAL_SECONDS` it measures the spread of the connections' loads
/// (``FeedManager/spread()``, reported as `ticker_feed_spread_ratio`) and, above `FEED_REBALANCE_THRESHOLD_PERCENT`,
/// moves instruments make-before-break.
struct FeedRebalancer: Service {
    let feed: FeedManager
    let interval: Duration
    let threshold: Double
    let overlap: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                let spread = feed.spread()
                FeedMetrics.spread(spread)
                if spread > threshold {
                    logger.info("connection loads uneven; rebalancing", metadata: ["spread": "\(spread)", "threshold": "\(threshold)"])
                    if let result = await feed.rebalance(overlap: overlap) { FeedMetrics.spread(result.spreadAfter) }
                }
            }
        }
    }
}

import Logging
import ServiceLifecycle
import SharedBasics
import TickerAPIModel

/// On startup, puts every stored active subscription back on the feed at its previous placement (so nothing that
/// was not asked to change is disrupted), retrying with backoff what the feed cannot take yet; then keeps the
/// active-subscriptions gauge current until shutdown.
struct SubscriptionRestorer: Service {
    let manager: SubscriptionManager
    let logger: Logger
    var retryBaseDelay: Duration = .seconds(1)
    var retryMaxDelay: Duration = .seconds(60)
    var gaugeInterval: Duration = .seconds(15)
    /// Whether ``run()`` restores first; false where each lease term restores (``FeedOwnership``).
    var restoresAtStart = true

    func run() async throws {
        await cancelWhenGracefulShutdown {
            if restoresAtStart { await restoreAll() }
            while !Task.isCancelled {
                await manager.updateActiveGauge()
                try? await Task.sleep(for: gaugeInterval)
            }
        }
    }

    /// Restores every active subscription, retrying until all are placed or the task is cancelled.
    func restoreAll() async {
        var failures = 0
        var tokens: [Int64]?
        while !Task.isCancelled {
            if tokens == nil {
                do {
                    tokens = try await manager.list(activeOnly: true).map(\.instrumentToken)
                    logger.info("restoring stored subscriptions", metadata: [TickerLogKey.tokens: "\(tokens?.count ?? 0)"])
                } catch {
                    failures += 1
                    let delay = Backoff(base: retryBaseDelay, cap: retryMaxDelay).delay(afterFailures: failures)
                    logger.warning("cannot read stored subscriptions; retrying", metadata: [TickerLogKey.error: "\(error)", TickerLogKey.delayMS: "\(delay.wholeMilliseconds)"])
                    try? await Task.sleep(for: delay)
                    continue
                }
            }
            let pending = await manager.restore(tokens ?? [])
            if pending.isEmpty {
                if let count = tokens?.count, count > 0 { logger.info("stored subscriptions restored", metadata: [TickerLogKey.tokens: "\(count)"]) }
                return
            }
            failures += 1
            tokens = pending
            let delay = Backoff(base: retryBaseDelay, cap: retryMaxDelay).delay(afterFailures: failures)
            logger.warning(
                "some stored subscriptions are not streaming yet; retrying",
                metadata: [TickerLogKey.tokens: "\(pending.count)", TickerLogKey.attempt: "\(failures)", TickerLogKey.delayMS: "\(delay.wholeMilliseconds)"]
            )
            try? await Task.sleep(for: delay)
        }
    }
}

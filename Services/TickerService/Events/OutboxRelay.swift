import CoreMetrics
import Logging
import ServiceLifecycle
import SharedBasics

/// Publishes the outbox to Redis, in id order, at least once.
///
/// Woken by ``OutboxSignal`` right after each commit that wrote events, and polls every `pollInterval` as a safety
/// net (and to pick up rows left by a crash between commit and publish). While Redis or PostgreSQL is away it retries
/// with capped exponential backoff and jitter; rows are marked published only after Redis accepted them. It never
/// throws out of `run()`: a failing dependency must not stop the service.
struct OutboxRelay: Service {
    let outbox: any OutboxRepository
    let publisher: RedisEventPublisher
    let signal: OutboxSignal
    let logger: Logger
    var batchSize = 100
    var pollInterval: Duration = .seconds(5)
    var retryBaseDelay: Duration = .milliseconds(100)
    var retryMaxDelay: Duration = .seconds(5)
    var retention: Duration = .seconds(7 * 86_400)
    var purgeInterval: Duration = .seconds(3600)

    func run() async throws {
        // Graceful shutdown stops the loop between batches, never inside one: a batch cut off between Redis's reply and
        // the commit would stay unpublished in the outbox and be sent again by the next start, a duplicate on the stream.
        // Rows committed but not yet sent when the loop stops are published by the next start.
        await withGracefulShutdownHandler {
            var failures = 0
            var lastPurge = ContinuousClock.now - purgeInterval
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                do {
                    let (claimed, published) = try await publishBatch()
                    if failures > 0 {
                        logger.info("outbox relay recovered", metadata: [TickerLogKey.attempt: "\(failures)"])
                    }
                    failures = 0
                    // A full batch means there may be more: go on at once.
                    if claimed == batchSize, published == claimed { continue }
                    if ContinuousClock.now - lastPurge >= purgeInterval {
                        lastPurge = ContinuousClock.now
                        await purge()
                    }
                    await updatePendingGauge()
                    await signal.wait(upTo: pollInterval)
                } catch {
                    failures += 1
                    TickerMetrics.relayFailures.increment()
                    let delay = Backoff(base: retryBaseDelay, cap: retryMaxDelay).delay(afterFailures: failures)
                    // The first failure and then one in 20 are logged at warning level, so an outage does not flood the log.
                    let level: Logger.Level = failures == 1 || failures % 20 == 0 ? .warning : .debug
                    logger.log(
                        level: level, "outbox relay cannot publish; retrying",
                        metadata: [TickerLogKey.attempt: "\(failures)", TickerLogKey.delayMS: "\(delay.wholeMilliseconds)", TickerLogKey.error: "\(error)"]
                    )
                    await updatePendingGauge()
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                }
            }
        } onGracefulShutdown: {
            signal.notify()  // wakes a relay that waits for work, so it sees the shutdown at once
        }
    }

    /// Publishes one batch. Throws when nothing could be published because Redis or PostgreSQL failed.
    func publishBatch() async throws -> (claimed: Int, published: Int) {
        var handed: [OutboxEntry] = []
        var refusal: String?
        let result: (claimed: Int, published: Int)
        do {
            result = try await outbox.publishPending(limit: batchSize) { entries in
                handed = entries
                let outcome = try await publisher.publish(entries)
                refusal = outcome.failure
                return outcome.accepted
            }
        } catch {
            // Redis unreachable (or the database): the claim was rolled back; note the attempt where possible.
            try? await outbox.recordFailure(ids: handed.map(\.id), error: "\(error)")
            throw error
        }
        if result.published > 0 {
            var byType: [String: Int] = [:]
            for entry in handed.prefix(result.published) { byType[entry.eventType, default: 0] += 1 }
            for (type, count) in byType { TickerMetrics.published(type, count: count) }
            logger.debug(
                "outbox events published",
                metadata: [TickerLogKey.batch: "\(result.published)", TickerLogKey.outboxID: "\(handed[result.published - 1].id)"]
            )
        }
        if let refusal {
            let failed = handed.dropFirst(result.published).map(\.id)
            try? await outbox.recordFailure(ids: Array(failed.prefix(1)), error: refusal)
            throw RelayError(message: refusal)
        }
        return result
    }

    private func updatePendingGauge() async {
        if let pending = try? await outbox.pendingCount() { TickerMetrics.outboxPending.record(pending) }
    }

    private func purge() async {
        do {
            let deleted = try await outbox.purgePublished(olderThan: retention)
            if deleted > 0 { logger.info("published outbox rows purged", metadata: [TickerLogKey.rows: "\(deleted)"]) }
        } catch {
            logger.debug("outbox purge failed", metadata: [TickerLogKey.error: "\(error)"])
        }
    }
}

/// Redis refused an entry (as opposed to being unreachable).
struct RelayError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

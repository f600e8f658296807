import Logging
import ServiceLifecycle
import Shared
import SharedBasics
import SharedRedis

/// Writes recorded feed gaps to `{prefix}:feed-gaps` (`XADD … MAXLEN ~ n * gap <json>`, a batch per round trip), at
/// least once: a gap leaves the queue only once Redis accepted it. While Redis is away it retries with capped
/// exponential backoff and jitter; the queue keeps what it cannot send (bounded, ``FeedGapQueue``). On graceful
/// shutdown — it stops after the feed and the tick publisher, so their last gaps are queued — it tries once more.
struct FeedGapPublisher: Service {
    let recorder: FeedGapRecorder
    let redis: RedisClient
    let channels: EventChannels
    let streamMaxLength: Int
    let logger: Logger
    var batchSize = 100
    var idleWait: Duration = .seconds(5)
    var retryBaseDelay: Duration = .milliseconds(100)
    var retryMaxDelay: Duration = .seconds(5)

    func run() async throws {
        await withGracefulShutdownHandler {
            var failures = 0
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                do {
                    let published = try await publishBatch()
                    if failures > 0 {
                        logger.info("feed gaps published again", metadata: [TickerLogKey.attempt: "\(failures)"])
                    }
                    failures = 0
                    if published == batchSize { continue }
                    await recorder.waitForWork(upTo: idleWait)
                } catch {
                    failures += 1
                    let delay = Backoff(base: retryBaseDelay, cap: retryMaxDelay).delay(afterFailures: failures)
                    let level: Logger.Level = failures == 1 || failures % 20 == 0 ? .warning : .debug
                    logger.log(
                        level: level, "cannot publish feed gaps; retrying",
                        metadata: [
                            TickerLogKey.attempt: "\(failures)", TickerLogKey.delayMS: "\(delay.wholeMilliseconds)",
                            "gaps.pending": "\(recorder.pendingCount)", TickerLogKey.error: "\(error)",
                        ]
                    )
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                }
            }
        } onGracefulShutdown: {
            recorder.wake()
        }
        // Once more, for what was recorded while the other services stopped; what still fails is lost with the process.
        do {
            while try await publishBatch() > 0 {}
        } catch {
            logger.error(
                "feed gaps not published at shutdown",
                metadata: ["gaps.pending": "\(recorder.pendingCount)", TickerLogKey.error: "\(error)"]
            )
        }
    }

    /// Publishes up to ``batchSize`` of the oldest pending gaps.
    /// - Returns: How many Redis accepted.
    /// - Throws: When Redis is unreachable or refused one; the gaps not accepted are back in the queue.
    @discardableResult
    func publishBatch() async throws -> Int {
        let batch = recorder.take(batchSize)
        guard !batch.isEmpty else { return 0 }
        let commands = batch.map { gap in
            RedisClient.xaddArguments(channels.feedGapsStream, maxLength: streamMaxLength, fields: [(FeedGapCodec.entryField, FeedGapCodec.encode(gap))])
        }
        let replies: [RESPValue]
        do {
            replies = try await redis.pipeline(commands)
        } catch {
            recorder.putBack(batch)
            throw error
        }
        // An entry id is a string; an error reply (or anything else) means Redis did not take the entry.
        for (index, reply) in replies.enumerated() where reply.string == nil {
            recorder.putBack(Array(batch[index...]))
            throw RelayError(message: "XADD of feed gap \(batch[index].gapID) refused: \(reply)")
        }
        recorder.reportPending()
        logger.debug("feed gaps published", metadata: ["gaps.published": "\(batch.count)"])
        return batch.count
    }
}

import Logging
import ServiceLifecycle
import Shared
import SharedBasics
import SharedRedis

/// The pub/sub receiver on `{prefix}:events`, so that `redis-cli PUBLISH ticker:nifty:events '{...}'` (seed 001's manual
/// test) and legacy publishers work. Pub/sub is at-most-once: the stream consumer is the durable path; both end in the
/// same idempotent handler, so an event seen on both does its work once.
struct EventChannelListener: Service {
    let redis: RedisClient
    let intake: SubscriptionEventIntake
    let deadLetters: DeadLetterWriter
    let channels: EventChannels
    let logger: Logger

    func run() async throws {
        let channel = channels.eventsChannel
        var configured = logger
        configured[metadataKey: LogKey.channel] = "\(channel)"
        let logger = configured
        try await cancelWhenGracefulShutdown {
            let subscription = try await subscribe(logger: logger)
            logger.info("Subscribed to ticker service events", metadata: [LogKey.transport: "pubsub"])
            logger.info("Subscription event listener started", metadata: [LogKey.transport: "pubsub"])
            for await message in subscription {
                let payload = message.string
                if case .failed(let error) = await intake.accept(payload: payload, source: EventBackfillMetrics.Source.channel) {
                    // No redelivery on pub/sub: keep it visible (the stream copy, when there is one, is retried anyway).
                    await deadLetters.write(payload: payload, reason: "processing failed: \(error)", code: "processing_failed", source: EventBackfillMetrics.Source.channel)
                }
            }
        }
    }

    private func subscribe(logger: Logger) async throws -> RedisSubscription {
        var attempt = 0
        while true {
            do {
                return try await redis.subscribe(to: [channels.eventsChannel])
            } catch {
                attempt += 1
                logger.error("Could not subscribe to ticker service events, retrying", metadata: [LogKey.error: "\(error)", LogKey.attempt: "\(attempt)"])
                try await Task.sleep(for: EventStreamConsumer.setupBackoff.delay(afterFailures: attempt))
            }
        }
    }
}

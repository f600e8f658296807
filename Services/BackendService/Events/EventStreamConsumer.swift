import Foundation
import Logging
import ServiceLifecycle
import Shared
import SharedBasics
import SharedRedis

/// Decodes a payload and hands it to the handler; shared by the three receivers.
struct SubscriptionEventIntake: Sendable {
    let handler: SubscriptionEventHandler
    let deadLetters: DeadLetterWriter
    let logger: Logger

    enum Result: Sendable {
        case done(EventHandlingOutcome)
        /// Not a subscription event (dead-lettered already); nothing to retry.
        case malformed(SubscriptionEventError)
        /// The work could not be committed; retry later.
        case failed(any Error)
    }

    /// Decodes and handles. Malformed payloads are logged, counted and dead-lettered here.
    func accept(payload: String, source: String, originalID: String? = nil) async -> Result {
        let event: SubscriptionEvent
        do {
            event = try SubscriptionEventCodec.decode(payload)
        } catch {
            EventBackfillMetrics.received(kind: "invalid", source: source)
            EventBackfillMetrics.malformedPayload(source: source, code: error.code.description)
            logger.error("Failed to parse subscription event: \(error)", metadata: ["source": "\(source)", "original_id": "\(originalID ?? "")"])
            await deadLetters.write(payload: payload, reason: error.description, code: error.code.description, source: source, originalID: originalID)
            return .malformed(error)
        }
        do {
            return .done(try await handler.handle(event, source: source))
        } catch {
            logger.error(
                "Error handling subscription event: \(error)",
                metadata: ["source": "\(source)", "event_id": "\(event.eventID)", "instrument_token": "\(event.instrumentToken)"]
            )
            return .failed(error)
        }
    }
}

/// The durable receiver: a consumer group on the `{prefix}:events` stream.
///
/// An entry is acknowledged only after its work is committed (or it was dead-lettered). Entries another consumer left
/// pending for `EVENTS_CLAIM_MIN_IDLE_SECONDS` (it died, or its database write failed) are claimed with XAUTOCLAIM and
/// retried; one delivered more than `EVENTS_MAX_DELIVERIES` times goes to `{prefix}:events:dead` with its last error.
/// Uses its own `RedisClient`, because XREADGROUP blocks the connection.
struct EventStreamConsumer: Service {
    let redis: RedisClient
    let intake: SubscriptionEventIntake
    let deadLetters: DeadLetterWriter
    let channels: EventChannels
    let group: String
    let consumer: String
    let claimMinIdle: Duration
    let maxDeliveries: Int
    let startID: String
    let logger: Logger
    var batchSize = 64
    var block: Duration = .seconds(2)

    /// After a failed read: 400 ms doubling to 5 s (the old `200 · 2^min(n, 5)` ms, capped at 5 s).
    static let readBackoff = Backoff(base: .milliseconds(400), cap: .seconds(5))
    /// After a failed XGROUP CREATE or SUBSCRIBE: 500 ms doubling to 5 s (the old `250 · 2^min(n, 5)` ms, capped).
    static let setupBackoff = Backoff(base: .milliseconds(500), cap: .seconds(5))

    func run() async throws {
        let stream = channels.eventsStream
        var configured = logger
        configured[metadataKey: "stream"] = "\(stream)"
        configured[metadataKey: "group"] = "\(group)"
        configured[metadataKey: "consumer"] = "\(consumer)"
        let logger = configured
        try await cancelWhenGracefulShutdown {
            try await ensureGroup(logger: logger)
            logger.info("Subscribed to ticker service events: \(stream)", metadata: ["transport": "stream"])
            logger.info("Subscription event listener started", metadata: ["transport": "stream"])
            var lastErrors: [String: String] = [:]
            var lastClaim = ContinuousClock.now - claimMinIdle
            let claimEvery = max(.milliseconds(200), claimMinIdle / 2)
            var failures = 0
            while !Task.isCancelled {
                do {
                    if ContinuousClock.now - lastClaim >= claimEvery {
                        lastClaim = .now
                        try await claimStale(lastErrors: &lastErrors, logger: logger)
                    }
                    let entries = try await redis.xreadgroup(group: group, consumer: consumer, streams: [stream], count: batchSize, block: min(block, claimEvery))
                    for entry in entries {
                        await process(entry, deliveries: 1, lastErrors: &lastErrors, logger: logger)
                    }
                    failures = 0
                } catch is CancellationError {
                    break
                } catch let error as RedisError where error.serverErrorPrefix == "NOGROUP" {
                    logger.warning("Consumer group missing (stream deleted?), creating it again")
                    try await ensureGroup(logger: logger)
                } catch {
                    if Task.isCancelled { break }
                    failures += 1
                    logger.error("Error reading subscription events: \(error)")
                    try await Task.sleep(for: Self.readBackoff.delay(afterFailures: failures))
                }
            }
        }
    }

    private func ensureGroup(logger: Logger) async throws {
        var attempt = 0
        while true {
            do {
                try await redis.xgroupCreate(channels.eventsStream, group: group, startID: startID, makeStream: true)
                return
            } catch {
                attempt += 1
                logger.error("Could not create consumer group, retrying: \(error)", metadata: ["attempt": "\(attempt)"])
                try await Task.sleep(for: Self.setupBackoff.delay(afterFailures: attempt))
            }
        }
    }

    /// Takes over entries idle longer than the min-idle (including this consumer's own failed ones) and retries or
    /// dead-letters them.
    private func claimStale(lastErrors: inout [String: String], logger: Logger) async throws {
        var cursor = "0-0"
        repeat {
            let (next, entries) = try await redis.xautoclaim(
                channels.eventsStream, group: group, consumer: consumer, minIdle: claimMinIdle, start: cursor, count: batchSize
            )
            cursor = next
            guard !entries.isEmpty else { continue }
            EventBackfillMetrics.claimedEntries(entries.count)
            let pending = try await redis.xpendingDetail(channels.eventsStream, group: group, count: 1000, consumer: consumer)
            let deliveries = Dictionary(pending.map { ($0.id, $0.deliveries) }, uniquingKeysWith: { max($0, $1) })
            for entry in entries {
                let count = deliveries[entry.id] ?? 2
                logger.info("Claimed pending subscription event", metadata: ["entry_id": "\(entry.id)", "deliveries": "\(count)"])
                await process(entry, deliveries: count, lastErrors: &lastErrors, logger: logger)
            }
        } while cursor != "0-0" && !Task.isCancelled
    }

    private func process(_ entry: RedisStreamEntry, deliveries: Int, lastErrors: inout [String: String], logger: Logger) async {
        let payload = entry.fields["event"] ?? entry.fields["payload"] ?? entry.fields["data"] ?? (entry.fields.count == 1 ? entry.fields.values.first : nil)
        guard let payload else {
            await deadLetters.write(
                payload: entry.fields.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "),
                reason: "entry has no 'event' field", code: "missing_payload", source: EventBackfillMetrics.Source.stream, originalID: entry.id
            )
            await acknowledge(entry, logger: logger)
            return
        }
        if deliveries > maxDeliveries {
            let reason = "failed after \(deliveries - 1) deliveries: \(lastErrors[entry.id] ?? "consumer did not acknowledge")"
            await deadLetters.write(
                payload: payload, reason: reason, code: "max_deliveries", source: EventBackfillMetrics.Source.stream,
                originalID: entry.id, deliveries: deliveries
            )
            lastErrors[entry.id] = nil
            await acknowledge(entry, logger: logger)
            return
        }
        switch await intake.accept(payload: payload, source: EventBackfillMetrics.Source.stream, originalID: entry.id) {
        case .done, .malformed:
            lastErrors[entry.id] = nil
            await acknowledge(entry, logger: logger)
        case .failed(let error):
            // Left pending: claimed again after the min-idle, dead-lettered after too many deliveries.
            lastErrors[entry.id] = "\(error)"
        }
    }

    private func acknowledge(_ entry: RedisStreamEntry, logger: Logger) async {
        do {
            try await redis.xack(channels.eventsStream, group: group, ids: [entry.id])
        } catch {
            // Not acknowledged: it will be claimed again; processed_events makes the redelivery a no-op.
            logger.error("Could not acknowledge subscription event: \(error)", metadata: ["entry_id": "\(entry.id)"])
        }
    }
}

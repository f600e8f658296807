import Foundation
import Logging
import ServiceLifecycle
import Shared
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
            return await reject(payload: payload, error, source: source, originalID: originalID)
        }
        return await accept(event, source: source)
    }

    /// Logs, counts and dead-letters a payload that is not a subscription event.
    func reject(payload: String, _ error: SubscriptionEventError, source: String, originalID: String? = nil) async -> Result {
        EventBackfillMetrics.received(kind: "invalid", source: source)
        EventBackfillMetrics.malformedPayload(source: source, code: error.code.description)
        logger.error("Failed to parse subscription event: \(error)", metadata: ["source": "\(source)", "original_id": "\(originalID ?? "")"])
        await deadLetters.write(payload: payload, reason: error.description, code: error.code.description, source: source, originalID: originalID)
        return .malformed(error)
    }

    /// Handles an event already decoded.
    func accept(_ event: SubscriptionEvent, source: String) async -> Result {
        do {
            return .done(try await handler.handle(event, source: source))
        } catch {
            // Shutdown cancelled the work: nothing was committed, and the event is delivered again; not an error.
            if error is CancellationError || Task.isCancelled { return .failed(error) }
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

    func run() async throws {
        let stream = channels.eventsStream
        var configured = logger
        configured[metadataKey: "stream"] = "\(stream)"
        configured[metadataKey: "group"] = "\(group)"
        configured[metadataKey: "consumer"] = "\(consumer)"
        let logger = configured
        // Graceful shutdown interrupts only the blocking read and the waits: an entry in hand is committed and
        // acknowledged, and the batch it came in is finished (cancelling a commit half way would only log errors and
        // leave the entry to be claimed again after EVENTS_CLAIM_MIN_IDLE_SECONDS).
        do {
            try await cancelWhenGracefulShutdown { try await ensureGroup(logger: logger) }
            logger.info("Subscribed to ticker service events: \(stream)", metadata: ["transport": "stream"])
            logger.info("Subscription event listener started", metadata: ["transport": "stream"])
            var lastErrors: [String: String] = [:]
            var lastClaim = ContinuousClock.now - claimMinIdle
            let claimEvery = max(.milliseconds(200), claimMinIdle / 2)
            var failures = 0
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                do {
                    if ContinuousClock.now - lastClaim >= claimEvery {
                        lastClaim = .now
                        try await claimStale(lastErrors: &lastErrors, logger: logger)
                    }
                    let wait = min(block, claimEvery)
                    let entries = try await cancelWhenGracefulShutdown { [redis, group, consumer, batchSize] in
                        try await redis.xreadgroup(group: group, consumer: consumer, streams: [stream], count: batchSize, block: wait)
                    }
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
                    if Task.isCancelled || Task.isShuttingDownGracefully { break }
                    failures += 1
                    logger.error("Error reading subscription events: \(error)")
                    let delay = Duration.milliseconds(min(5000, 200 * (1 << min(failures, 5))))
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                }
            }
        } catch where Task.isCancelled || Task.isShuttingDownGracefully {
            return
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
                try await Task.sleep(for: .milliseconds(min(5000, 250 * (1 << min(attempt, 5)))))
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
            if Task.isCancelled { return }
            logger.error("Could not acknowledge subscription event: \(error)", metadata: ["entry_id": "\(entry.id)"])
        }
    }
}

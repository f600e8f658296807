import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime
import Shared
import SharedBasics
import SharedRedis

/// Decodes a payload and hands it to the handler; shared by the three receivers.
struct SubscriptionEventIntake: Sendable {
    let handler: SubscriptionEventHandler
    let deadLetters: DeadLetterWriter
    let logger: Logger
    /// One log line per (source, code) in this window; the repeats are counted and the next line says how many.
    var logThrottle = RejectionThrottle(window: .seconds(10))
    /// One dead letter per identical payload (source, code, SHA-256) in this window; the repeats are counted.
    var deadLetterThrottle = RejectionThrottle(window: .seconds(60))

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

    /// Counts, logs (rate-limited) and dead-letters (once per identical payload and window) a payload that is not a
    /// subscription event.
    func reject(payload: String, _ error: SubscriptionEventError, source: String, originalID: String? = nil) async -> Result {
        let code = error.code.description
        EventBackfillMetrics.received(kind: "invalid", source: source)
        EventBackfillMetrics.malformedPayload(source: source, code: code)
        let excerpt = DeadLetterWriter.PayloadExcerpt(payload)
        let log = logThrottle.note("\(source) \(code)")
        if log.pass {
            // A webhook caller's bad body is its mistake; on the stream or channel it is a publisher's bug.
            logger.log(
                level: source == EventBackfillMetrics.Source.webhook ? .warning : .error,
                "Failed to parse subscription event",
                metadata: [
                    LogKey.error: "\(error)", LogKey.source: "\(source)", LogKey.code: "\(code)", LogKey.originalID: "\(originalID ?? "")",
                    LogKey.payloadBytes: "\(excerpt.bytes)", LogKey.payloadSHA256: "\(excerpt.sha256)", LogKey.suppressed: "\(log.suppressedBefore)",
                ]
            )
        } else {
            EventBackfillMetrics.rejectionLogSuppressed(source: source, code: code)
        }
        if deadLetterThrottle.note("\(source) \(code) \(excerpt.sha256)").pass {
            await deadLetters.write(excerpt: excerpt, reason: error.description, code: code, source: source, originalID: originalID, logged: false)
        } else {
            EventBackfillMetrics.repeatedRejection(source: source, code: code)
        }
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
                "Error handling subscription event",
                metadata: [
                    LogKey.error: "\(error)", LogKey.source: "\(source)", LogKey.eventID: "\(event.eventID)",
                    LogKey.instrumentToken: "\(event.instrumentToken)",
                ]
            )
            return .failed(error)
        }
    }
}

/// The durable receiver: a consumer group on the `{prefix}:events` stream, run by the shared ``StreamGroupConsumer``.
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
        var logger = logger
        logger[metadataKey: LogKey.stream] = "\(stream)"
        logger[metadataKey: LogKey.group] = "\(group)"
        logger[metadataKey: LogKey.consumer] = "\(consumer)"
        let claimEvery = max(.milliseconds(200), claimMinIdle / 2)
        let consumer = StreamGroupConsumer(
            redis: redis,
            settings: .init(
                stream: stream, group: group, consumer: consumer, startID: startID, readCount: batchSize, block: min(block, claimEvery),
                claimMinIdle: claimMinIdle, claimEvery: claimEvery, maxDeliveries: maxDeliveries, failureBackoff: Self.readBackoff,
                setupBackoff: Self.setupBackoff, claimedCounter: EventBackfillMetrics.claimed,
                messages: .init(
                    failed: "Error reading subscription events", groupCreateFailed: "Could not create consumer group, retrying",
                    groupMissing: "Consumer group missing (stream deleted?), creating it again",
                    acknowledgeFailed: "Could not acknowledge subscription event", claimedEntry: "Claimed pending subscription event"
                )
            ),
            handler: SubscriptionEventEntries(intake: intake, deadLetters: deadLetters, stream: stream, logger: logger),
            logger: logger
        )
        await consumer.run()
    }
}

/// Hands each `{prefix}:events` entry's payload to the intake: committed or malformed (dead-lettered by the intake)
/// entries are done, failed ones are retried, entries without a payload are dead.
struct SubscriptionEventEntries: StreamBatchHandler {
    let intake: SubscriptionEventIntake
    let deadLetters: DeadLetterWriter
    let stream: String
    let logger: Logger

    func started() {
        logger.info("Subscribed to ticker service events", metadata: [LogKey.transport: "stream", LogKey.stream: "\(stream)"])
        logger.info("Subscription event listener started", metadata: [LogKey.transport: "stream"])
    }

    mutating func handle(_ batch: [StreamDelivery]) async throws -> StreamBatchVerdict {
        var verdict = StreamBatchVerdict()
        for delivery in batch {
            let entry = delivery.entry
            guard let payload = Self.payload(of: entry) else {
                let fields = entry.fields.keys.sorted().map { Excerpt.prefix($0, limit: 40) }.joined(separator: ", ")
                verdict.dead.append(
                    .init(delivery, reason: "entry has no 'event' field (its fields: \(Excerpt.prefix(fields, limit: 200)))", code: "missing_event_field")
                )
                continue
            }
            switch await intake.accept(payload: payload, source: EventBackfillMetrics.Source.stream, originalID: entry.id) {
            case .done, .malformed:
                verdict.succeeded.append(entry.id)
            case .failed(let error):
                // Left pending: claimed again after the min-idle, dead-lettered after too many deliveries.
                verdict.retry.append((entry.id, "\(error)"))
            }
        }
        return verdict
    }

    func deadLetter(_ dead: StreamBatchVerdict.Dead, deliveries: Int?) async {
        let entry = dead.delivery.entry
        let payload = Self.payload(of: entry) ?? entry.fields.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        await deadLetters.write(
            payload: payload, reason: dead.reason, code: dead.code, source: EventBackfillMetrics.Source.stream, originalID: entry.id,
            deliveries: deliveries
        )
    }

    /// The event JSON: the `event` field (also `payload` or `data`, as older publishers named it). Any other field
    /// is not taken for the event: an entry without one is dead-lettered as `missing_event_field`, not parsed.
    static func payload(of entry: RedisStreamEntry) -> String? {
        entry.fields["event"] ?? entry.fields["payload"] ?? entry.fields["data"]
    }
}

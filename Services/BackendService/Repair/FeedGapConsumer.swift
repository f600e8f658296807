import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime
import Shared
import SharedBasics
import SharedRedis

/// Reads TickerService's feed gaps from `{prefix}:feed-gaps` (field `gap`, ``FeedGapCodec``) in the consumer group
/// `FEED_GAPS_CONSUMER_GROUP`, and marks every minute they touch suspect (``SuspectMinuteStore/mark(gap:maxGapMinutes:delay:)``:
/// the marks and the gap id in one transaction). An entry is acknowledged only after that committed; a redelivered gap
/// marks nothing twice. An entry that is not a gap is counted and dead-lettered, bounded, to `{prefix}:feed-gaps:dead`
/// (``DeadLetterWriter``) and acknowledged; one whose marking keeps failing is dead-lettered after `maxDeliveries`.
/// Uses its own `RedisClient`, because XREADGROUP blocks the connection.
struct FeedGapConsumer: Service {
    let redis: RedisClient
    let store: SuspectMinuteStore
    let deadLetters: DeadLetterWriter
    let stream: String
    let group: String
    let consumer: String
    let maxGapMinutes: Int
    let delay: Duration
    let logger: Logger
    var claimMinIdle: Duration = .seconds(30)
    var maxDeliveries = 5

    static let backoff = Backoff(base: .milliseconds(400), cap: .seconds(5))

    /// A consumer name unique to this process: `repair-<host>-<pid>`.
    static func defaultConsumerName() -> String {
        "repair-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    func run() async throws {
        var logger = logger
        logger[metadataKey: LogKey.stream] = "\(stream)"
        logger[metadataKey: LogKey.group] = "\(group)"
        logger[metadataKey: LogKey.consumer] = "\(consumer)"
        let claimEvery = max(.milliseconds(200), claimMinIdle / 2)
        let consumer = StreamGroupConsumer(
            redis: redis,
            settings: .init(
                // A new group starts at the beginning: gaps published while BackendService was down still need repair.
                stream: stream, group: group, consumer: consumer, startID: "0", readCount: 64, block: min(.seconds(2), claimEvery),
                claimMinIdle: claimMinIdle, claimEvery: claimEvery, maxDeliveries: maxDeliveries, failureBackoff: Self.backoff,
                messages: .init(
                    failed: "Error reading feed gaps", groupCreateFailed: "Could not create feed-gap consumer group, retrying",
                    groupMissing: "Feed-gap consumer group missing (stream deleted?), creating it again",
                    acknowledgeFailed: "Could not acknowledge feed gap", claimedEntry: "Claimed pending feed gap", stopped: "Feed-gap consumer stopped"
                )
            ),
            handler: FeedGapEntries(store: store, deadLetters: deadLetters, maxGapMinutes: maxGapMinutes, delay: delay, logger: logger),
            logger: logger
        )
        await consumer.run()
    }
}

/// Marks each gap's minutes; malformed entries are dead, failed ones retried.
struct FeedGapEntries: StreamBatchHandler {
    static let source = "feed_gaps"

    let store: SuspectMinuteStore
    let deadLetters: DeadLetterWriter
    let maxGapMinutes: Int
    let delay: Duration
    let logger: Logger
    /// One log line per rejection code in this window.
    let logThrottle = RejectionThrottle(window: .seconds(10))

    func started() {
        logger.info("Feed-gap consumer started")
    }

    mutating func handle(_ batch: [StreamDelivery]) async throws -> StreamBatchVerdict {
        var verdict = StreamBatchVerdict()
        for delivery in batch {
            let entry = delivery.entry
            guard let payload = entry.fields[FeedGapCodec.entryField] else {
                RepairMetrics.feedGap(outcome: "malformed")
                let fields = entry.fields.keys.sorted().map { Excerpt.prefix($0, limit: 40) }.joined(separator: ", ")
                verdict.dead.append(.init(delivery, reason: "entry has no 'gap' field (its fields: \(Excerpt.prefix(fields, limit: 200)))", code: "missing_gap_field"))
                continue
            }
            let gap: FeedGap
            do {
                gap = try FeedGapCodec.decode(payload)
            } catch {
                RepairMetrics.feedGap(outcome: "malformed")
                let code = error.code.description
                if logThrottle.note(code).pass {
                    logger.error("Failed to parse feed gap", metadata: [LogKey.error: "\(error)", LogKey.code: "\(code)", LogKey.entryID: "\(entry.id)"])
                }
                verdict.dead.append(.init(delivery, reason: error.description, code: code))
                continue
            }
            do {
                if let marked = try await store.mark(gap: gap, maxGapMinutes: maxGapMinutes, delay: delay) {
                    RepairMetrics.feedGap(outcome: "marked")
                    RepairMetrics.marked(marked, reason: gap.reason.rawValue)
                    logger.info(
                        "Feed gap marked minutes suspect",
                        metadata: [
                            LogKey.gapID: "\(gap.gapID)", LogKey.reason: "\(gap.reason.rawValue)", LogKey.instruments: "\(gap.instrumentTokens.count)",
                            LogKey.minutes: "\(marked)",
                        ]
                    )
                } else {
                    RepairMetrics.feedGap(outcome: "duplicate")
                }
                verdict.succeeded.append(entry.id)
            } catch {
                if error is CancellationError || Task.isCancelled { return verdict }
                RepairMetrics.feedGap(outcome: "failed")
                logger.error("Could not mark feed gap minutes", metadata: [LogKey.error: "\(error)", LogKey.gapID: "\(gap.gapID)"])
                verdict.retry.append((entry.id, "\(error)"))
            }
        }
        return verdict
    }

    func deadLetter(_ dead: StreamBatchVerdict.Dead, deliveries: Int?) async {
        let entry = dead.delivery.entry
        let payload = entry.fields[FeedGapCodec.entryField] ?? entry.fields.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        await deadLetters.write(
            payload: payload, reason: dead.reason, code: dead.code, source: Self.source, originalID: entry.id, deliveries: deliveries
        )
    }
}

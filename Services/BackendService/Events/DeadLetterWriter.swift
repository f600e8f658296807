import Foundation
import Logging
import Metrics
import Shared
import SharedBasics
import SharedRedis

/// Appends entries that cannot be processed to `{prefix}:events:dead` with the reason, so the consumer goes on and an
/// operator can inspect (`XRANGE ticker:nifty:events:dead - +`) and replay them.
///
/// Bounded in bytes as well as entries: an entry keeps at most ``maxPayloadBytes`` of the payload (with
/// `payload_bytes`, its full length, and `payload_sha256`, the digest of all of it) and ``maxReasonCharacters`` of the
/// reason, so one entry's fields stay under ``maxEntryBytes``; the stream is trimmed (`MAXLEN ~`) to ``maxLength``
/// entries, so it holds at most about `maxLength × maxEntryBytes` (≈ 35 MB) of field data (docs/backfill.md).
struct DeadLetterWriter: Sendable {
    /// Bytes of a payload a dead letter keeps.
    static let maxPayloadBytes = 2_048
    /// Characters of the reason a dead letter keeps.
    static let maxReasonCharacters = 256
    /// Upper bound of one entry's field names and values in bytes: the payload and reason prefixes, the digest, and
    /// the short fields (code, source, consumer name, ids, counts, time), allowing 4 bytes per reason character.
    static let maxEntryBytes = maxPayloadBytes + 4 * maxReasonCharacters + 64 + 256 + 100

    let redis: RedisClient
    let channels: EventChannels
    let consumer: String
    let logger: Logger
    /// `MAXLEN ~` of the stream.
    static let defaultMaxLength = 10_000

    var maxLength = defaultMaxLength
    /// The dead-letter stream; nil: `{prefix}:events:dead`. The feed-gap consumer uses `{prefix}:feed-gaps:dead`.
    var deadLetterStream: String?

    /// What this writer sets aside: named in its log lines and counted in its own series.
    var kind: DeadLetterKind = .subscriptionEvent

    /// Where the entries go.
    var stream: String { deadLetterStream ?? channels.eventsDeadLetterStream }

    /// The feed-gap consumer's writer: `{prefix}:feed-gaps:dead`, logged as "Feed gap dead-lettered", counted in
    /// `backend_feed_gaps_dead_lettered_total` (not in the subscription events' series and alert).
    static func feedGaps(redis: RedisClient, channels: EventChannels, consumer: String, logger: Logger) -> DeadLetterWriter {
        var writer = DeadLetterWriter(redis: redis, channels: channels, consumer: consumer, logger: logger)
        writer.deadLetterStream = "\(channels.feedGapsStream):dead"
        writer.kind = .feedGap
        return writer
    }

    /// The part of a payload a dead letter stores, and what identifies the whole.
    struct PayloadExcerpt: Sendable, Equatable {
        /// At most ``DeadLetterWriter/maxPayloadBytes`` of it, cut on a character boundary.
        var prefix: String
        /// Whether ``prefix`` is less than the payload.
        var truncated: Bool
        /// The payload's length in UTF-8 bytes.
        var bytes: Int
        /// SHA-256 of the whole payload, hex.
        var sha256: String

        init(_ payload: String) {
            (prefix, truncated) = Excerpt.utf8Prefix(payload, maxBytes: DeadLetterWriter.maxPayloadBytes)
            bytes = payload.utf8.count
            sha256 = SHA256.hex(of: payload.utf8)
        }
    }

    /// Writes one dead letter; failures to write are logged (the caller still moves on).
    /// - Parameters:
    ///   - payload: What was received, whole (it is cut here).
    ///   - logged: Whether to log the dead letter (rejections are logged, rate-limited, by the intake instead).
    func write(
        payload: String, reason: String, code: String, source: String, originalID: String? = nil, deliveries: Int? = nil, logged: Bool = true
    ) async {
        await write(excerpt: PayloadExcerpt(payload), reason: reason, code: code, source: source, originalID: originalID, deliveries: deliveries, logged: logged)
    }

    /// Writes one dead letter of a payload already cut.
    func write(
        excerpt: PayloadExcerpt, reason: String, code: String, source: String, originalID: String? = nil, deliveries: Int? = nil, logged: Bool = true
    ) async {
        let fields = Self.fields(
            excerpt: excerpt, reason: reason, code: code, source: source, consumer: consumer, originalID: originalID, deliveries: deliveries
        )
        do {
            _ = try await redis.xadd(stream, maxLength: maxLength, fields: fields)
            Counter(label: kind.metric, dimensions: [("source", source), ("reason", code)]).increment()
            guard logged else { return }
            logger.warning(
                "\(kind.noun) dead-lettered",
                metadata: [
                    LogKey.reason: "\(Excerpt.prefix(reason, limit: Self.maxReasonCharacters))", LogKey.source: "\(source)", LogKey.code: "\(code)",
                    LogKey.stream: "\(stream)", LogKey.originalID: "\(originalID ?? "")",
                ]
            )
        } catch {
            logger.error("Could not dead-letter \(kind.noun.lowercased())", metadata: [LogKey.error: "\(error)", LogKey.source: "\(source)", LogKey.code: "\(code)"])
        }
    }

    /// The fields of one dead letter, each bounded (``maxEntryBytes`` in all).
    static func fields(
        excerpt: PayloadExcerpt, reason: String, code: String, source: String, consumer: String, originalID: String?, deliveries: Int?
    ) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("payload", excerpt.prefix), ("payload_bytes", String(excerpt.bytes)), ("payload_sha256", excerpt.sha256),
            ("payload_truncated", excerpt.truncated ? "true" : "false"),
            ("reason", Excerpt.prefix(reason, limit: maxReasonCharacters)), ("code", Excerpt.prefix(code, limit: 40)),
            ("source", Excerpt.prefix(source, limit: 20)), ("consumer", Excerpt.prefix(consumer, limit: 100)),
            ("dead_lettered_at", String(Int64(Date().timeIntervalSince1970))),
        ]
        if let originalID { fields.append(("original_id", Excerpt.prefix(originalID, limit: 40))) }
        if let deliveries { fields.append(("deliveries", String(deliveries))) }
        return fields
    }
}

/// What a ``DeadLetterWriter`` sets aside: the noun of its log lines and the counter it increments (labels `source`,
/// `reason`). Subscription events keep `backend_subscription_events_dead_lettered_total`, which `DeadLettersAppearing`
/// watches; feed gaps have `backend_feed_gaps_dead_lettered_total`, which `FeedGapDeadLettersAppearing` watches.
struct DeadLetterKind: Sendable, Equatable {
    /// "Subscription event": logged as "Subscription event dead-lettered".
    var noun: String
    /// The counter of entries written.
    var metric: String

    static let subscriptionEvent = DeadLetterKind(noun: "Subscription event", metric: EventBackfillMetrics.deadLettered)
    static let feedGap = DeadLetterKind(noun: "Feed gap", metric: RepairMetrics.feedGapsDeadLettered)
}

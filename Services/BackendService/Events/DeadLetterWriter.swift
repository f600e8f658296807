import Foundation
import Logging
import Shared
import SharedRedis

/// Appends entries that cannot be processed to `{prefix}:events:dead` with the reason, so the consumer goes on and an
/// operator can inspect (`XRANGE ticker:nifty:events:dead - +`) and replay them.
struct DeadLetterWriter: Sendable {
    let redis: RedisClient
    let channels: EventChannels
    let consumer: String
    let logger: Logger
    var maxLength = 100_000

    /// Writes one dead letter; failures to write are logged (the caller still moves on).
    func write(payload: String, reason: String, code: String, source: String, originalID: String? = nil, deliveries: Int? = nil) async {
        var fields: [(String, String)] = [
            ("payload", payload), ("reason", reason), ("code", code), ("source", source), ("consumer", consumer),
            ("dead_lettered_at", String(Int64(Date().timeIntervalSince1970))),
        ]
        if let originalID { fields.append(("original_id", originalID)) }
        if let deliveries { fields.append(("deliveries", String(deliveries))) }
        do {
            _ = try await redis.xadd(channels.eventsDeadLetterStream, maxLength: maxLength, fields: fields)
            EventBackfillMetrics.deadLetter(source: source, reason: code)
            logger.warning(
                "Subscription event dead-lettered",
                metadata: [
                    LogKey.reason: "\(reason)", LogKey.source: "\(source)", LogKey.code: "\(code)", LogKey.stream: "\(channels.eventsDeadLetterStream)",
                    LogKey.originalID: "\(originalID ?? "")",
                ]
            )
        } catch {
            logger.error("Could not dead-letter subscription event", metadata: [LogKey.error: "\(error)", LogKey.source: "\(source)", LogKey.reason: "\(reason)"])
        }
    }
}

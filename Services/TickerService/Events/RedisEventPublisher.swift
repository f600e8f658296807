import Shared
import SharedRedis

/// Publishes outbox entries to Redis: each becomes `XADD {stream} MAXLEN ~ n * event <json> event_id <id> event_type <type>`
/// plus `PUBLISH {channel} <json>`, all of a batch in one pipelined round trip.
struct RedisEventPublisher: Sendable {
    let redis: RedisClient
    let channels: EventChannels
    let streamMaxLength: Int

    /// The result of publishing a batch.
    struct Outcome: Sendable {
        /// How many entries, from the first, Redis accepted into the stream.
        var accepted: Int
        /// Why the entry after them was refused, if one was.
        var failure: String?
    }

    /// Publishes entries in order.
    /// - Parameter entries: Outbox entries in id order.
    /// - Returns: How many of the first entries Redis accepted; publishing stops at the first refusal so that the
    ///   stream keeps the outbox order.
    /// - Throws: ``RedisError`` when Redis cannot be reached (nothing is counted as accepted).
    func publish(_ entries: [OutboxEntry]) async throws -> Outcome {
        guard !entries.isEmpty else { return Outcome(accepted: 0) }
        var commands: [[String]] = []
        commands.reserveCapacity(entries.count * 2)
        for entry in entries {
            commands.append(
                RedisClient.xaddArguments(
                    channels.eventsStream, maxLength: streamMaxLength,
                    fields: [("event", entry.payload), ("event_id", entry.eventID), ("event_type", entry.eventType)]
                )
            )
            commands.append(["PUBLISH", channels.eventsChannel, entry.payload])
        }
        let replies = try await redis.pipeline(commands)
        for (index, entry) in entries.enumerated() {
            let xadd = replies.indices.contains(index * 2) ? replies[index * 2] : .null
            // The stream is the durable copy; a PUBLISH refusal alone (no subscriber is not an error) does not hold it back.
            if case .error(let message) = xadd {
                return Outcome(accepted: index, failure: "XADD of outbox row \(entry.id) refused: \(message)")
            }
            guard xadd.string != nil else {
                return Outcome(accepted: index, failure: "XADD of outbox row \(entry.id) got no entry id: \(xadd)")
            }
        }
        return Outcome(accepted: entries.count)
    }
}

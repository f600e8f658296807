import Shared
import SharedBasics
import SharedRedis

/// Publishes outbox entries to Redis: each becomes `XADD {stream} MAXLEN ~ n * event <json> event_id <id> event_type <type>`
/// plus `PUBLISH {channel} <json>`, all of a batch in one pipelined round trip.
///
/// When the master has replicas (`INFO replication`, in the same round trip), a batch counts as accepted only once
/// `WAIT 1` says a replica has it: a Sentinel failover promotes a replica, so an entry marked published is on the new
/// master too. A batch no replica confirms within ``replicaConfirmTimeout`` is not marked and is published again.
struct RedisEventPublisher: Sendable {
    let redis: RedisClient
    let channels: EventChannels
    let streamMaxLength: Int
    var replicaConfirmTimeout: Duration = .seconds(1)

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
        commands.append(["INFO", "replication"])
        let replies = try await redis.pipeline(commands)
        var outcome = Outcome(accepted: entries.count)
        for (index, entry) in entries.enumerated() {
            let xadd = replies.indices.contains(index * 2) ? replies[index * 2] : .null
            // The stream is the durable copy; a PUBLISH refusal alone (no subscriber is not an error) does not hold it back.
            if case .error(let message) = xadd {
                outcome = Outcome(accepted: index, failure: "XADD of outbox row \(entry.id) refused: \(message)")
                break
            }
            guard xadd.string != nil else {
                outcome = Outcome(accepted: index, failure: "XADD of outbox row \(entry.id) got no entry id: \(xadd)")
                break
            }
        }
        guard outcome.accepted > 0, Self.connectedReplicas(replies.last) > 0 else { return outcome }
        let confirmed = try await redis.send(["WAIT", "1", String(replicaConfirmTimeout.wholeMilliseconds)]).int ?? 0
        guard confirmed >= 1 else {
            return Outcome(accepted: 0, failure: "no replica confirmed outbox rows \(entries[0].id)…\(entries[outcome.accepted - 1].id) within \(replicaConfirmTimeout) (WAIT 1)")
        }
        return outcome
    }

    /// `connected_slaves` of an `INFO replication` reply (0 when it is missing or the reply is an error).
    static func connectedReplicas(_ info: RESPValue?) -> Int {
        guard let text = info?.string else { return 0 }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("connected_slaves:") {
            return Int(line.dropFirst("connected_slaves:".count)) ?? 0
        }
        return 0
    }
}

import Logging
import Metrics
import ServiceLifecycle
import SharedBasics
import SharedRedis

/// A consumer in a Redis stream consumer group, for any ``StreamBatchHandler``.
///
/// It creates the group (again when the stream was deleted), reads with `XREADGROUP`, takes over entries idle longer
/// than ``Settings/claimMinIdle`` with `XAUTOCLAIM` (another consumer died, or a delivery failed), dead-letters an
/// entry delivered more than ``Settings/maxDeliveries`` times, and acknowledges an entry only after the handler said
/// its work is committed. Errors are logged and retried with ``Settings/failureBackoff``.
///
/// At each claim look it also checks in (`{stream}:consumers:{group}`, a hash of consumer → alive-until) and removes dead
/// consumers from the group (``Settings/removeIdleConsumersAfter``): a consumer other than this one with no pending
/// entries that has neither read nor checked in for that long (a process that crashed or was replaced: every instance
/// names itself `hostname-pid`) is deleted with `XGROUP DELCONSUMER`, checked and deleted in one Lua script so that a
/// consumer that reads in between keeps its entries. A consumer that still has pending entries is never deleted; its
/// entries are claimed after ``Settings/claimMinIdle`` first, and it goes at a later look.
///
/// On graceful shutdown the blocking read is cancelled (the Redis client interrupts it), the batch in hand is finished,
/// ``StreamBatchHandler/finish()`` commits what the handler holds, and that is acknowledged. Give it its own
/// `RedisClient`: `XREADGROUP ... BLOCK` holds the connection.
public struct StreamGroupConsumer<Handler: StreamBatchHandler>: Sendable {
    /// Names, limits and timing.
    public struct Settings: Sendable {
        /// The stream key.
        public var stream: String
        /// The consumer group.
        public var group: String
        /// This consumer's name in the group; unique per process.
        public var consumer: String
        /// Where a newly created group starts: `$` (new entries only) or `0` (the whole stream).
        public var startID: String
        /// Entries per `XREADGROUP` and per `XAUTOCLAIM`.
        public var readCount: Int
        /// How long one `XREADGROUP` blocks; also the longest a graceful shutdown waits for a read to return.
        public var block: Duration
        /// Entries pending longer than this are claimed.
        public var claimMinIdle: Duration
        /// How often to look for entries to claim (the first look is at start).
        public var claimEvery: Duration
        /// At most this many entries are claimed in one look (nil: until the scan completes).
        public var maxClaimedPerLook: Int?
        /// An entry delivered more often than this is dead-lettered instead of handled (nil: never).
        public var maxDeliveries: Int?
        /// The wait after a failed read, claim, handler call or group creation.
        public var failureBackoff: Backoff
        /// The wait after a failed group creation; ``failureBackoff`` when nil.
        public var setupBackoff: Backoff?
        /// The counter incremented by the number of entries claimed, e.g. `backend_ticks_claimed_total` (nil: none).
        public var claimedCounter: String?
        /// Other consumers idle longer than this with no pending entries are removed from the group (nil: never).
        public var removeIdleConsumersAfter: Duration?
        /// The log lines' texts, so each consumer keeps its own.
        public var messages: Messages
        /// Whether each read first looks, atomically with it, for entries the stream trimmed before the group read them,
        /// and tells the handler (``StreamBatchHandler/trimmed(_:)``). A read that finds nothing new then blocks as usual.
        public var countsTrimmed: Bool

        /// Creates settings.
        /// - Parameters:
        ///   - stream: The stream key.
        ///   - group: The consumer group.
        ///   - consumer: This consumer's name in the group.
        ///   - startID: Where a newly created group starts.
        ///   - readCount: Entries per read and per claim.
        ///   - block: How long one read blocks.
        ///   - claimMinIdle: Entries pending longer than this are claimed.
        ///   - claimEvery: How often to look for entries to claim.
        ///   - maxClaimedPerLook: At most this many entries claimed per look.
        ///   - maxDeliveries: Deliveries after which an entry is dead-lettered.
        ///   - failureBackoff: The wait after a failure.
        ///   - setupBackoff: The wait after a failed group creation.
        ///   - claimedCounter: The counter of claimed entries.
        ///   - removeIdleConsumersAfter: Idle time after which another consumer with no pending entries is removed
        ///     from the group (default 10 minutes; nil: never).
        ///   - countsTrimmed: Whether reads look for entries trimmed before the group read them.
        ///   - messages: The log lines' texts.
        public init(
            stream: String, group: String, consumer: String, startID: String, readCount: Int, block: Duration, claimMinIdle: Duration,
            claimEvery: Duration, maxClaimedPerLook: Int? = nil, maxDeliveries: Int? = nil, failureBackoff: Backoff, setupBackoff: Backoff? = nil,
            claimedCounter: String? = nil, removeIdleConsumersAfter: Duration? = .seconds(600), countsTrimmed: Bool = false, messages: Messages
        ) {
            self.countsTrimmed = countsTrimmed
            self.stream = stream
            self.group = group
            self.consumer = consumer
            self.startID = startID
            self.readCount = readCount
            self.block = block
            self.claimMinIdle = claimMinIdle
            self.claimEvery = claimEvery
            self.maxClaimedPerLook = maxClaimedPerLook
            self.maxDeliveries = maxDeliveries
            self.failureBackoff = failureBackoff
            self.setupBackoff = setupBackoff
            self.claimedCounter = claimedCounter
            self.removeIdleConsumersAfter = removeIdleConsumersAfter
            self.messages = messages
        }
    }

    /// The constant texts of the consumer's log lines; values go in metadata (`error`, `attempt`, `entry_id`,
    /// `deliveries`, `count`).
    public struct Messages: Sendable {
        /// A read, claim or handler call failed.
        public var failed: Logger.Message
        /// Creating the group failed.
        public var groupCreateFailed: Logger.Message
        /// The group vanished (the stream was deleted) and is created again; nil: logged as ``failed``.
        public var groupMissing: Logger.Message?
        /// Acknowledging failed (the entries are acknowledged later, or claimed again).
        public var acknowledgeFailed: Logger.Message
        /// One claimed entry, logged at info with its id and delivery count; nil: not logged.
        public var claimedEntry: Logger.Message?
        /// The entries claimed in one look, logged at info with their count; nil: not logged.
        public var claimedEntries: Logger.Message?
        /// The consumer stopped; nil: not logged.
        public var stopped: Logger.Message?

        /// Creates the texts.
        /// - Parameters:
        ///   - failed: A read, claim or handler call failed.
        ///   - groupCreateFailed: Creating the group failed.
        ///   - groupMissing: The group vanished and is created again.
        ///   - acknowledgeFailed: Acknowledging failed.
        ///   - claimedEntry: One claimed entry.
        ///   - claimedEntries: The entries claimed in one look.
        ///   - stopped: The consumer stopped.
        public init(
            failed: Logger.Message, groupCreateFailed: Logger.Message, groupMissing: Logger.Message? = nil, acknowledgeFailed: Logger.Message,
            claimedEntry: Logger.Message? = nil, claimedEntries: Logger.Message? = nil, stopped: Logger.Message? = nil
        ) {
            self.failed = failed
            self.groupCreateFailed = groupCreateFailed
            self.groupMissing = groupMissing
            self.acknowledgeFailed = acknowledgeFailed
            self.claimedEntry = claimedEntry
            self.claimedEntries = claimedEntries
            self.stopped = stopped
        }
    }

    /// XACK at most this many ids per command.
    static var acknowledgeChunk: Int { 10_000 }

    let redis: RedisClient
    let settings: Settings
    let handler: Handler
    let logger: Logger

    /// Creates a consumer.
    /// - Parameters:
    ///   - redis: A client of its own (the blocking read holds the connection).
    ///   - settings: Names, limits and timing.
    ///   - handler: The work done with the entries.
    ///   - logger: Where the consumer logs.
    public init(redis: RedisClient, settings: Settings, handler: Handler, logger: Logger) {
        self.redis = redis
        self.settings = settings
        self.handler = handler
        self.logger = logger
    }

    /// What the loop carries between reads.
    private struct State {
        var handler: Handler
        /// The last error of entries left pending, for the dead letter's reason.
        var lastErrors: [String: String] = [:]
        /// Ids whose work is committed (or dead-lettered) and not yet acknowledged; kept when XACK fails.
        var unacknowledged: [String] = []
        /// Entries the handler declared dead, to dead-letter before they are acknowledged.
        var pendingDead: [StreamBatchVerdict.Dead] = []
    }

    /// Consumes until the task is cancelled or the service group shuts down gracefully.
    public func run() async {
        var state = State(handler: handler)
        var groupReady = false
        var startedAnnounced = false
        var failures = 0
        var lastClaim: ContinuousClock.Instant?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if !groupReady {
                do {
                    try await redis.xgroupCreate(settings.stream, group: settings.group, startID: settings.startID, makeStream: true)
                    groupReady = true
                } catch {
                    if Task.isCancelled { break }
                    failures += 1
                    logger.error(settings.messages.groupCreateFailed, metadata: [StreamConsumerLogKey.error: "\(error)", StreamConsumerLogKey.attempt: "\(failures)"])
                    guard await pause((settings.setupBackoff ?? settings.failureBackoff).delay(afterFailures: failures)) else { break }
                    continue
                }
                if !startedAnnounced {
                    startedAnnounced = true
                    state.handler.started()
                }
            }
            do {
                await acknowledge(&state, [])
                apply(try await state.handler.poll(), to: &state)
                await acknowledge(&state, [])
                if lastClaim.map({ ContinuousClock.now - $0 >= settings.claimEvery }) ?? true {
                    lastClaim = .now
                    try await claimIdle(&state)
                    await removeDeadConsumers()
                }
                var entries: [RedisStreamEntry] = []
                var trimLoss: StreamTrimLoss?
                if settings.countsTrimmed {
                    let read = try await redis.xreadgroupNoticingTrimmed(
                        group: settings.group, consumer: settings.consumer, stream: settings.stream, count: settings.readCount
                    )
                    if read.skippedTrimmed { trimLoss = StreamTrimLoss(afterID: read.lastDeliveredID, beforeID: read.firstEntryID) }
                    entries = read.entries
                }
                if entries.isEmpty {
                    entries = try await cancelWhenGracefulShutdown {
                        try await redis.xreadgroup(
                            group: settings.group, consumer: settings.consumer, streams: [settings.stream], count: settings.readCount, block: settings.block
                        )
                    }
                }
                if !entries.isEmpty {
                    try await deliver(entries.map { StreamDelivery(entry: $0, deliveries: 1) }, &state)
                }
                // After the entries that follow the gap were handed over, so the handler knows who was ticking.
                if let trimLoss { await state.handler.trimmed(trimLoss) }
                failures = 0
            } catch is CancellationError {
                break
            } catch let error as RedisError where error.serverErrorPrefix == "NOGROUP" {
                groupReady = false
                if let message = settings.messages.groupMissing {
                    logger.warning(message)
                    continue
                }
                failures += 1
                logger.error(settings.messages.failed, metadata: [StreamConsumerLogKey.error: "\(error)", StreamConsumerLogKey.attempt: "\(failures)"])
                guard await pause(settings.failureBackoff.delay(afterFailures: failures)) else { break }
            } catch {
                if Task.isCancelled { break }
                failures += 1
                logger.error(settings.messages.failed, metadata: [StreamConsumerLogKey.error: "\(error)", StreamConsumerLogKey.attempt: "\(failures)"])
                guard await pause(settings.failureBackoff.delay(afterFailures: failures)) else { break }
            }
        }
        // Best effort: what is not committed and acknowledged here stays pending and is claimed after the restart.
        if !Task.isCancelled {
            apply(await state.handler.finish(), to: &state)
            await acknowledge(&state, [])
        }
        if let stopped = settings.messages.stopped { logger.info(stopped) }
    }

    /// Sleeps; false when cancelled or shutting down.
    private func pause(_ delay: Duration) async -> Bool {
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            return !Task.isShuttingDownGracefully
        } catch {
            return false
        }
    }

    /// Takes over entries pending longer than the min-idle (including this consumer's own failed ones) and delivers them.
    private func claimIdle(_ state: inout State) async throws {
        var cursor = "0-0"
        var claimed = 0
        repeat {
            let (next, entries) = try await redis.xautoclaim(
                settings.stream, group: settings.group, consumer: settings.consumer, minIdle: settings.claimMinIdle, start: cursor,
                count: settings.readCount
            )
            cursor = next
            guard !entries.isEmpty else { continue }
            claimed += entries.count
            if let counter = settings.claimedCounter { Counter(label: counter).increment(by: entries.count) }
            var deliveries: [String: Int] = [:]
            if settings.maxDeliveries != nil {
                let pending = try await redis.xpendingDetail(settings.stream, group: settings.group, count: 1000, consumer: settings.consumer)
                deliveries = Dictionary(pending.map { ($0.id, $0.deliveries) }, uniquingKeysWith: { max($0, $1) })
            }
            let batch = entries.map { StreamDelivery(entry: $0, deliveries: deliveries[$0.id] ?? 2) }
            if let message = settings.messages.claimedEntry {
                for delivery in batch {
                    logger.info(message, metadata: [StreamConsumerLogKey.entryID: "\(delivery.entry.id)", StreamConsumerLogKey.deliveries: "\(delivery.deliveries)"])
                }
            }
            try await deliver(batch, &state)
        } while cursor != "0-0" && claimed < (settings.maxClaimedPerLook ?? .max) && !Task.isCancelled && !Task.isShuttingDownGracefully
        if claimed > 0, let message = settings.messages.claimedEntries {
            logger.info(message, metadata: [StreamConsumerLogKey.count: "\(claimed)"])
        }
    }

    /// The hash where the group's consumers check in: field = consumer name, value = Unix milliseconds until which it
    /// counts as alive.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - group: The consumer group.
    public static func aliveKey(stream: String, group: String) -> String { "\(stream):consumers:\(group)" }

    /// In one script (atomic in Redis): records that this consumer is alive until now + the limit, then deletes every
    /// other consumer of the group that has no pending entries, has not read for the limit (Redis's `idle`) and has not
    /// checked in for it, and forgets check-ins older than the limit. `XGROUP DELCONSUMER` drops a consumer's pending
    /// entries, so the pending count is checked inside the same script. The check-in is what tells a live consumer from
    /// a dead one: before Redis 7.2, `idle` is the time since the consumer last received entries, which grows on a quiet
    /// stream however often a live consumer reads.
    static var removeDeadConsumersScript: String {
        """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local limit = tonumber(ARGV[3])
        redis.call('HSET', KEYS[2], ARGV[2], now + limit)
        local removed = {}
        for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
            local fields = {}
            for i = 1, #consumer, 2 do fields[consumer[i]] = consumer[i + 1] end
            local name = fields['name']
            local alive = tonumber(redis.call('HGET', KEYS[2], name) or '0')
            if name ~= ARGV[2] and tonumber(fields['pending']) == 0 and tonumber(fields['idle']) >= limit and alive < now then
                redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
                redis.call('HDEL', KEYS[2], name)
                table.insert(removed, name)
            end
        end
        local checkins = redis.call('HGETALL', KEYS[2])
        for i = 1, #checkins, 2 do
            if tonumber(checkins[i + 1]) < now - limit then redis.call('HDEL', KEYS[2], checkins[i]) end
        end
        return removed
        """
    }

    /// Checks in and removes dead consumers (see the type's documentation), logging their names. A failure is logged
    /// and the next look tries again: it never holds up consuming.
    private func removeDeadConsumers() async {
        guard let limit = settings.removeIdleConsumersAfter else { return }
        let milliseconds = limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000
        let reply: RESPValue
        do {
            reply = try await redis.send([
                "EVAL", Self.removeDeadConsumersScript, "2", settings.stream, Self.aliveKey(stream: settings.stream, group: settings.group),
                settings.group, settings.consumer, String(max(1, milliseconds)),
            ])
        } catch {
            if !Task.isCancelled {
                logger.warning("could not remove dead consumers from the group", metadata: [StreamConsumerLogKey.error: "\(error)"])
            }
            return
        }
        let removed = (reply.array ?? []).compactMap(\.string)
        guard !removed.isEmpty else { return }
        Counter(label: StreamConsumerMetrics.consumersRemoved, dimensions: [("group", settings.group)]).increment(by: removed.count)
        logger.info(
            "removed dead consumers without pending entries from the group",
            metadata: [StreamConsumerLogKey.count: "\(removed.count)", StreamConsumerLogKey.consumers: "\(removed.joined(separator: ","))"]
        )
    }

    /// Dead-letters entries delivered too often, hands the rest to the handler and acknowledges what it committed.
    private func deliver(_ batch: [StreamDelivery], _ state: inout State) async throws {
        var handled = batch
        var exhausted: [String] = []
        if let maxDeliveries = settings.maxDeliveries {
            handled.removeAll { $0.deliveries > maxDeliveries }
            for delivery in batch where delivery.deliveries > maxDeliveries {
                let id = delivery.entry.id
                let reason = "failed after \(delivery.deliveries - 1) deliveries: \(state.lastErrors[id] ?? "consumer did not acknowledge")"
                await state.handler.deadLetter(.init(delivery, reason: reason, code: "max_deliveries"), deliveries: delivery.deliveries)
                state.lastErrors[id] = nil
                exhausted.append(id)
            }
        }
        await acknowledge(&state, exhausted)
        guard !handled.isEmpty else { return }
        apply(try await state.handler.handle(handled), to: &state)
        await acknowledge(&state, [])
    }

    /// Records a verdict: retries remember their error; dead entries are dead-lettered; committed and dead entries are
    /// queued for acknowledgement.
    private func apply(_ verdict: StreamBatchVerdict, to state: inout State) {
        for (id, error) in verdict.retry { state.lastErrors[id] = error }
        for id in verdict.succeeded { state.lastErrors[id] = nil }
        state.unacknowledged += verdict.succeeded
        state.pendingDead += verdict.dead
    }

    /// Dead-letters what is queued, then acknowledges the queued ids and `more`; ids that fail stay queued.
    private func acknowledge(_ state: inout State, _ more: [String]) async {
        for dead in state.pendingDead {
            await state.handler.deadLetter(dead, deliveries: nil)
            state.lastErrors[dead.delivery.entry.id] = nil
            state.unacknowledged.append(dead.delivery.entry.id)
        }
        state.pendingDead.removeAll()
        state.unacknowledged += more
        var start = 0
        while start < state.unacknowledged.count {
            let end = min(start + Self.acknowledgeChunk, state.unacknowledged.count)
            do {
                try await redis.xack(settings.stream, group: settings.group, ids: Array(state.unacknowledged[start..<end]))
            } catch {
                // Not acknowledged: tried again before the next read; if this process dies first, the entries are
                // claimed and delivered again (handlers are idempotent).
                logger.error(settings.messages.acknowledgeFailed, metadata: [StreamConsumerLogKey.error: "\(error)", StreamConsumerLogKey.count: "\(end - start)"])
                state.unacknowledged.removeSubrange(0..<start)
                return
            }
            start = end
        }
        state.unacknowledged.removeAll(keepingCapacity: true)
    }
}

/// The metadata keys of ``StreamGroupConsumer``'s log lines.
public enum StreamConsumerLogKey {
    /// The error of a failed read, claim, handler call or acknowledgement.
    public static let error = "error"
    /// How many failures in a row.
    public static let attempt = "attempt"
    /// A stream entry's id.
    public static let entryID = "entry_id"
    /// How often the group delivered an entry.
    public static let deliveries = "deliveries"
    /// How many entries.
    public static let count = "count"
    /// Names of consumers removed from the group.
    public static let consumers = "consumers"
}

/// The metric names of ``StreamGroupConsumer``.
public enum StreamConsumerMetrics {
    /// `stream_consumers_removed_total{group}`: dead consumers removed from a consumer group.
    public static let consumersRemoved = "stream_consumers_removed_total"
}

/// One entry of a Redis Stream.
public struct RedisStreamEntry: Sendable, Equatable {
    /// The stream key it was read from.
    public var stream: String
    /// The entry id, e.g. `1718000000000-0`.
    public var id: String
    /// The entry's field/value pairs (a repeated field keeps its last value).
    public var fields: [String: String]

    /// Creates an entry.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - id: The entry id.
    ///   - fields: Field/value pairs.
    public init(stream: String, id: String, fields: [String: String]) {
        self.stream = stream
        self.id = id
        self.fields = fields
    }
}

/// The summary form of `XPENDING key group`.
public struct RedisPendingSummary: Sendable, Equatable {
    /// Number of entries delivered to a consumer of the group and not yet acknowledged.
    public var count: Int
    /// Smallest pending id, nil when nothing is pending.
    public var smallestID: String?
    /// Largest pending id, nil when nothing is pending.
    public var largestID: String?
    /// Pending entries per consumer name.
    public var consumers: [String: Int]

    /// Creates a summary.
    /// - Parameters:
    ///   - count: Pending entry count.
    ///   - smallestID: Smallest pending id.
    ///   - largestID: Largest pending id.
    ///   - consumers: Pending entries per consumer.
    public init(count: Int, smallestID: String?, largestID: String?, consumers: [String: Int]) {
        self.count = count
        self.smallestID = smallestID
        self.largestID = largestID
        self.consumers = consumers
    }
}

/// One row of the extended form of `XPENDING`.
public struct RedisPendingEntry: Sendable, Equatable {
    /// The entry id.
    public var id: String
    /// The consumer that holds it.
    public var consumer: String
    /// Time since it was last delivered.
    public var idle: Duration
    /// How many times it has been delivered.
    public var deliveries: Int

    /// Creates a row.
    /// - Parameters:
    ///   - id: The entry id.
    ///   - consumer: The consumer holding it.
    ///   - idle: Time since last delivery.
    ///   - deliveries: Delivery count.
    public init(id: String, consumer: String, idle: Duration, deliveries: Int) {
        self.id = id
        self.consumer = consumer
        self.idle = idle
        self.deliveries = deliveries
    }
}

extension RedisClient {
    /// Appends an entry to a stream: `XADD stream [MAXLEN ~ n] * field value ...`.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - maxLength: Approximate cap on the stream length (`MAXLEN ~`), nil for none.
    ///   - fields: Field/value pairs, in order (at least one).
    /// - Returns: The id Redis assigned.
    /// - Throws: ``RedisError``.
    public func xadd(_ stream: String, maxLength: Int?, fields: [(String, String)]) async throws -> String {
        let reply = try await send(Self.xaddArguments(stream, maxLength: maxLength, fields: fields))
        guard let id = reply.string else { throw unexpected(reply, "XADD") }
        return id
    }

    /// The argument list of ``xadd(_:maxLength:fields:)``, for use in ``pipeline(_:)``.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - maxLength: Approximate cap on the stream length, nil for none.
    ///   - fields: Field/value pairs.
    /// - Returns: `["XADD", stream, "MAXLEN", "~", n, "*", field, value, ...]`.
    public static func xaddArguments(_ stream: String, maxLength: Int?, fields: [(String, String)]) -> [String] {
        var arguments = ["XADD", stream]
        arguments.reserveCapacity(6 + fields.count * 2)
        if let maxLength { arguments += ["MAXLEN", "~", String(maxLength)] }
        arguments.append("*")
        for (field, value) in fields {
            arguments.append(field)
            arguments.append(value)
        }
        return arguments
    }

    /// Creates a consumer group: `XGROUP CREATE stream group startID [MKSTREAM]`. An existing group is not an error.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - group: The group name.
    ///   - startID: The last-delivered id for the new group: `$` (only new entries) or `0` (everything).
    ///   - makeStream: Create the stream if it does not exist.
    /// - Throws: ``RedisError`` (but not for `BUSYGROUP`).
    public func xgroupCreate(_ stream: String, group: String, startID: String = "$", makeStream: Bool = true) async throws {
        var arguments = ["XGROUP", "CREATE", stream, group, startID]
        if makeStream { arguments.append("MKSTREAM") }
        do {
            try await send(arguments)
        } catch let error as RedisError where error.serverErrorPrefix == "BUSYGROUP" {
            return
        }
    }

    /// Reads new entries for a consumer: `XREADGROUP GROUP g c COUNT n [BLOCK ms] STREAMS s... > ...`.
    ///
    /// While blocked, the socket read timeout is raised to `block` plus the command timeout. A blocked call holds this
    /// client's connection, so use a dedicated `RedisClient` for blocking reads; ``close()`` or cancelling the task
    /// ends the call at once.
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - consumer: This consumer's name (created on first use).
    ///   - streams: Stream keys to read.
    ///   - count: Maximum entries per stream.
    ///   - block: How long to wait for entries when none are available; nil returns at once; `.zero` waits forever.
    /// - Returns: The entries, stream by stream; empty when the block time passed without any.
    /// - Throws: ``RedisError`` (e.g. `NOGROUP` as code ``RedisError/Code/server``), or `CancellationError`.
    public func xreadgroup(group: String, consumer: String, streams: [String], count: Int, block: Duration?) async throws -> [RedisStreamEntry] {
        var arguments = ["XREADGROUP", "GROUP", group, consumer, "COUNT", String(count)]
        var timeout: Duration?
        if let block {
            arguments += ["BLOCK", String(block.milliseconds)]
            timeout = block == .zero ? .zero : block + configuration.commandTimeout
        }
        arguments.append("STREAMS")
        arguments += streams
        arguments += Array(repeating: ">", count: streams.count)
        return try readEntries(try await send(argv: Argv(arguments), timeout: timeout))
    }

    /// What ``xreadgroupNoticingTrimmed(group:consumer:stream:count:)`` read.
    public struct GroupReadAfterTrim: Sendable, Equatable {
        /// The entries, oldest first; empty when there was nothing new.
        public var entries: [RedisStreamEntry]
        /// Whether the stream had trimmed (`MAXLEN`) entries the group had not read yet, just before this read: its
        /// first entry came after the group's last delivered id while entries were missing from the group's count.
        /// This read is the one that skips them.
        public var skippedTrimmed: Bool
        /// The group's last delivered id before this read: the trimmed entries came after it.
        public var lastDeliveredID: String?
        /// The stream's first entry before this read: the trimmed entries came before it.
        public var firstEntryID: String?
    }

    /// Reads new entries at once (no blocking) together with the stream's and the group's counters at that instant, in
    /// one `MULTI`/`EXEC`, so that no other read can come between. The group skips trimmed entries when the stream's
    /// first entry comes after the group's last delivered id and the stream dropped more entries from its head
    /// (`entries-added` − `length`) than the group has read (`entries-read`). Redis counts `entries-read` up by one
    /// per delivered entry even across such a gap, so how many were skipped is not known, only between which ids.
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - consumer: This consumer's name.
    ///   - stream: The stream key (it must exist).
    ///   - count: Maximum entries.
    /// - Returns: The entries and whether this read skipped trimmed ones.
    /// - Throws: ``RedisError`` (e.g. `NOGROUP` as code ``RedisError/Code/server``).
    public func xreadgroupNoticingTrimmed(group: String, consumer: String, stream: String, count: Int) async throws -> GroupReadAfterTrim {
        let replies = try await pipeline([
            ["MULTI"], ["XINFO", "STREAM", stream], ["XINFO", "GROUPS", stream],
            ["XREADGROUP", "GROUP", group, consumer, "COUNT", String(count), "STREAMS", stream, ">"], ["EXEC"],
        ])
        guard let executed = replies.last else { throw RedisError(.protocolError, message: "redis at \(configuration.address): no EXEC reply") }
        if case .error(let message) = executed { throw RedisError(.server, message: message) }
        guard let results = executed.array, results.count == 3 else { throw unexpected(executed, "EXEC") }
        if case .error(let message) = results[2] { throw RedisError(.server, message: message) }
        let entries = try readEntries(results[2])
        let stream = try? streamInfo(results[0])
        let groupInfo = (try? groupInfos(results[1]))?.first { $0.name == group }
        var skipped = false
        if let added = stream?.entriesAdded, let length = stream?.length, let read = groupInfo?.entriesRead,
           let first = stream?.firstEntryID.flatMap(Self.idParts), let last = groupInfo?.lastDeliveredID.flatMap(Self.idParts) {
            skipped = added - length > read && (last.0, last.1) < (first.0, first.1)
        }
        return GroupReadAfterTrim(entries: entries, skippedTrimmed: skipped, lastDeliveredID: groupInfo?.lastDeliveredID, firstEntryID: stream?.firstEntryID)
    }

    /// `ms-seq` as numbers.
    static func idParts(_ id: String) -> (UInt64, UInt64)? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let millis = UInt64(parts[0]), let sequence = UInt64(parts[1]) else { return nil }
        return (millis, sequence)
    }

    /// The entries of an `XREADGROUP` reply, stream by stream.
    private func readEntries(_ reply: RESPValue) throws -> [RedisStreamEntry] {
        if reply.isNull { return [] }
        guard let perStream = reply.array else { throw unexpected(reply, "XREADGROUP") }
        var entries: [RedisStreamEntry] = []
        for item in perStream {
            guard let pair = item.array, pair.count == 2, let stream = pair[0].string, let list = pair[1].array else {
                throw unexpected(reply, "XREADGROUP")
            }
            for raw in list {
                guard let entry = Self.entry(raw, stream: stream) else { throw unexpected(reply, "XREADGROUP") }
                entries.append(entry)
            }
        }
        return entries
    }

    /// Acknowledges entries: `XACK stream group id...`.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - group: The consumer group.
    ///   - ids: Entry ids to acknowledge.
    /// - Returns: How many were pending and are now acknowledged.
    /// - Throws: ``RedisError``.
    @discardableResult
    public func xack(_ stream: String, group: String, ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try integer(await send(["XACK", stream, group] + ids), "XACK")
    }

    /// Summary of a group's pending entries: `XPENDING stream group`.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - group: The consumer group.
    /// - Returns: Count, smallest and largest id, and per-consumer counts.
    /// - Throws: ``RedisError``.
    public func xpending(_ stream: String, group: String) async throws -> RedisPendingSummary {
        let reply = try await send(["XPENDING", stream, group])
        guard let parts = reply.array, parts.count == 4, let count = parts[0].int else { throw unexpected(reply, "XPENDING") }
        var consumers: [String: Int] = [:]
        for item in parts[3].array ?? [] {
            guard let pair = item.array, pair.count == 2, let name = pair[0].string, let pending = pair[1].int else {
                throw unexpected(reply, "XPENDING")
            }
            consumers[name] = Int(pending)
        }
        return RedisPendingSummary(count: Int(count), smallestID: parts[1].string, largestID: parts[2].string, consumers: consumers)
    }

    /// Pending entries in detail: `XPENDING stream group [IDLE ms] - + count [consumer]`.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - group: The consumer group.
    ///   - count: Maximum rows.
    ///   - consumer: Only entries held by this consumer, or all when nil.
    ///   - minIdle: Only entries idle at least this long, or all when nil.
    /// - Returns: Rows in id order.
    /// - Throws: ``RedisError``.
    public func xpendingDetail(
        _ stream: String,
        group: String,
        count: Int,
        consumer: String? = nil,
        minIdle: Duration? = nil
    ) async throws -> [RedisPendingEntry] {
        var arguments = ["XPENDING", stream, group]
        if let minIdle { arguments += ["IDLE", String(minIdle.milliseconds)] }
        arguments += ["-", "+", String(count)]
        if let consumer { arguments.append(consumer) }
        let reply = try await send(arguments)
        guard let rows = reply.array else { throw unexpected(reply, "XPENDING") }
        return try rows.map { row in
            guard let fields = row.array, fields.count == 4, let id = fields[0].string, let owner = fields[1].string,
                let idle = fields[2].int, let deliveries = fields[3].int
            else { throw unexpected(reply, "XPENDING") }
            return RedisPendingEntry(id: id, consumer: owner, idle: .milliseconds(idle), deliveries: Int(deliveries))
        }
    }

    /// Takes over entries that other consumers left pending: `XAUTOCLAIM stream group consumer min-idle start COUNT n`.
    /// - Parameters:
    ///   - stream: The stream key.
    ///   - group: The consumer group.
    ///   - consumer: The consumer that takes the entries.
    ///   - minIdle: Only entries idle at least this long.
    ///   - start: Scan cursor; `0-0` to start, then the returned `next`.
    ///   - count: Maximum entries to claim.
    /// - Returns: The cursor for the next call (`0-0` when the scan is complete) and the claimed entries
    ///   (entries deleted from the stream meanwhile are left out).
    /// - Throws: ``RedisError``.
    public func xautoclaim(
        _ stream: String,
        group: String,
        consumer: String,
        minIdle: Duration,
        start: String = "0-0",
        count: Int
    ) async throws -> (next: String, entries: [RedisStreamEntry]) {
        let reply = try await send(["XAUTOCLAIM", stream, group, consumer, String(minIdle.milliseconds), start, "COUNT", String(count)])
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string, let list = parts[1].array else {
            throw unexpected(reply, "XAUTOCLAIM")
        }
        var entries: [RedisStreamEntry] = []
        for raw in list where !raw.isNull {
            if let pair = raw.array, pair.count == 2, pair[1].isNull { continue }  // deleted entry (Redis 6.2)
            guard let entry = Self.entry(raw, stream: stream) else { throw unexpected(reply, "XAUTOCLAIM") }
            entries.append(entry)
        }
        return (next, entries)
    }

    /// Parses `[id, [field, value, ...]]`; a null field list (deleted entry) gives no fields.
    static func entry(_ raw: RESPValue, stream: String) -> RedisStreamEntry? {
        guard let pair = raw.array, pair.count == 2, let id = pair[0].string else { return nil }
        var fields: [String: String] = [:]
        if let list = pair[1].array {
            var index = 0
            while index + 1 < list.count {
                guard let field = list[index].string, let value = list[index + 1].string else { return nil }
                fields[field] = value
                index += 2
            }
        }
        return RedisStreamEntry(stream: stream, id: id, fields: fields)
    }
}

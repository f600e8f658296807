/// One consumer group of a stream, as `XINFO GROUPS` reports it.
public struct RedisStreamGroupInfo: Sendable, Equatable {
    /// The group's name.
    public var name: String
    /// Consumers the group knows.
    public var consumers: Int
    /// Entries delivered to a consumer and not yet acknowledged.
    public var pending: Int
    /// Entries added to the stream and not yet delivered to the group; nil when Redis cannot tell (older than 7.0, or
    /// entries were deleted from the stream since the group read them).
    public var lag: Int?
    /// The logical position of the last entry delivered to the group (Redis 7.0; nil when Redis cannot tell).
    public var entriesRead: Int?
    /// The id of the last entry delivered to the group.
    public var lastDeliveredID: String?

    /// Creates the information.
    /// - Parameters:
    ///   - name: The group's name.
    ///   - consumers: Consumer count.
    ///   - pending: Pending entry count.
    ///   - lag: Undelivered entry count, when known.
    ///   - entriesRead: The group's read counter, when known.
    ///   - lastDeliveredID: The last delivered id.
    public init(name: String, consumers: Int, pending: Int, lag: Int?, entriesRead: Int? = nil, lastDeliveredID: String? = nil) {
        self.name = name
        self.consumers = consumers
        self.pending = pending
        self.lag = lag
        self.entriesRead = entriesRead
        self.lastDeliveredID = lastDeliveredID
    }
}

/// A stream's counters, as `XINFO STREAM` reports them.
public struct RedisStreamInfo: Sendable, Equatable {
    /// Entries in the stream now (after trimming).
    public var length: Int
    /// Entries ever added to the stream (Redis 7.0 and later; nil before).
    public var entriesAdded: Int?
    /// The id of the stream's first entry (nil when it is empty).
    public var firstEntryID: String?

    /// Creates the information.
    /// - Parameters:
    ///   - length: Entries in the stream now.
    ///   - entriesAdded: Entries ever added, when Redis reports it.
    ///   - firstEntryID: The first entry's id.
    public init(length: Int, entriesAdded: Int?, firstEntryID: String? = nil) {
        self.length = length
        self.entriesAdded = entriesAdded
        self.firstEntryID = firstEntryID
    }
}

extension RedisClient {
    /// A stream's counters: `XINFO STREAM stream`.
    /// - Parameter stream: The stream key.
    /// - Returns: Its length and, on Redis 7, how many entries were ever added.
    /// - Throws: ``RedisError`` (Redis answers an error when the stream does not exist).
    public func xinfoStream(_ stream: String) async throws -> RedisStreamInfo {
        try streamInfo(try await send(["XINFO", "STREAM", stream]))
    }

    /// An `XINFO STREAM` reply.
    func streamInfo(_ reply: RESPValue) throws -> RedisStreamInfo {
        let values = try fieldMap(reply, "XINFO STREAM")
        guard let length = values["length"]?.int else { throw unexpected(reply, "XINFO STREAM") }
        return RedisStreamInfo(
            length: Int(length), entriesAdded: values["entries-added"]?.int.map(Int.init), firstEntryID: values["first-entry"]?.array?.first?.string
        )
    }

    /// The consumer groups of a stream: `XINFO GROUPS stream`.
    /// - Parameter stream: The stream key.
    /// - Returns: Every group, in Redis's order; empty when the stream has none.
    /// - Throws: ``RedisError`` (Redis answers an error when the stream does not exist).
    public func xinfoGroups(_ stream: String) async throws -> [RedisStreamGroupInfo] {
        try groupInfos(try await send(["XINFO", "GROUPS", stream]))
    }

    /// An `XINFO GROUPS` reply.
    func groupInfos(_ reply: RESPValue) throws -> [RedisStreamGroupInfo] {
        guard let groups = reply.array else { throw unexpected(reply, "XINFO GROUPS") }
        return try groups.map { group in
            let values = try fieldMap(group, "XINFO GROUPS")
            guard let name = values["name"]?.string, let consumers = values["consumers"]?.int, let pending = values["pending"]?.int else {
                throw unexpected(reply, "XINFO GROUPS")
            }
            return RedisStreamGroupInfo(
                name: name, consumers: Int(consumers), pending: Int(pending), lag: values["lag"]?.int.map(Int.init),
                entriesRead: values["entries-read"]?.int.map(Int.init), lastDeliveredID: values["last-delivered-id"]?.string
            )
        }
    }

    /// RESP2's flat `name, value, name, value, ...` list as a dictionary.
    private func fieldMap(_ reply: RESPValue, _ command: String) throws -> [String: RESPValue] {
        guard let fields = reply.array, fields.count.isMultiple(of: 2) else { throw unexpected(reply, command) }
        var values: [String: RESPValue] = [:]
        for index in stride(from: 0, to: fields.count, by: 2) {
            if let key = fields[index].string { values[key] = fields[index + 1] }
        }
        return values
    }
}

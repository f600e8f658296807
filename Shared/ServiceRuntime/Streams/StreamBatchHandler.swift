import SharedRedis

/// One entry handed to a ``StreamBatchHandler``, with how often the group delivered it.
public struct StreamDelivery: Sendable, Equatable {
    /// The entry.
    public var entry: RedisStreamEntry
    /// 1 for a new entry; for a claimed one the group's delivery count (this delivery included).
    public var deliveries: Int

    /// Creates a delivery.
    /// - Parameters:
    ///   - entry: The entry.
    ///   - deliveries: How often the group delivered it, this delivery included.
    public init(entry: RedisStreamEntry, deliveries: Int) {
        self.entry = entry
        self.deliveries = deliveries
    }
}

/// What a handler did with entries: which to acknowledge, which to leave pending, which to dead-letter. Entries it
/// names nowhere are held: the handler names them in a later verdict (the tick consumer acknowledges what it folded
/// only after the bars are written).
public struct StreamBatchVerdict: Sendable, Equatable {
    /// An entry that can never succeed.
    public struct Dead: Sendable, Equatable {
        /// The entry.
        public var delivery: StreamDelivery
        /// Why, in words (stored with the dead letter).
        public var reason: String
        /// A stable code for the reason, e.g. `missing_payload`.
        public var code: String

        /// Creates a dead entry.
        /// - Parameters:
        ///   - delivery: The entry.
        ///   - reason: Why it can never succeed.
        ///   - code: A stable code for the reason.
        public init(_ delivery: StreamDelivery, reason: String, code: String) {
            self.delivery = delivery
            self.reason = reason
            self.code = code
        }
    }

    /// Entries whose work is committed: acknowledged now.
    public var succeeded: [String]
    /// Entries whose work failed, with the error: left pending, so they are claimed and delivered again after the
    /// claim min-idle, and dead-lettered after too many deliveries with the last error as the reason.
    public var retry: [(id: String, error: String)]
    /// Entries to dead-letter and then acknowledge.
    public var dead: [Dead]

    /// Creates a verdict.
    /// - Parameters:
    ///   - succeeded: Ids whose work is committed.
    ///   - retry: Ids whose work failed, with the error.
    ///   - dead: Entries to dead-letter.
    public init(succeeded: [String] = [], retry: [(id: String, error: String)] = [], dead: [Dead] = []) {
        self.succeeded = succeeded
        self.retry = retry
        self.dead = dead
    }

    /// Nothing to acknowledge, retry or dead-letter.
    public static let none = StreamBatchVerdict()

    /// Compares two verdicts.
    /// - Parameters:
    ///   - lhs: A verdict.
    ///   - rhs: Another verdict.
    public static func == (lhs: StreamBatchVerdict, rhs: StreamBatchVerdict) -> Bool {
        lhs.succeeded == rhs.succeeded && lhs.dead == rhs.dead
            && lhs.retry.map(\.id) == rhs.retry.map(\.id) && lhs.retry.map(\.error) == rhs.retry.map(\.error)
    }
}

/// The work a ``StreamGroupConsumer`` does with the entries it reads or claims. The consumer owns the group
/// (XREADGROUP, XAUTOCLAIM, XACK), delivery counting and backoff; the handler only says what became of each entry.
public protocol StreamBatchHandler: Sendable {
    /// Handles entries just read or claimed, in stream order.
    /// - Parameters:
    ///   - batch: The entries.
    /// - Returns: What became of them; entries not named are held for a later verdict.
    /// - Throws: When nothing of the batch could be done (the consumer logs, backs off and goes on; the entries stay
    ///   pending and are claimed again).
    mutating func handle(_ batch: [StreamDelivery]) async throws -> StreamBatchVerdict

    /// Called before every read: commits held work that is due (e.g. a timed flush).
    /// - Returns: What became of held entries.
    mutating func poll() async throws -> StreamBatchVerdict

    /// Called once when the consumer stops on graceful shutdown (not on cancellation): commits what is held.
    /// - Returns: What became of held entries; those not named stay pending and are claimed after a restart.
    mutating func finish() async -> StreamBatchVerdict

    /// Writes an entry to the dead-letter stream; the consumer acknowledges it afterwards.
    /// - Parameters:
    ///   - dead: The entry, the reason and its code.
    ///   - deliveries: The delivery count when it is dead-lettered for too many deliveries, else nil.
    func deadLetter(_ dead: StreamBatchVerdict.Dead, deliveries: Int?) async

    /// Called once the consumer group exists, before the first read.
    func started()

    /// Called when a read found that the stream trimmed entries before the group read them (only with
    /// ``StreamGroupConsumer/Settings/countsTrimmed``): they are gone, and this read is the one that skips them.
    mutating func trimmed(_ loss: StreamTrimLoss) async
}

/// Entries a stream trimmed (`MAXLEN`) before its consumer group read them: lost to the group. Redis does not say how
/// many, only between which ids.
public struct StreamTrimLoss: Sendable, Equatable {
    /// The group's last delivered id before them (nil when Redis did not say): they came after it.
    public var afterID: String?
    /// The stream's first entry after the trim (nil when Redis did not say): they came before it.
    public var beforeID: String?

    /// Creates a loss.
    /// - Parameters:
    ///   - afterID: The last delivered id before them.
    ///   - beforeID: The first id still in the stream after them.
    public init(afterID: String?, beforeID: String?) {
        self.afterID = afterID
        self.beforeID = beforeID
    }
}

extension StreamBatchHandler {
    /// Nothing held: nothing to do.
    public mutating func poll() async throws -> StreamBatchVerdict { .none }

    /// Nothing held: nothing to do.
    public mutating func finish() async -> StreamBatchVerdict { .none }

    /// No dead-letter stream: the entry is only acknowledged.
    /// - Parameters:
    ///   - dead: The entry.
    ///   - deliveries: The delivery count, if any.
    public func deadLetter(_ dead: StreamBatchVerdict.Dead, deliveries: Int?) async {}

    /// Nothing to do about trimmed entries.
    /// - Parameter loss: The entries lost.
    public mutating func trimmed(_ loss: StreamTrimLoss) async {}

    /// Nothing to announce.
    public func started() {}
}

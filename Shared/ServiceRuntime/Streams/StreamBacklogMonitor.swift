import Logging
import Metrics
import ServiceLifecycle
import SharedRedis

/// Exports how far behind the consumer groups a service reads with are, every ``interval``, from `XINFO GROUPS`:
/// `stream_group_lag{stream,group}` (entries not yet delivered to the group), `stream_group_pending{stream,group}`
/// (delivered, not yet acknowledged) and `stream_group_consumers{stream,group}`. The alerts on a backlog that keeps
/// growing read them (docs/operations.md, "StreamBacklogGrowing").
public struct StreamBacklogMonitor: Service {
    /// A group to watch.
    public struct Watched: Sendable, Equatable {
        /// The stream key.
        public var stream: String
        /// The consumer group.
        public var group: String

        /// Creates the pair.
        /// - Parameters:
        ///   - stream: The stream key.
        ///   - group: The consumer group.
        public init(stream: String, group: String) {
            self.stream = stream
            self.group = group
        }
    }

    /// One group's backlog at one moment.
    public struct Backlog: Sendable, Equatable {
        /// Which group.
        public var watched: Watched
        /// Entries not yet delivered to the group (nil: Redis cannot tell).
        public var lag: Int?
        /// Entries delivered and not yet acknowledged.
        public var pending: Int
        /// Consumers in the group.
        public var consumers: Int

        /// Creates a backlog.
        /// - Parameters:
        ///   - watched: Which group.
        ///   - lag: Undelivered entries, when known.
        ///   - pending: Delivered, unacknowledged entries.
        ///   - consumers: Consumer count.
        public init(watched: Watched, lag: Int?, pending: Int, consumers: Int) {
            self.watched = watched
            self.lag = lag
            self.pending = pending
            self.consumers = consumers
        }
    }

    /// The gauges' names.
    public enum Metric {
        /// `stream_group_lag`.
        public static let lag = "stream_group_lag"
        /// `stream_group_pending`.
        public static let pending = "stream_group_pending"
        /// `stream_group_consumers`.
        public static let consumers = "stream_group_consumers"
    }

    let redis: RedisClient
    let groups: [Watched]
    let interval: Duration
    let logger: Logger

    /// Creates the monitor.
    /// - Parameters:
    ///   - redis: A client for the `XINFO` calls (a shared, non-blocking one is fine).
    ///   - groups: The stream/group pairs this service consumes.
    ///   - interval: Time between two samples.
    ///   - logger: Where a failed sample is logged (at debug: `dependency_up` already says Redis is away).
    public init(redis: RedisClient, groups: [Watched], interval: Duration = .seconds(5), logger: Logger) {
        self.redis = redis
        self.groups = groups
        self.interval = interval
        self.logger = logger
    }

    /// Reads every watched group's backlog now. A stream or group that does not exist yet is left out.
    /// - Returns: The backlogs found.
    public func sample() async -> [Backlog] {
        var result: [Backlog] = []
        for stream in Set(groups.map(\.stream)).sorted() {
            let infos: [RedisStreamGroupInfo]
            do {
                infos = try await redis.xinfoGroups(stream)
            } catch {
                logger.debug("stream backlog not sampled", metadata: ["stream": .string(stream), "error": .string("\(error)")])
                continue
            }
            for watched in groups where watched.stream == stream {
                guard let info = infos.first(where: { $0.name == watched.group }) else { continue }
                result.append(Backlog(watched: watched, lag: info.lag, pending: info.pending, consumers: info.consumers))
            }
        }
        return result
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) {
            for backlog in await sample() {
                let dimensions = [("stream", backlog.watched.stream), ("group", backlog.watched.group)]
                if let lag = backlog.lag { Gauge(label: Metric.lag, dimensions: dimensions).record(lag) }
                Gauge(label: Metric.pending, dimensions: dimensions).record(backlog.pending)
                Gauge(label: Metric.consumers, dimensions: dimensions).record(backlog.consumers)
            }
        }
    }
}

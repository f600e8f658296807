import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime
import SharedRedis
import Synchronization

/// Ticks per second and events per second over the last minutes, for the status page's plots: every ``interval`` it
/// reads how many entries Redis has ever added to `{prefix}:ticks` and `{prefix}:events` (`XINFO STREAM`,
/// `entries-added`) and keeps the rates of the last ``capacity`` intervals in memory. Restarting the process starts an
/// empty history; Redis's counters themselves survive.
final class ThroughputHistory: Service, Sendable {
    /// One interval's rates; nil where the stream did not exist yet or Redis did not answer.
    struct Sample: Sendable, Equatable {
        var at: Date
        var ticksPerSecond: Double?
        var eventsPerSecond: Double?
    }

    let redis: RedisClient
    let ticksStream: String
    let eventsStream: String
    let interval: Duration
    let capacity: Int
    let logger: Logger
    private let samples = Mutex<[Sample]>([])

    /// - Parameters:
    ///   - redis: A non-blocking client.
    ///   - ticksStream: `{prefix}:ticks`.
    ///   - eventsStream: `{prefix}:events`.
    ///   - interval: Time between samples (5 s: 120 samples are 10 minutes).
    ///   - capacity: Samples kept.
    init(redis: RedisClient, ticksStream: String, eventsStream: String, interval: Duration = .seconds(5), capacity: Int = 120, logger: Logger) {
        self.redis = redis
        self.ticksStream = ticksStream
        self.eventsStream = eventsStream
        self.interval = interval
        self.capacity = capacity
        self.logger = logger
    }

    /// The samples kept, oldest first.
    var recent: [Sample] { samples.withLock { $0 } }

    func run() async throws {
        var previous: (at: ContinuousClock.Instant, ticks: Int?, events: Int?)?
        await repeatUntilShutdown(every: interval) {
            let now = ContinuousClock.now
            let ticks = await added(ticksStream)
            let events = await added(eventsStream)
            if let previous {
                let seconds = Double((now - previous.at).components.seconds) + Double((now - previous.at).components.attoseconds) / 1e18
                let sample = Sample(
                    at: Date(),
                    ticksPerSecond: Self.rate(previous.ticks, ticks, seconds: seconds),
                    eventsPerSecond: Self.rate(previous.events, events, seconds: seconds)
                )
                samples.withLock { kept in
                    kept.append(sample)
                    if kept.count > capacity { kept.removeFirst(kept.count - capacity) }
                }
            }
            previous = (now, ticks, events)
        }
    }

    /// Entries ever added to a stream; nil when it does not exist, Redis is away, or Redis is older than 7.0.
    private func added(_ stream: String) async -> Int? {
        do {
            return try await redis.xinfoStream(stream).entriesAdded
        } catch {
            logger.debug("stream counter not read", metadata: ["stream": .string(stream), "error": .string("\(error)")])
            return nil
        }
    }

    /// A counter's rate between two readings; a stream that appeared in between counts from 0, and a counter that went
    /// backwards (the stream was deleted and created again) gives no rate.
    static func rate(_ before: Int?, _ after: Int?, seconds: Double) -> Double? {
        guard let after, seconds > 0 else { return nil }
        let start = before ?? 0
        guard after >= start else { return nil }
        return Double(after - start) / seconds
    }
}

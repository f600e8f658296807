import BrokerWire
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Shared
import SharedRedis
import Synchronization

/// Decodes the frames the broker sessions receive and publishes every tick to Redis: one `XADD {prefix}:ticks MAXLEN ~ n`
/// entry per tick plus `HSET {prefix}:quote:{token}` (the latest quote, for snapshots), one pipeline per frame.
///
/// It reads from a ``TickSink`` (bounded, drop-oldest), so a slow or absent Redis never holds up a WebSocket reader.
/// Nothing is written to the database per tick.
final class TickPublisher: Service, Sendable {
    /// Hand this to ``FeedManager``.
    let sink: TickSink
    private let redis: RedisClient
    private let channels: EventChannels
    private let maxLength: Int
    private let logger: Logger
    private let published = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let gaps: FeedGapRecorder

    /// - Parameters:
    ///   - redis: The client to publish with (its own connection is best: commands on one client are serialised).
    ///   - channels: Names derived from `REDIS_CHANNEL_PREFIX`.
    ///   - maxLength: `MAXLEN ~` of the ticks stream.
    ///   - bufferFrames: Frames held between the readers and Redis before the oldest is dropped.
    ///   - gaps: Where a drop episode is recorded as a `buffer_overflow` gap.
    ///   - logger: Logger.
    init(redis: RedisClient, channels: EventChannels, maxLength: Int, bufferFrames: Int, gaps: FeedGapRecorder = FeedGapRecorder(), logger: Logger) {
        self.redis = redis
        self.gaps = gaps
        self.channels = channels
        self.maxLength = maxLength
        self.sink = TickSink(capacity: bufferFrames)
        self.logger = logger
    }

    /// Convenience: sizes from the feed configuration.
    convenience init(redis: RedisClient, channels: EventChannels, configuration: FeedConfiguration, gaps: FeedGapRecorder = FeedGapRecorder(), logger: Logger) {
        self.init(
            redis: redis, channels: channels, maxLength: configuration.ticksStreamMaxLength, bufferFrames: configuration.ticksBufferFrames, gaps: gaps,
            logger: logger
        )
    }

    /// Ticks written to Redis so far.
    var ticksPublished: Int { published.load(ordering: .relaxed) }

    func run() async throws {
        var lastMode: [UInt32: KiteMode] = [:]
        for await frame in sink.frames.cancelOnGracefulShutdown() {
            await publish(frame, lastMode: &lastMode)
        }
        if let episode = sink.endDropEpisode(force: true) { report(episode) }
    }

    /// Logs a drop episode once and records its `buffer_overflow` gap: the instruments of the lost ticks, over the
    /// receive times of their frames.
    private func report(_ episode: TickDropEpisodes.Episode) {
        logger.warning(
            "dropped \(episode.ticks) ticks of \(episode.tokens.count) instruments between \(Self.time(episode.firstReceivedMillis)) and \(Self.time(episode.lastReceivedMillis))",
            metadata: ["ticks.dropped": "\(episode.ticks)", "frames.dropped": "\(episode.frames)", TickerLogKey.tokens: "\(episode.tokens.count)"]
        )
        gaps.record(.bufferOverflow, startMillis: episode.firstReceivedMillis, endMillis: episode.lastReceivedMillis, tokens: episode.tokens)
    }

    private static func time(_ millis: Int64) -> String {
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }

    private func publish(_ frame: TickFrame, lastMode: inout [UInt32: KiteMode]) async {
        let decoded = frame.bytes.withUnsafeReadableBytes { KiteTickerCodec.decodeFrame($0) }
        if !decoded.errors.isEmpty {
            FeedMetrics.decodeError(count: decoded.errors.count)
            logger.warning(
                "undecodable packets in a broker frame",
                metadata: ["account": "\(frame.accountID)", "connection": "\(frame.connectionID)", "error": "\(decoded.errors[0])", "errors": "\(decoded.errors.count)"]
            )
        }
        guard !decoded.ticks.isEmpty else { return }
        FeedMetrics.ticks(received: decoded.ticks.count)
        var commands: [[String]] = []
        commands.reserveCapacity(decoded.ticks.count * 2)
        let stream = channels.ticksStream
        for tick in decoded.ticks {
            let fields = TickStreamEntry(tick, receivedAtMillis: frame.receivedAtMillis).fields()
            commands.append(RedisClient.xaddArguments(stream, maxLength: maxLength, fields: fields))
            let key = channels.latestQuoteKey(Int64(tick.instrumentToken))
            // A lower mode carries fewer fields: clear the ones it no longer updates so a snapshot is never half stale.
            if let previous = lastMode[tick.instrumentToken], tick.mode < previous {
                commands.append(["DEL", key])
            }
            lastMode[tick.instrumentToken] = tick.mode
            var hset = ["HSET", key]
            hset.reserveCapacity(2 + fields.count * 2)
            for (field, value) in fields {
                hset.append(field)
                hset.append(value)
            }
            commands.append(hset)
        }
        do {
            let replies = try await redis.pipeline(commands)
            if let error = replies.first(where: { if case .error = $0 { true } else { false } }) {
                FeedMetrics.publishFailure()
                logger.error("redis refused a tick command", metadata: ["reply": "\(error)"])
            }
            published.add(decoded.ticks.count, ordering: .relaxed)
            FeedMetrics.ticks(published: decoded.ticks.count)
            if let episode = sink.endDropEpisode() { report(episode) }
        } catch {
            FeedMetrics.publishFailure()
            FeedMetrics.ticks(dropped: decoded.ticks.count, reason: "redis_error")
            sink.recordDrop(frame, ticks: decoded.ticks.count, tokens: decoded.ticks.map(\.instrumentToken))
            // One line per 100 failures: a Redis outage must not flood the log at tick rate.
            let count = failures.add(1, ordering: .relaxed).newValue
            if count % 100 == 1 {
                logger.error("cannot publish ticks to redis", metadata: ["error": "\(error)", "failures": "\(count)"])
            }
        }
    }
}

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
        var memory = PublisherMemory()
        for await frame in sink.frames.cancelOnGracefulShutdown() {
            await publish(frame, memory: &memory)
        }
        if let episode = sink.endDropEpisode(force: true) { report(episode) }
    }

    /// What the publisher keeps between frames: each instrument's last mode (a downgrade clears the quote hash) and
    /// what Dhan's previous-close and OI packets said.
    struct PublisherMemory {
        var lastMode: [UInt32: SubscriptionMode] = [:]
        var dhan: [UInt32: DhanInstrumentMemo] = [:]
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

    /// The stream entries of one frame, decoded in its broker's format; errors are counted and logged once per frame.
    private func entries(of frame: TickFrame, memory: inout PublisherMemory) -> [(token: UInt32, entry: TickStreamEntry)] {
        var out: [(token: UInt32, entry: TickStreamEntry)] = []
        var errors: [String] = []
        switch frame.broker {
        case .kite:
            let decoded = frame.bytes.withUnsafeReadableBytes { KiteTickerCodec.decodeFrame($0) }
            errors = decoded.errors.map { "\($0)" }
            out = decoded.ticks.map { ($0.instrumentToken, TickStreamEntry($0, receivedAtMillis: frame.receivedAtMillis)) }
        case .dhan:
            for result in frame.bytes.withUnsafeReadableBytes({ DhanFeedCodec.decode($0) }) {
                switch result {
                case let .failure(error):
                    errors.append("\(error)")
                case let .success(packet):
                    guard let token = DhanInstrumentMap.kiteToken(for: packet.instrument) else {
                        if case .marketStatus = packet { continue }
                        errors.append("packet for unknown Dhan instrument \(packet.instrument.exchangeSegment)/\(packet.instrument.securityId)")
                        continue
                    }
                    switch packet {
                    case let .previousClose(_, price, _): memory.dhan[token, default: DhanInstrumentMemo()].previousClose = price
                    case let .oi(_, oi): memory.dhan[token, default: DhanInstrumentMemo()].openInterest = oi
                    default:
                        if let entry = TickStreamEntry(dhan: packet, token: token, memo: memory.dhan[token] ?? DhanInstrumentMemo(), receivedAtMillis: frame.receivedAtMillis) {
                            out.append((token, entry))
                        }
                    }
                }
            }
        }
        if !errors.isEmpty {
            FeedMetrics.decodeError(count: errors.count)
            logger.warning(
                "undecodable packets in a broker frame",
                metadata: [
                    "account": "\(frame.accountID)", "connection": "\(frame.connectionID)", "broker": "\(frame.broker.rawValue)", "error": "\(errors[0])",
                    "errors": "\(errors.count)",
                ]
            )
        }
        return out
    }

    private func publish(_ frame: TickFrame, memory: inout PublisherMemory) async {
        let ticks = entries(of: frame, memory: &memory)
        guard !ticks.isEmpty else { return }
        FeedMetrics.ticks(received: ticks.count)
        var commands: [[String]] = []
        commands.reserveCapacity(ticks.count * 2)
        let stream = channels.ticksStream
        for (token, entry) in ticks {
            let fields = entry.fields()
            commands.append(RedisClient.xaddArguments(stream, maxLength: maxLength, fields: fields))
            let key = channels.latestQuoteKey(Int64(token))
            // A lower mode carries fewer fields: clear the ones it no longer updates so a snapshot is never half stale.
            if let mode = entry.mode {
                if let previous = memory.lastMode[token], mode < previous { commands.append(["DEL", key]) }
                memory.lastMode[token] = mode
            }
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
            published.add(ticks.count, ordering: .relaxed)
            FeedMetrics.ticks(published: ticks.count)
            if let episode = sink.endDropEpisode() { report(episode) }
        } catch {
            FeedMetrics.publishFailure()
            FeedMetrics.ticks(dropped: ticks.count, reason: "redis_error")
            sink.recordDrop(frame, ticks: ticks.count, tokens: ticks.map(\.token))
            // One line per 100 failures: a Redis outage must not flood the log at tick rate.
            let count = failures.add(1, ordering: .relaxed).newValue
            if count % 100 == 1 {
                logger.error("cannot publish ticks to redis", metadata: ["error": "\(error)", "failures": "\(count)"])
            }
        }
    }
}

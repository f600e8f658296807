import Foundation
import Metrics
import NIOCore
import Synchronization

/// One binary WebSocket message from the broker, as received (decoded later by the publisher, off the socket reader).
struct TickFrame: Sendable {
    var bytes: ByteBuffer
    /// Wall-clock receive time, milliseconds since the Unix epoch.
    var receivedAtMillis: Int64
    var accountID: String
    var connectionID: Int

    /// The packet count from the frame header (no full decode), for drop accounting.
    var packetCount: Int {
        guard bytes.readableBytes >= 2, let count = bytes.getInteger(at: bytes.readerIndex, endianness: .big, as: UInt16.self) else { return 0 }
        return Int(count)
    }

    /// The instrument tokens of the frame's packets, read from the packet headers (no full decode), for drop accounting.
    var packetTokens: [UInt32] {
        var tokens: [UInt32] = []
        var offset = bytes.readerIndex + 2
        let end = bytes.writerIndex
        for _ in 0..<packetCount {
            guard offset + 6 <= end, let length = bytes.getInteger(at: offset, endianness: .big, as: UInt16.self),
                  let token = bytes.getInteger(at: offset + 2, endianness: .big, as: UInt32.self)
            else { break }
            tokens.append(token)
            offset += 2 + Int(length)
        }
        return tokens
    }
}

/// The bounded buffer between the WebSocket readers and the Redis writer.
///
/// A reader never waits for Redis: when the buffer is full the **oldest** frame is dropped (newer prices are worth more
/// than older ones) and its ticks are counted in `ticker_ticks_dropped_total{reason="buffer_full"}`. Every drop, and
/// every frame the publisher could not write, is also added to the current drop episode (``TickDropEpisodes``), which
/// the publisher turns into one `buffer_overflow` feed gap once it ends.
final class TickSink: Sendable {
    let frames: AsyncStream<TickFrame>
    private let continuation: AsyncStream<TickFrame>.Continuation
    private let droppedTicks = Atomic<Int>(0)
    private let droppedFrames = Atomic<Int>(0)
    private let episodes = Mutex(TickDropEpisodes())

    /// - Parameter capacity: Frames held before the oldest is dropped.
    init(capacity: Int) {
        (frames, continuation) = AsyncStream.makeStream(of: TickFrame.self, bufferingPolicy: .bufferingNewest(max(1, capacity)))
    }

    /// Hands a frame to the publisher; never blocks.
    func push(_ frame: TickFrame) {
        if case let .dropped(old) = continuation.yield(frame) {
            let ticks = old.packetCount
            droppedTicks.add(ticks, ordering: .relaxed)
            droppedFrames.add(1, ordering: .relaxed)
            FeedMetrics.ticks(dropped: ticks, reason: "buffer_full")
            recordDrop(old, ticks: ticks, tokens: old.packetTokens)
        }
    }

    /// Adds a lost frame to the current drop episode (the buffer dropped it, or Redis did not take it).
    /// - Parameters:
    ///   - frame: The frame.
    ///   - ticks: Its ticks.
    ///   - tokens: Their instruments.
    func recordDrop(_ frame: TickFrame, ticks: Int, tokens: [UInt32]) {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        episodes.withLock { $0.record(ticks: ticks, tokens: tokens, receivedAtMillis: frame.receivedAtMillis, nowMillis: now) }
    }

    /// Ends the drop episode in progress if it is over (nothing dropped for a while), or whatever the time when `force`.
    /// - Returns: The episode that ended, if one did.
    func endDropEpisode(force: Bool = false) -> TickDropEpisodes.Episode? {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return episodes.withLock { force ? $0.end() : $0.endIfQuiet(nowMillis: now) }
    }

    /// Ends the stream (the publisher's loop then finishes).
    func finish() { continuation.finish() }

    /// Ticks dropped because the buffer was full.
    var ticksDropped: Int { droppedTicks.load(ordering: .relaxed) }
    /// Frames dropped because the buffer was full.
    var framesDropped: Int { droppedFrames.load(ordering: .relaxed) }
}

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
}

/// The bounded buffer between the WebSocket readers and the Redis writer.
///
/// A reader never waits for Redis: when the buffer is full the **oldest** frame is dropped (newer prices are worth more
/// than older ones) and its ticks are counted in `ticker_ticks_dropped_total{reason="buffer_full"}`.
final class TickSink: Sendable {
    let frames: AsyncStream<TickFrame>
    private let continuation: AsyncStream<TickFrame>.Continuation
    private let droppedTicks = Atomic<Int>(0)
    private let droppedFrames = Atomic<Int>(0)

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
        }
    }

    /// Ends the stream (the publisher's loop then finishes).
    func finish() { continuation.finish() }

    /// Ticks dropped because the buffer was full.
    var ticksDropped: Int { droppedTicks.load(ordering: .relaxed) }
    /// Frames dropped because the buffer was full.
    var framesDropped: Int { droppedFrames.load(ordering: .relaxed) }
}

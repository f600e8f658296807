import BrokerWire
import DequeModule
import Foundation
import Metrics
import NIOCore
import Synchronization

/// One binary WebSocket message from the broker, as received (decoded later by the publisher, off the socket reader).
struct TickFrame: Sendable {
    var bytes: ByteBuffer
    /// Wall-clock receive time, milliseconds since the Unix epoch.
    var receivedAtMillis: Int64
    /// Whose wire format the bytes are in.
    var broker: Broker = .kite
    var accountID: String
    var connectionID: Int

    /// The packet count from the frame header (no full decode), for drop accounting.
    var packetCount: Int {
        if broker == .dhan { return dhanPacketIDs.count }
        guard bytes.readableBytes >= 2, let count = bytes.getInteger(at: bytes.readerIndex, endianness: .big, as: UInt16.self) else { return 0 }
        return Int(count)
    }

    /// The instrument tokens of the frame's packets, read from the packet headers (no full decode), for drop accounting.
    var packetTokens: [UInt32] {
        if broker == .dhan { return dhanPacketIDs.compactMap(DhanInstrumentMap.kiteToken(for:)) }
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

extension TickFrame {
    /// The instruments of a Dhan message's packets, from their 8-byte headers (code, length LE, segment, security id LE).
    var dhanPacketIDs: [DhanInstrumentID] {
        var ids: [DhanInstrumentID] = []
        var offset = bytes.readerIndex
        let end = bytes.writerIndex
        while offset + DhanFeedCodec.headerLength <= end,
              let code = bytes.getInteger(at: offset, as: UInt8.self),
              let length = bytes.getInteger(at: offset + 1, endianness: .little, as: UInt16.self),
              let segment = bytes.getInteger(at: offset + 3, as: UInt8.self),
              let securityID = bytes.getInteger(at: offset + 4, endianness: .little, as: UInt32.self) {
            let known = DhanResponseCode(rawValue: code)
            if known == .ticker || known == .quote || known == .full { ids.append(DhanInstrumentID(exchangeSegment: segment, securityId: securityID)) }
            let step = max(Int(length), known?.packetLength ?? 0)
            guard step >= DhanFeedCodec.headerLength else { break }
            offset += step
        }
        return ids
    }
}

/// The bounded buffer between the WebSocket readers and the Redis writer.
///
/// A reader never waits for Redis: when the buffer is full the **oldest** frame is dropped (newer prices are worth more
/// than older ones) and its ticks are counted in `ticker_ticks_dropped_total{reason="buffer_full"}`. Every drop, and
/// every frame the publisher could not write, is also added to the current drop episode (``TickDropEpisodes``), which
/// the publisher turns into one `buffer_overflow` feed gap once it ends.
///
/// Dhan sends every packet as its own WebSocket message (a 5,000-instrument connection: 5,000 messages a second). A
/// Dhan message is appended to the newest waiting frame of the same connection while that frame is small and from the
/// same second, so the publisher writes one Redis pipeline per burst rather than per packet, and the buffer's bound
/// counts bursts, as it does Kite's multi-packet frames.
final class TickSink: Sendable {
    /// The frames, in arrival order, until ``finish()``.
    var frames: Frames { Frames(sink: self) }

    /// Largest coalesced Dhan frame (about 400 full packets).
    static let coalescedFrameBytes = 64 << 10

    private struct Queue {
        var frames = Deque<TickFrame>()
        var finished = false
    }

    private let capacity: Int
    private let queue = Mutex(Queue())
    private let wakeStream: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let droppedTicks = Atomic<Int>(0)
    private let droppedFrames = Atomic<Int>(0)
    private let episodes = Mutex(TickDropEpisodes())

    /// - Parameter capacity: Frames held before the oldest is dropped.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
        (wakeStream, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Hands a frame to the publisher; never blocks.
    func push(_ frame: TickFrame) {
        let dropped = queue.withLock { queue -> TickFrame? in
            guard !queue.finished else { return nil }
            if frame.broker == .dhan, var last = queue.frames.last, last.broker == .dhan, last.accountID == frame.accountID,
               last.connectionID == frame.connectionID, last.bytes.readableBytes + frame.bytes.readableBytes <= Self.coalescedFrameBytes,
               last.receivedAtMillis / 1000 == frame.receivedAtMillis / 1000 {
                queue.frames.removeLast()
                var bytes = frame.bytes
                last.bytes.writeBuffer(&bytes)
                queue.frames.append(last)
                return nil
            }
            queue.frames.append(frame)
            return queue.frames.count > capacity ? queue.frames.removeFirst() : nil
        }
        wake.yield(())
        if let old = dropped {
            let ticks = old.packetCount
            droppedTicks.add(ticks, ordering: .relaxed)
            droppedFrames.add(1, ordering: .relaxed)
            FeedMetrics.ticks(dropped: ticks, reason: "buffer_full")
            recordDrop(old, ticks: ticks, tokens: old.packetTokens)
        }
    }

    /// The oldest waiting frame; nil when none waits (``finished`` tells whether more can come).
    private func pop() -> (frame: TickFrame?, finished: Bool) {
        queue.withLock { queue in (queue.frames.popFirst(), queue.finished) }
    }

    /// The frames as an async sequence: each call to `next()` returns the oldest waiting frame, waiting for one if
    /// none does, and nil once the sink is finished and empty (or the task is cancelled).
    struct Frames: AsyncSequence, Sendable {
        let sink: TickSink

        struct AsyncIterator: AsyncIteratorProtocol {
            let sink: TickSink
            var wakeups: AsyncStream<Void>.AsyncIterator

            mutating func next() async -> TickFrame? {
                while true {
                    let (frame, finished) = sink.pop()
                    if let frame { return frame }
                    if finished { return nil }
                    guard await wakeups.next() != nil else { return sink.pop().frame }
                }
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sink: sink, wakeups: sink.wakeStream.makeAsyncIterator()) }
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

    /// Ends the sequence once the waiting frames are read (the publisher's loop then finishes).
    func finish() {
        queue.withLock { $0.finished = true }
        wake.finish()
    }

    /// Ticks dropped because the buffer was full.
    var ticksDropped: Int { droppedTicks.load(ordering: .relaxed) }
    /// Frames dropped because the buffer was full.
    var framesDropped: Int { droppedFrames.load(ordering: .relaxed) }
}

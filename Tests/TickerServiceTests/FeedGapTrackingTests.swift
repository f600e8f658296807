import Foundation
import NIOCore
import Shared
import Testing

@testable import TickerService

/// The pure parts of feed gap recording (issue 15): a connection's outage, the bounded queue and its coalescing,
/// tick drop episodes, the restart gap's start. The real-process scenarios are in `FeedGapsEndToEndTests`.
@Suite("Feed gaps: tracking, queueing and coalescing")
struct FeedGapTrackingTests {
    @Test("an outage keeps its first reason and earliest start, gathers every instrument carried, and ends once")
    func tracker() {
        var tracker = FeedGapTracker()
        #expect(tracker.end(at: 5) == nil)
        tracker.begin(.stall, since: 1_000, tokens: [3, 1])
        tracker.include([7])
        // The reconnect that follows a stall fails: still the stall, from its start.
        tracker.begin(.reconnect, since: 4_000, tokens: [1, 9])
        #expect(tracker.isOpen)
        let ended = tracker.end(at: 6_500)
        #expect(ended == FeedGapTracker.Ended(reason: .stall, startMillis: 1_000, endMillis: 6_500, tokens: [1, 3, 7, 9]))
        #expect(!tracker.isOpen)
        #expect(tracker.end(at: 7_000) == nil)

        tracker.include([5])  // no outage: nothing to widen
        #expect(!tracker.isOpen)
        tracker.begin(.reconnect, since: 9_000, tokens: [5])
        tracker.begin(.drop, since: 8_000, tokens: [])
        #expect(tracker.end(at: 8_500) == FeedGapTracker.Ended(reason: .reconnect, startMillis: 8_000, endMillis: 8_500, tokens: [5]))
        tracker.begin(.drop, since: 10_000, tokens: [])
        #expect(tracker.end(at: 11_000) == nil, "an outage of no instrument is no gap")
    }

    @Test("the queue merges gaps of one reason and connection once it grows, keeping every minute and instrument")
    func coalescing() {
        var queue = FeedGapQueue(capacity: 8, coalesceThreshold: 4)
        queue.makeID = { "merged" }
        queue.append(Self.gap("a", .stall, "p#1", 1_000, 2_000, [1, 2]))
        queue.append(Self.gap("b", .drop, "p#1", 3_000, 4_000, [1]))
        queue.append(Self.gap("c", .stall, "p#1", 5_000, 6_000, [2, 3]))
        queue.append(Self.gap("d", .stall, "p#2", 5_500, 6_000, [4]))
        #expect(queue.gaps.map(\.gapID) == ["a", "b", "c", "d"])
        queue.append(Self.gap("e", .drop, "p#1", 7_000, 8_000, [5]))
        // Threshold reached: a and c (stall, p#1) merge; b joins nothing yet but e arrives after the merge.
        #expect(queue.gaps.map(\.gapID) == ["merged", "b", "d", "e"])
        let merged = queue.gaps[0]
        #expect(merged.reason == .stall && merged.connectionID == "p#1" && merged.accountID == "p")
        #expect(merged.startMillis == 1_000 && merged.endMillis == 6_000 && merged.instrumentTokens == [1, 2, 3])
        #expect(queue.dropped == 0)
    }

    @Test("a full queue merges a new gap into one of its kind, drops (and counts) only one of a new kind")
    func bound() {
        var queue = FeedGapQueue(capacity: 2, coalesceThreshold: 2)
        queue.makeID = { "merged" }
        let kept = [
            queue.append(Self.gap("a", .stall, "p#1", 1_000, 2_000, [1])),
            queue.append(Self.gap("b", .drop, "p#1", 3_000, 4_000, [2])),
            queue.append(Self.gap("c", .stall, "p#1", 5_000, 6_000, [3])),
        ]
        #expect(kept == [true, true, true])
        #expect(queue.count == 2)
        #expect(queue.gaps.first { $0.reason == .stall }?.instrumentTokens == [1, 3])
        let keptNewKind = queue.append(Self.gap("d", .subscribed, nil, 7_000, 7_000, [4]))
        #expect(!keptNewKind)
        #expect(queue.dropped == 1)
    }

    @Test("publishing takes the oldest first; a failed batch goes back in front")
    func takeAndPutBack() {
        var queue = FeedGapQueue(capacity: 10)
        for (index, id) in ["a", "b", "c"].enumerated() { queue.append(Self.gap(id, .drop, "p#\(index)", 1, 2, [1])) }
        let batch = queue.takeFirst(2)
        #expect(batch.map(\.gapID) == ["a", "b"])
        queue.append(Self.gap("d", .drop, "p#9", 1, 2, [1]))
        #expect(queue.putBack(batch) == 0)
        #expect(queue.gaps.map(\.gapID) == ["a", "b", "c", "d"])
    }

    @Test("the recorder splits a gap at the codec's instrument limit and skips one without instruments")
    func recorderChunks() {
        let recorder = FeedGapRecorder(capacity: 100)
        recorder.record(.subscribed, startMillis: 10, endMillis: 10, tokens: [UInt32]())
        #expect(recorder.pendingCount == 0)
        let tokens = (1...UInt32(FeedGapCodec.maximumInstruments * 2 + 1)).reversed()
        recorder.record(.reconnect, accountID: "p", connectionID: "p#1", startMillis: 20, endMillis: 10, tokens: Array(tokens))
        let gaps = recorder.take(10)
        #expect(gaps.map(\.instrumentTokens.count) == [FeedGapCodec.maximumInstruments, FeedGapCodec.maximumInstruments, 1])
        #expect(gaps[0].instrumentTokens.first == 1 && gaps[2].instrumentTokens == [Int64(FeedGapCodec.maximumInstruments * 2 + 1)])
        #expect(gaps.allSatisfy { $0.startMillis == 20 && $0.endMillis == 20 && $0.connectionID == "p#1" })
        #expect(Set(gaps.map(\.gapID)).count == 3)
    }

    @Test("drops form one episode until a publish comes after a quiet second")
    func dropEpisodes() {
        var episodes = TickDropEpisodes()
        #expect(episodes.endIfQuiet(nowMillis: 0) == nil)
        episodes.record(ticks: 3, tokens: [1, 2, 3], receivedAtMillis: 10_000, nowMillis: 10_010)
        episodes.record(ticks: 2, tokens: [2, 4], receivedAtMillis: 9_500, nowMillis: 10_400)
        #expect(episodes.endIfQuiet(nowMillis: 11_000) == nil, "only 600 ms without a drop")
        let ended = episodes.endIfQuiet(nowMillis: 11_400)
        #expect(ended?.ticks == 5 && ended?.frames == 2 && ended?.tokens == [1, 2, 3, 4])
        #expect(ended?.firstReceivedMillis == 9_500 && ended?.lastReceivedMillis == 10_000)
        #expect(episodes.current == nil)
        episodes.record(ticks: 1, tokens: [9], receivedAtMillis: 20_000, nowMillis: 20_000)
        #expect(episodes.end()?.tokens == [9])
    }

    @Test("the sink adds a frame it drops to the episode, with the frame's tokens read from its packet headers")
    func sinkDrops() {
        let sink = TickSink(capacity: 1)
        sink.push(Self.frame(tokens: [408_065, 738_561], receivedAt: 1_000))
        sink.push(Self.frame(tokens: [256_265], receivedAt: 2_000))
        #expect(sink.ticksDropped == 2)
        let episode = sink.endDropEpisode(force: true)
        #expect(episode?.tokens == [408_065, 738_561])
        #expect(episode?.firstReceivedMillis == 1_000 && episode?.lastReceivedMillis == 1_000)
        #expect(sink.endDropEpisode(force: true) == nil)
    }

    @Test("a restart gap starts at the last tick when it is recent and not in the future, else at the process start")
    func restartStart() {
        let start: Int64 = 1_764_651_600_000
        #expect(RestartGapStart.millis(lastTickEntryID: "1764651590123-4", processStartMillis: start) == 1_764_651_590_123)
        #expect(RestartGapStart.millis(lastTickEntryID: nil, processStartMillis: start) == start)
        #expect(RestartGapStart.millis(lastTickEntryID: "garbage", processStartMillis: start) == start)
        #expect(RestartGapStart.millis(lastTickEntryID: "\(start + 5)-0", processStartMillis: start) == start)
        #expect(RestartGapStart.millis(lastTickEntryID: "\(start - RestartGapStart.recentWindowMillis - 1)-0", processStartMillis: start) == start)
    }

    static func gap(_ id: String, _ reason: FeedGap.Reason, _ connection: String?, _ start: Int64, _ end: Int64, _ tokens: [Int64]) -> FeedGap {
        FeedGap(
            gapID: id, reason: reason, accountID: connection.map { String($0.prefix { $0 != "#" }) }, connectionID: connection,
            startMillis: start, endMillis: end, instrumentTokens: tokens
        )
    }

    /// A Kite frame of LTP packets (8 bytes: token, price).
    static func frame(tokens: [UInt32], receivedAt: Int64) -> TickFrame {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt16(tokens.count), endianness: .big)
        for token in tokens {
            buffer.writeInteger(UInt16(8), endianness: .big)
            buffer.writeInteger(token, endianness: .big)
            buffer.writeInteger(UInt32(150_000), endianness: .big)
        }
        return TickFrame(bytes: buffer, receivedAtMillis: receivedAt, accountID: "p", connectionID: 1)
    }
}

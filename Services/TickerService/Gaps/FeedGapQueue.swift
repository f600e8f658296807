import Foundation
import Shared
import SharedBasics

/// The gaps waiting to be written to `{prefix}:feed-gaps`, oldest first, bounded so that a long Redis outage cannot
/// grow memory without limit.
///
/// Rule: once the queue holds ``coalesceThreshold`` gaps, the gaps of the same reason, account and connection are
/// merged into one (earliest start, latest end, every instrument; split again at
/// ``FeedGapCodec/maximumInstruments``), which keeps every suspect minute suspect (a merged gap may cover more
/// minutes, never fewer). A gap that arrives when the queue is still at ``capacity`` after that is merged into a
/// pending gap of its kind when one has room, and dropped (and counted) only when none has.
struct FeedGapQueue: Sendable {
    /// The most gaps held.
    let capacity: Int
    /// The size at which gaps of a kind are merged.
    let coalesceThreshold: Int
    /// Pending gaps, oldest first.
    private(set) var gaps: [FeedGap] = []
    /// Gaps lost because the queue was full (never expected: see the rule above).
    private(set) var dropped = 0
    /// Makes the id of a merged gap.
    var makeID: @Sendable () -> String = { UUID().uuidString.lowercased() }

    /// - Parameters:
    ///   - capacity: The most gaps held (at least 1).
    ///   - coalesceThreshold: When merging starts; defaults to half the capacity.
    init(capacity: Int, coalesceThreshold: Int? = nil) {
        self.capacity = max(1, capacity)
        self.coalesceThreshold = min(self.capacity, max(1, coalesceThreshold ?? self.capacity / 2))
    }

    var count: Int { gaps.count }
    var isEmpty: Bool { gaps.isEmpty }

    /// Queues a gap.
    /// - Returns: Whether it was kept (merged counts as kept); false means it was dropped.
    @discardableResult
    mutating func append(_ gap: FeedGap) -> Bool {
        if gaps.count >= coalesceThreshold { coalesce() }
        if gaps.count < capacity {
            gaps.append(gap)
            return true
        }
        if let index = gaps.lastIndex(where: { Self.key($0) == Self.key(gap) && Self.union($0, gap).count <= FeedGapCodec.maximumInstruments }) {
            gaps[index] = merged(gaps[index], gap, tokens: Self.union(gaps[index], gap))
            return true
        }
        dropped += 1
        return false
    }

    /// Takes up to `limit` of the oldest gaps out of the queue (to publish them).
    mutating func takeFirst(_ limit: Int) -> [FeedGap] {
        let taken = Array(gaps.prefix(max(0, limit)))
        gaps.removeFirst(taken.count)
        return taken
    }

    /// Puts back, at the front, gaps that could not be published; merges (and, if it must, drops the newest) to stay
    /// within the bound.
    /// - Returns: How many gaps were dropped.
    @discardableResult
    mutating func putBack(_ batch: [FeedGap]) -> Int {
        guard !batch.isEmpty else { return 0 }
        gaps.insert(contentsOf: batch, at: 0)
        guard gaps.count > capacity else { return 0 }
        coalesce()
        let excess = max(0, gaps.count - capacity)
        gaps.removeLast(excess)
        dropped += excess
        return excess
    }

    /// Merges the pending gaps of each reason, account and connection into one (split at the instrument limit), in
    /// order of each kind's first appearance.
    mutating func coalesce() {
        var order: [Key] = []
        var groups: [Key: [FeedGap]] = [:]
        for gap in gaps {
            let key = Self.key(gap)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(gap)
        }
        guard order.count < gaps.count else { return }
        var result: [FeedGap] = []
        for key in order {
            let group = groups[key]!
            guard group.count > 1 else {
                result += group
                continue
            }
            var seen = Set<Int64>()
            var tokens: [Int64] = []
            for gap in group {
                for token in gap.instrumentTokens where seen.insert(token).inserted { tokens.append(token) }
            }
            let start = group.map(\.startMillis).min()!
            let end = group.map(\.endMillis).max()!
            for chunk in tokens.sorted().chunked(FeedGapCodec.maximumInstruments) {
                result.append(
                    FeedGap(
                        gapID: makeID(), reason: key.reason, accountID: key.accountID, connectionID: key.connectionID,
                        startMillis: start, endMillis: end, instrumentTokens: chunk
                    )
                )
            }
        }
        gaps = result
    }

    private struct Key: Hashable {
        var reason: FeedGap.Reason
        var accountID: String?
        var connectionID: String?
    }

    private static func key(_ gap: FeedGap) -> Key { Key(reason: gap.reason, accountID: gap.accountID, connectionID: gap.connectionID) }

    private static func union(_ a: FeedGap, _ b: FeedGap) -> [Int64] {
        var seen = Set(a.instrumentTokens)
        return a.instrumentTokens + b.instrumentTokens.filter { seen.insert($0).inserted }
    }

    private func merged(_ a: FeedGap, _ b: FeedGap, tokens: [Int64]) -> FeedGap {
        FeedGap(
            gapID: makeID(), reason: a.reason, accountID: a.accountID, connectionID: a.connectionID,
            startMillis: min(a.startMillis, b.startMillis), endMillis: max(a.endMillis, b.endMillis), instrumentTokens: tokens.sorted()
        )
    }
}

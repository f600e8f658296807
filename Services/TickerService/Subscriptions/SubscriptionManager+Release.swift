import Logging
import Shared
import TickerAPIModel

extension SubscriptionManager {
    /// What a batch release did.
    struct ReleaseResult: Sendable {
        /// Tokens the holder let go of (in the order asked).
        var released: [Int64]
        /// Of those, the ones that lost their last holder and left the feed (a `subscription_removed` event each).
        var removed: [Int64]
        /// Tokens the holder did not hold (nothing changed for them).
        var notHeld: [Int64]
    }

    /// Takes `holder` away from every instrument of `tokens` that it holds, in one transaction: an end-of-day cleanup
    /// or a watchlist removal lets go of hundreds of instruments in one call instead of one request each. Tokens the
    /// holder does not hold are reported, not refused, so a retry after a timeout is harmless.
    /// - Parameters:
    ///   - tokens: Instrument tokens; duplicates count once.
    ///   - holder: Who lets go.
    func release(_ tokens: [Int64], holder: String) async throws(SubscriptionError) -> ReleaseResult {
        var seen = Set<Int64>()
        let order = tokens.filter { seen.insert($0).inserted }
        return try await locked(order) { () throws(SubscriptionError) -> ReleaseResult in
            let current = try await storage("read subscriptions") { try await store.subscriptions(tokens: order) }
            var writes: [SubscriptionWrite] = []
            var events: [OutboxEventDraft] = []
            var result = ReleaseResult(released: [], removed: [], notHeld: [])
            var lowered: [(Int64, SubscriptionMode)] = []
            for token in order {
                guard let existing = current[token], existing.isLive, existing.holders.contains(where: { $0.holder == holder }) else {
                    result.notHeld.append(token)
                    continue
                }
                let remaining = existing.holders.filter { $0.holder != holder }
                let newMode = remaining.map(\.mode).max() ?? existing.mode
                writes.append(
                    SubscriptionWrite(
                        token: token, tradingsymbol: existing.tradingsymbol, segment: existing.segment, exchange: existing.exchange,
                        mode: newMode, status: remaining.isEmpty ? .inactive : .active,
                        holderChange: remaining.isEmpty ? .removeAll : .remove(holder)
                    )
                )
                result.released.append(token)
                if remaining.isEmpty {
                    result.removed.append(token)
                    events.append(
                        OutboxEventDraft(
                            kind: .removed, token: token, tradingsymbol: existing.tradingsymbol, segment: existing.segment,
                            mode: existing.mode, accountID: existing.accountID
                        )
                    )
                } else if newMode < existing.mode {
                    lowered.append((token, newMode))
                }
            }
            guard !writes.isEmpty else { return result }
            listCache.invalidate()
            defer { listCache.invalidate() }
            _ = try await storage("store the release (nothing was changed)") { try await store.apply(writes, events: events) }
            if !events.isEmpty { signal.notify() }
            // Narrow the feed only now that the change is committed.
            if !result.removed.isEmpty { await feed.unsubscribe(result.removed.map { UInt32(truncatingIfNeeded: $0) }) }
            await setModes(lowered)
            recordGaps(subscribed: [], modeChanged: lowered.map(\.0))
            logger.info(
                "holder released subscriptions",
                metadata: [
                    TickerLogKey.holder: "\(holder)", "subscriptions.released": "\(result.released.count)",
                    "subscriptions.removed": "\(result.removed.count)",
                ]
            )
            return result
        }
    }
}

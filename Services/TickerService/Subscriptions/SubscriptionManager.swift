import CoreMetrics
import Foundation
import BrokerWire
import Logging
import Shared
import SharedInstruments
import TickerAPIModel

/// Adds and removes holders of instrument subscriptions, keeping three things in step: the broker feed, the stored
/// rows and the events.
///
/// Ordering, so that nothing is lost or lied about:
/// - changes that widen the feed (a new instrument, a higher mode) go to the feed first, then the rows and the events
///   are written in one transaction; if the transaction fails the feed change is undone (compensation);
/// - changes that narrow it (last holder gone, lower mode) are committed first and then applied to the feed.
/// So the feed always streams at least what the database says is subscribed, and an event exists for every change
/// that was committed (the outbox relay publishes it).
struct SubscriptionManager: Sendable {
    /// One instrument asked for.
    struct Item: Sendable, Hashable {
        var token: Int64
        var mode: SubscriptionMode
        /// Pinned to this broker account when first placed (`account_id`), nil to let placement choose.
        var accountID: String? = nil
    }

    /// What a subscribe call did.
    struct SubscribeResult: Sendable {
        /// The subscriptions after the change, in the order asked.
        var subscriptions: [SubscriptionRecord]
        /// Tokens that gained their first holder (a `subscription_created` event each).
        var created: Set<Int64>
    }

    /// Which holders a removal takes away.
    enum Removal: Sendable {
        case holder(String)
        case all
    }

    let store: any SubscriptionStore
    /// Validates tokens and describes events (the shared instrument catalog).
    let instruments: any InstrumentCatalog
    let feed: any FeedControlling
    let signal: OutboxSignal
    let locks: TokenLocks
    let logger: Logger
    /// Where the first minute of a new subscription and a mode change are recorded as feed gaps (their minute holds
    /// only part of the ticks).
    var gaps = FeedGapRecorder()
    /// The encoded lists of `GET /subscriptions`, invalidated by every write below.
    var listCache = SubscriptionListCache()

    /// Adds `holder` to every instrument of `items` (all or nothing).
    /// - Parameters:
    ///   - items: Tokens and the modes asked for; a token listed twice counts once, in the higher mode.
    ///   - holder: Who asks.
    func subscribe(_ items: [Item], holder: String) async throws(SubscriptionError) -> SubscribeResult {
        var wanted: [Int64: SubscriptionMode] = [:]
        var order: [Int64] = []
        var pins: [Int64: String] = [:]
        for item in items {
            if let account = item.accountID { pins[item.token] = account }
            if let existing = wanted[item.token] {
                wanted[item.token] = max(existing, item.mode)
            } else {
                wanted[item.token] = item.mode
                order.append(item.token)
            }
        }
        let known = try await storage("look up instruments") { try await instruments.instruments(tokens: order) }
        let unknown = order.filter { known[$0] == nil }
        if !unknown.isEmpty {
            let listed = unknown.prefix(10).map(String.init).joined(separator: ", ") + (unknown.count > 10 ? ", …" : "")
            let message = unknown.count == 1
                ? "instrument \(listed) is not in the instrument registry"
                : "\(unknown.count) instruments are not in the instrument registry: \(listed)"
            throw SubscriptionError(.unknownInstrument, message)
        }

        return try await locked(order) { () throws(SubscriptionError) -> SubscribeResult in
            let current = try await storage("read subscriptions") { try await store.subscriptions(tokens: order) }
            var writes: [SubscriptionWrite] = []
            var events: [OutboxEventDraft] = []
            var toPlace: [FeedSubscription] = []
            var modeChanges: [(token: Int64, from: SubscriptionMode, to: SubscriptionMode)] = []
            for token in order {
                guard let mode = wanted[token], let instrument = known[token] else { continue }
                var write = SubscriptionWrite(
                    token: token, tradingsymbol: instrument.tradingsymbol, segment: instrument.segment, exchange: instrument.exchange,
                    mode: mode, status: .active, holderChange: .upsert(SubscriptionHolder(holder: holder, mode: mode))
                )
                if let existing = current[token], existing.isLive {
                    let others = existing.holders.filter { $0.holder != holder }.map(\.mode)
                    let effective = (others + [mode]).max() ?? mode
                    write.mode = effective
                    if effective != existing.mode { modeChanges.append((token, existing.mode, effective)) }
                } else {
                    toPlace.append(FeedSubscription(token: UInt32(truncatingIfNeeded: token), mode: mode.kiteMode, requiredAccountID: pins[token]))
                }
                writes.append(write)
            }

            // Widen the feed first.
            var placements: [Int64: FeedPlacement] = [:]
            if !toPlace.isEmpty {
                let placed: [FeedPlacement]
                do throws(FeedError) {
                    placed = try await feed.subscribe(toPlace)
                } catch {
                    throw await feedRefusal(error, requested: toPlace.count)
                }
                for placement in placed { placements[Int64(placement.token)] = placement }
            }
            let upgrades = modeChanges.filter { $0.to > $0.from }
            await setModes(upgrades.map { ($0.token, $0.to) })

            let newTokens = Set(toPlace.map { Int64($0.token) })
            for index in writes.indices where newTokens.contains(writes[index].token) {
                let placement = placements[writes[index].token]
                writes[index].accountID = placement?.accountID
                writes[index].connectionID = placement?.connectionID
                events.append(
                    OutboxEventDraft(
                        kind: .created, token: writes[index].token, tradingsymbol: writes[index].tradingsymbol,
                        segment: writes[index].segment, mode: writes[index].mode, accountID: placement?.accountID
                    )
                )
            }

            let stored: [Int64: SubscriptionRecord]
            do {
                listCache.invalidate()
                defer { listCache.invalidate() }
                stored = try await store.apply(writes, events: events)
            } catch {
                // Undo what was widened, so the feed does not stream what nobody stored.
                if !toPlace.isEmpty { await feed.unsubscribe(toPlace.map(\.token)) }
                await setModes(upgrades.map { ($0.token, $0.from) })
                logger.error(
                    "subscription not stored; feed change undone",
                    metadata: [TickerLogKey.tokens: "\(order.count)", TickerLogKey.holder: "\(holder)", TickerLogKey.error: "\(error)"]
                )
                throw SubscriptionError(.storageUnavailable, "the subscription could not be stored (nothing was changed): \(error)")
            }
            if !events.isEmpty { signal.notify() }
            // Narrow the feed after the commit (a holder lowered its own mode and was the highest).
            await setModes(modeChanges.filter { $0.to < $0.from }.map { ($0.token, $0.to) })

            let created = Set(events.map(\.token))
            recordGaps(subscribed: created, modeChanged: modeChanges.map(\.token))
            if !created.isEmpty || !modeChanges.isEmpty {
                logger.info(
                    "subscriptions changed",
                    metadata: [
                        TickerLogKey.holder: "\(holder)", "subscriptions.created": "\(created.count)",
                        "subscriptions.mode_changed": "\(modeChanges.count)", TickerLogKey.tokens: "\(order.count)",
                    ]
                )
            }
            return SubscribeResult(subscriptions: order.compactMap { stored[$0] }, created: created)
        }
    }

    /// Takes holders away from an instrument; the last one leaving removes the subscription.
    /// - Parameters:
    ///   - token: The instrument.
    ///   - removal: One holder, or all of them.
    /// - Returns: The subscription after the change (inactive when no holder is left).
    func unsubscribe(token: Int64, removal: Removal) async throws(SubscriptionError) -> SubscriptionRecord {
        try await locked([token]) { () throws(SubscriptionError) -> SubscriptionRecord in
            let found = try await storage("read the subscription") { try await store.subscription(token: token) }
            guard let existing = found, existing.isLive else {
                throw SubscriptionError(.notSubscribed, "instrument \(token) is not subscribed")
            }
            let remaining: [SubscriptionHolder]
            let change: SubscriptionWrite.HolderChange
            switch removal {
            case .all:
                remaining = []
                change = .removeAll
            case .holder(let name):
                guard existing.holders.contains(where: { $0.holder == name }) else {
                    let holders = existing.holders.map(\.holder).joined(separator: ", ")
                    throw SubscriptionError(.holderNotFound, "instrument \(token) is not held by '\(name)' (holders: \(holders))")
                }
                remaining = existing.holders.filter { $0.holder != name }
                change = remaining.isEmpty ? .removeAll : .remove(name)
            }
            let newMode = remaining.map(\.mode).max() ?? existing.mode
            let write = SubscriptionWrite(
                token: token, tradingsymbol: existing.tradingsymbol, segment: existing.segment, exchange: existing.exchange,
                mode: newMode, status: remaining.isEmpty ? .inactive : .active, holderChange: change
            )
            let events = remaining.isEmpty
                ? [OutboxEventDraft(
                    kind: .removed, token: token, tradingsymbol: existing.tradingsymbol, segment: existing.segment,
                    mode: existing.mode, accountID: existing.accountID
                )]
                : []
            listCache.invalidate()
            defer { listCache.invalidate() }
            let stored = try await storage("store the removal (nothing was changed)") { try await store.apply([write], events: events) }
            if !events.isEmpty { signal.notify() }
            // Narrow the feed only now that the change is committed.
            if remaining.isEmpty {
                await feed.unsubscribe([UInt32(truncatingIfNeeded: token)])
                logger.info("subscription removed", metadata: [TickerLogKey.token: "\(token)"])
            } else if newMode < existing.mode {
                await setModes([(token, newMode)])
                recordGaps(subscribed: [], modeChanged: [token])
            }
            guard let record = stored[token] else {
                throw SubscriptionError(.storageUnavailable, "instrument \(token) was changed but could not be read back")
            }
            return record
        }
    }

    /// One subscription.
    func subscription(token: Int64) async throws(SubscriptionError) -> SubscriptionRecord? {
        try await storage("read the subscription") { try await store.subscription(token: token) }
    }

    /// Every subscription, or only the active ones.
    /// The subscriptions in token order; a page of at most `limit` after the token `after` when `limit` is given.
    func list(activeOnly: Bool, after: Int64? = nil, limit: Int? = nil) async throws(SubscriptionError) -> [SubscriptionRecord] {
        try await storage("list subscriptions") { try await store.list(activeOnly: activeOnly, after: after, limit: limit) }
    }

    /// Puts active subscriptions back on the feed after a restart, at their previous placement where possible, and
    /// records where they landed. Each chunk is placed under its tokens' locks and re-read first, so a request that
    /// removed an instrument meanwhile is not undone.
    /// - Parameters:
    ///   - tokens: The active subscriptions to restore.
    ///   - chunkSize: Instruments per feed call (each call is all-or-nothing).
    /// - Returns: The tokens that could not be placed (to retry).
    func restore(_ tokens: [Int64], chunkSize: Int = 1000) async -> [Int64] {
        var unplaced: [Int64] = []
        var start = 0
        while start < tokens.count {
            let chunk = Array(tokens[start..<min(start + chunkSize, tokens.count)])
            start += chunkSize
            do {
                try await locks.withLocks(chunk) {
                    let current = try await store.subscriptions(tokens: chunk)
                    let live = chunk.compactMap { current[$0] }.filter(\.isLive)
                    guard !live.isEmpty else { return }
                    let requests = live.map { record in
                        FeedSubscription(
                            token: UInt32(truncatingIfNeeded: record.instrumentToken), mode: record.mode.kiteMode,
                            preferredAccountID: record.accountID, preferredConnectionID: record.connectionID, restored: true
                        )
                    }
                    let placements = try await feed.subscribe(requests)
                    listCache.invalidate()
                    defer { listCache.invalidate() }
                    try await store.recordPlacements(placements.map { (Int64($0.token), $0.accountID, $0.connectionID) })
                    TickerMetrics.restoredSubscriptions.increment(by: live.count)
                }
            } catch {
                unplaced += chunk
                logger.warning(
                    "stored subscriptions not restored yet",
                    metadata: [TickerLogKey.tokens: "\(chunk.count)", TickerLogKey.error: "\(error)"]
                )
            }
        }
        return unplaced
    }

    /// Records where instruments moved after they were placed (a rebalance, instruments a broker refused), so the list
    /// shows their connection and a restart puts them back there. A failure is logged: the instruments stream all the
    /// same, and the next restore records their placement again.
    func recordMoved(_ placements: [FeedPlacement]) async {
        guard !placements.isEmpty else { return }
        listCache.invalidate()
        defer { listCache.invalidate() }
        do {
            try await store.recordPlacements(placements.map { (Int64($0.token), $0.accountID, $0.connectionID) })
        } catch {
            logger.warning("moved instruments' placement not stored", metadata: [TickerLogKey.tokens: "\(placements.count)", TickerLogKey.error: "\(error)"])
        }
    }

    /// Brings the active-subscriptions gauge up to date.
    func updateActiveGauge() async {
        if let count = try? await store.activeCount() { TickerMetrics.subscriptionsActive.record(count) }
    }

    // MARK: Helpers

    /// One `subscribed` gap for the instruments this call placed and one `mode_changed` gap for those whose mode it
    /// changed, both at this instant: the minute it falls in has only part of their ticks.
    func recordGaps(subscribed: some Collection<Int64>, modeChanged: [Int64]) {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        gaps.record(.subscribed, startMillis: now, endMillis: now, tokens: subscribed.map { UInt32(truncatingIfNeeded: $0) })
        gaps.record(.modeChanged, startMillis: now, endMillis: now, tokens: modeChanged.map { UInt32(truncatingIfNeeded: $0) })
    }

    func locked<T: Sendable>(_ tokens: [Int64], _ body: () async throws(SubscriptionError) -> T) async throws(SubscriptionError) -> T {
        do {
            return try await locks.withLocks(tokens) { try await body() }
        } catch let error as SubscriptionError {
            throw error
        } catch {
            throw SubscriptionError(.storageUnavailable, "\(error)")
        }
    }

    func storage<T>(_ what: String, _ body: () async throws -> T) async throws(SubscriptionError) -> T {
        do {
            return try await body()
        } catch {
            logger.error("subscription storage failed", metadata: ["operation": "\(what)", TickerLogKey.error: "\(error)"])
            throw SubscriptionError(.storageUnavailable, "could not \(what): \(error)")
        }
    }

    /// Sets modes on the feed, one call per mode.
    func setModes(_ changes: [(Int64, SubscriptionMode)]) async {
        guard !changes.isEmpty else { return }
        var byMode: [SubscriptionMode: [UInt32]] = [:]
        for (token, mode) in changes { byMode[mode, default: []].append(UInt32(truncatingIfNeeded: token)) }
        for (mode, tokens) in byMode.sorted(by: { $0.key < $1.key }) { await feed.setMode(mode.kiteMode, tokens: tokens) }
    }

    /// Turns a feed refusal into the error the client sees, with the feed's occupancy for capacity problems.
    private func feedRefusal(_ error: FeedError, requested: Int) async -> SubscriptionError {
        switch error.code {
        case .capacityExhausted: break
        case .accountUnavailable: return SubscriptionError(.accountUnavailable, error.message)
        case .unknownAccount: return SubscriptionError(.unknownAccount, error.message)
        case .unplaceable: return SubscriptionError(.unplaceable, error.message)
        default: return SubscriptionError(.feedUnavailable, "the broker feed cannot take subscriptions: \(error.message)")
        }
        let status = await feed.status()
        let accounts = Set(status.connections.map(\.accountID)).count
        let connections = "\(status.connections.count) connection\(status.connections.count == 1 ? "" : "s") across \(accounts) account\(accounts == 1 ? "" : "s")"
        let occupancy = "(\(status.subscribedInstruments)/\(status.capacity) instruments)"
        let free = max(status.capacity - status.subscribedInstruments, 0)
        let what = "cannot place \(requested) new instrument\(requested == 1 ? "" : "s")"
        let message = free == 0
            ? "\(what): all \(connections) are full \(occupancy)"
            : "\(what): only \(free) free across \(connections) \(occupancy)"
        return SubscriptionError(.capacityExhausted, message)
    }
}

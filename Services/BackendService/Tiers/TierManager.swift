import Foundation
import HTTPTypes
import Logging
import ServiceRuntime
import Shared
import SharedPostgres

/// Holds and releases instruments for the tiers under one cap, keeping the tiers' tables and TickerService's holders
/// in step (docs/tiers.md, "Holding an instrument").
///
/// Ordering, as in TickerService's own subscription manager: a hold widens the broker feed (TickerService subscribes
/// the holder) inside the transaction that records it, so a refused subscribe stores nothing; a release or an
/// eviction is committed first and then applied at TickerService. Every cap decision is taken under one advisory
/// lock, so two requests or two instances never both take the last free slot.
struct TierManager: Sendable {
    /// What a hold did.
    struct HoldResult: Sendable, Equatable {
        /// Instruments the holder holds through this source after the call.
        var held: [Int64]
        /// Instruments that were not held by any tier before (they took cap room).
        var added: [Int64]
        /// Instruments the cap took from other Tier A holders to make room.
        var evicted: [Int64]
    }

    /// Why a hold or release failed.
    enum Refusal {
        static let capReached = APIError.Code("cap_reached")
        static let brokerCapacity = APIError.Code("broker_capacity")
        static let tickerUnavailable = APIError.Code("ticker_unavailable")
        static let unknownInstrument = APIError.Code.unknownInstrument
    }

    let store: TierStore
    let ticker: TickerClient
    let configuredCap: Int
    let logger: Logger

    /// The cap in force: `SUBSCRIPTION_CAP`, but never above what TickerService's connections can carry (read at each
    /// decision; when TickerService does not answer, the configured cap).
    func effectiveCap() async -> Int {
        guard let capacity = try? await ticker.feedStatus().capacity, capacity > 0 else { return configuredCap }
        return min(configuredCap, capacity)
    }

    /// Makes `holder` hold `tokens` through `source` in `tier`, evicting the least recently used Tier A instruments when
    /// the cap would be passed (Tier B and the instruments of this very request are never evicted).
    /// - Parameters:
    ///   - tokens: Instruments (duplicates count once).
    ///   - holder: TickerService's holder name.
    ///   - source: Why it holds them (a watchlist entry, on-demand, a Tier B list).
    ///   - tier: A or B.
    ///   - userID: The user, for Tier A holdings of a user (eviction notices).
    ///   - mode: The mode to subscribe in.
    ///   - actor: Who asked (the audit log's `actor`: `user:42`, `api`, `tier-b`, `eod`).
    ///   - reason: The audit log's reason.
    ///   - alsoInTransaction: More statements to commit with the holding (the watchlist row).
    func hold(
        _ tokens: [Int64], holder: String, source: String, tier: Tier, userID: String?, mode: SubscriptionMode, actor: String, reason: String,
        alsoInTransaction: @Sendable (PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> HoldResult {
        var seen = Set<Int64>()
        let wanted = tokens.filter { seen.insert($0).inserted }
        guard !wanted.isEmpty else { return HoldResult(held: [], added: [], evicted: []) }
        let cap = await effectiveCap()
        let (result, evictedHoldings) = try await store.underCapLock { connection -> (HoldResult, [TierHolding]) in
            let alreadyHeld = try await store.held(connection, among: wanted)
            let added = wanted.filter { !alreadyHeld.contains($0) }
            let count = try await store.heldCount(connection)
            let over = count + added.count - cap
            var evicted: [TierHolding] = []
            var evictedTokens: [Int64] = []
            if over > 0 {
                guard tier == .a else {
                    TierMetrics.capRefused()
                    throw APIError(
                        .conflict, Refusal.capReached,
                        "Tier B needs \(added.count) more instruments but only \(max(cap - count, 0)) of the cap of \(cap) are free; Tier B never evicts"
                    )
                }
                evictedTokens = try await store.leastRecentlyUsedTierA(connection, count: over, excluding: wanted)
                guard evictedTokens.count == over else {
                    TierMetrics.capRefused()
                    throw APIError(
                        .conflict, Refusal.capReached,
                        "the subscription cap of \(cap) is reached (\(count) held, \(added.count) more asked) and only \(evictedTokens.count) Tier A instruments can be evicted; nothing was subscribed"
                    )
                }
                evicted = try await store.deleteTierA(connection, tokens: evictedTokens)
                try await store.recordEvictions(connection, evicted, reason: "cap \(cap) reached by \(actor)")
                try await store.forgetUnheld(connection, among: evictedTokens)
            }
            let inserted = try await store.insert(
                connection, wanted.map { TierHolding(instrumentToken: $0, holder: holder, source: source, tier: tier, userID: userID) }
            )
            try await store.touch(wanted, connection: connection)
            var log = evicted.map {
                SubscriptionLogEntry(
                    instrumentToken: $0.instrumentToken, action: .evict, holder: $0.holder, tier: .a,
                    reason: "least recently used; cap \(cap) reached by \(actor)", actor: actor
                )
            }
            log += inserted.map { SubscriptionLogEntry(instrumentToken: $0.instrumentToken, action: .subscribe, holder: holder, tier: tier, reason: reason, actor: actor) }
            try await store.log(connection, log)
            try await alsoInTransaction(connection)
            // Widen the feed before the commit: a refusal rolls everything back.
            let outcome: TickerSubscribeOutcome
            do {
                outcome = try await ticker.subscribeInBatches(wanted, mode: mode, holder: holder)
            } catch let error as TickerClientError {
                throw Self.apiError(error, subscribing: wanted.count)
            }
            if let message = outcome.capacityError {
                if !outcome.subscribed.isEmpty { await releaseAtTicker(outcome.subscribed, holder: holder, why: "undo a partial subscribe") }
                throw APIError(.conflict, Refusal.brokerCapacity, "the brokers cannot take more instruments: \(message)")
            }
            return (HoldResult(held: wanted, added: added, evicted: evictedTokens), evicted)
        }
        TierMetrics.held(result.added.count, tier: tier)
        if !evictedHoldings.isEmpty {
            TierMetrics.evicted(result.evicted.count)
            logger.info(
                "cap reached: least recently used Tier A instruments evicted",
                metadata: [LogKey.instruments: "\(result.evicted.count)", "cap": "\(cap)", "actor": "\(actor)"]
            )
            await releaseAtTicker(evictedHoldings)
        }
        await refreshGauge()
        return result
    }

    /// Takes away one source's holdings of `holder` (all of them, or only `tokens`); an instrument the holder still
    /// holds through another source stays subscribed for it.
    /// - Returns: The instruments this source held and no longer does.
    @discardableResult
    func release(
        holder: String, source: String, tokens: [Int64]? = nil, action: SubscriptionLogEntry.Action = .unsubscribe, actor: String, reason: String,
        alsoInTransaction: @Sendable (PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> [Int64] {
        let (removed, letGo) = try await store.postgres.transaction { connection -> ([TierHolding], [Int64]) in
            let removed = try await store.delete(connection, holder: holder, source: source, tokens: tokens)
            let removedTokens = removed.map(\.instrumentToken)
            let kept = try await store.stillHeld(connection, holder: holder, among: removedTokens)
            try await store.log(
                connection,
                removed.map { SubscriptionLogEntry(instrumentToken: $0.instrumentToken, action: action, holder: holder, tier: $0.tier, reason: reason, actor: actor) }
            )
            try await store.forgetUnheld(connection, among: removedTokens)
            try await alsoInTransaction(connection)
            return (removed, removedTokens.filter { !kept.contains($0) })
        }
        TierMetrics.released(removed.count, reason: action.rawValue)
        await releaseAtTicker(letGo, holder: holder, why: reason)
        await refreshGauge()
        return removed.map(\.instrumentToken)
    }

    /// Makes `holder` hold exactly `tokens` through `source`, make-before-break: the new ones are held (and subscribed)
    /// first, then the ones the source no longer wants are released (a re-centred chain, a moved Tier B window).
    /// - Returns: The hold's result, and the tokens released.
    @discardableResult
    func replace(
        _ tokens: [Int64], holder: String, source: String, tier: Tier, userID: String?, mode: SubscriptionMode, actor: String, reason: String,
        releaseReason: String, alsoInTransaction: @Sendable (PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> (held: HoldResult, released: [Int64]) {
        let current = try await store.tokens(holder: holder, source: source)
        let result = tokens.isEmpty
            ? HoldResult(held: [], added: [], evicted: [])
            : try await hold(tokens, holder: holder, source: source, tier: tier, userID: userID, mode: mode, actor: actor, reason: reason, alsoInTransaction: alsoInTransaction)
        let wanted = Set(tokens)
        let stale = current.filter { !wanted.contains($0) }
        guard !stale.isEmpty else { return (result, []) }
        return (result, try await release(holder: holder, source: source, tokens: stale, actor: actor, reason: releaseReason))
    }

    /// Releases every Tier A holding at once (the end-of-day cleanup), with `alsoInTransaction` committed alongside.
    /// - Returns: How many holdings were released.
    func releaseAllTierA(actor: String, reason: String, alsoInTransaction: @Sendable (PostgresConnection) async throws -> Void) async throws -> Int {
        let removed = try await store.postgres.transaction { connection -> [TierHolding] in
            let removed = try await store.deleteAllTierA(connection)
            try await store.log(
                connection,
                removed.map { SubscriptionLogEntry(instrumentToken: $0.instrumentToken, action: .eodRelease, holder: $0.holder, tier: .a, reason: reason, actor: actor) }
            )
            try await store.forgetUnheld(connection, among: removed.map(\.instrumentToken))
            try await alsoInTransaction(connection)
            return removed
        }
        TierMetrics.released(removed.count, reason: SubscriptionLogEntry.Action.eodRelease.rawValue)
        await releaseAtTicker(removed)
        await refreshGauge()
        return removed.count
    }

    /// Marks instruments used (``InstrumentUse``).
    func touch(_ tokens: [Int64]) async {
        do {
            try await store.touch(tokens)
        } catch {
            logger.debug("instrument use not recorded", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// The tiers' counts into the gauge.
    func refreshGauge() async {
        if let counts = try? await store.tierCounts() { TierMetrics.gauge(a: counts.a, b: counts.b) }
    }

    // MARK: TickerService

    /// Lets each holder of `holdings` go of its instruments at TickerService (after a committed eviction or release).
    private func releaseAtTicker(_ holdings: [TierHolding]) async {
        var byHolder: [String: [Int64]] = [:]
        for holding in holdings { byHolder[holding.holder, default: []].append(holding.instrumentToken) }
        for (holder, tokens) in byHolder.sorted(by: { $0.key < $1.key }) { await releaseAtTicker(tokens, holder: holder, why: "evicted") }
    }

    private func releaseAtTicker(_ tokens: [Int64], holder: String, why: String) async {
        guard !tokens.isEmpty else { return }
        do {
            _ = try await ticker.release(tokens, holder: holder)
        } catch {
            TierMetrics.tickerFailed("release")
            logger.error(
                "TickerService did not release a committed change; the holder keeps streaming until it is retried",
                metadata: ["holder": "\(holder)", LogKey.instruments: "\(tokens.count)", LogKey.reason: "\(why)", LogKey.error: "\(error)"]
            )
        }
    }

    static func apiError(_ error: TickerClientError, subscribing count: Int) -> APIError {
        if error.status == 404 || error.status == 422 {
            return APIError(.notFound, Refusal.unknownInstrument, "TickerService refused the instruments: \(error.message)")
        }
        return APIError(
            .serviceUnavailable, Refusal.tickerUnavailable, "TickerService could not subscribe \(count) instruments (nothing was stored): \(error.message)"
        )
    }
}

extension TierManager: InstrumentUse {
    func touched(_ tokens: [Int64]) async { await touch(tokens) }
}

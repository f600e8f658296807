import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceRuntime
import Shared
import SharedBasics
import SharedInstruments
import SharedPostgres

/// Users' watchlists over the tiers: adding an underlying holds its option chain around the money (the nearest expiry,
/// `WATCHLIST_CHAIN_STRIKES` strikes × CE/PE) and the underlying itself for `user:{id}`; adding an instrument holds it.
/// Two users holding the same instrument make one broker subscription (TickerService counts holders); one letting go
/// never drops the other's.
struct WatchlistService: Sendable {
    /// What an add or a remove did.
    struct Change: Sendable {
        var entry: WatchlistEntry
        /// Whether the entry is new (add) or existed (remove).
        var changed: Bool
        /// The instruments the entry holds (add) or held (remove).
        var instruments: [Int64]
        /// Instruments the cap evicted from others to make room.
        var evicted: [Int64]
    }

    let store: WatchlistStore
    let tiers: TierManager
    let registry: InstrumentRegistry
    let atm: ATMEngine
    let atmCache: ATMCacheStore
    let settings: TierConfiguration
    let logger: Logger

    /// Adds an underlying (`symbol`) or one instrument (`instrumentToken`) to a user's watchlist.
    func add(userID: String, symbol: String?, instrumentToken: Int64?) async throws -> Change {
        var entry = try await resolve(userID: userID, symbol: symbol, instrumentToken: instrumentToken)
        let existed = try await store.contains(entry)
        if !existed, try await store.count(userID: userID) >= settings.watchlistMaxEntries {
            throw APIError(
                .conflict, "watchlist_full", "user \(userID)'s watchlist already has \(settings.watchlistMaxEntries) entries (WATCHLIST_MAX_ENTRIES)"
            )
        }
        var tokens: [Int64]
        var centred: ChainWindow?
        if entry.kind == .underlying {
            let window = try await atm.window(symbol: entry.symbol, expiry: nil, underlyingLTP: nil, strikes: settings.watchlistChainStrikes)
            centred = window
            entry.expiry = window.expiry
            entry.atmStrike = window.atmStrike
            entry.strikes = settings.watchlistChainStrikes
            tokens = window.optionTokens
            if let underlying = window.underlyingToken { tokens.insert(underlying, at: 0) }
        } else {
            tokens = [entry.instrumentToken]
        }
        let stored = entry
        let holder = TierHolder.user(userID)
        let reason = "watchlist add \(entry.symbol)"
        let result: TierManager.HoldResult
        if entry.kind == .underlying {
            // The chain's source is this underlying's alone: an existing entry is re-centred, the strikes it no longer
            // covers let go after the new ones are held.
            result = try await tiers.replace(
                tokens, holder: holder, source: entry.source, tier: .a, userID: userID, mode: settings.tierAMode, actor: holder, reason: reason,
                releaseReason: "watchlist chain re-centred", alsoInTransaction: { connection in try await store.upsert(stored, on: connection) }
            ).held
        } else {
            // Single instruments share one source: holding adds this one and lets go of nothing.
            result = try await tiers.hold(
                tokens, holder: holder, source: entry.source, tier: .a, userID: userID, mode: settings.tierAMode, actor: holder, reason: reason,
                alsoInTransaction: { connection in try await store.upsert(stored, on: connection) }
            )
        }
        if let centred { await atmCache.record(centred) }
        return Change(entry: entry, changed: !existed, instruments: result.held, evicted: result.evicted)
    }

    /// Re-centres an underlying entry's chain when the price has moved past `ATM_RECENTER_STRIKES` strikes (or its
    /// expiry has passed): the new strikes are held before the far ones are let go (make-before-break).
    /// - Returns: Whether the entry was re-centred.
    func recenter(_ entry: WatchlistEntry) async throws -> Bool {
        guard entry.kind == .underlying, let atmStrike = entry.atmStrike, let strikes = entry.strikes else { return false }
        let listed = registry.expiries(underlying: entry.symbol)
        let expiry = entry.expiry.flatMap { listed.contains($0) ? $0 : nil }
        let window = try await atm.window(symbol: entry.symbol, expiry: expiry, underlyingLTP: nil, strikes: strikes)
        let held = ChainWindow(
            symbol: entry.symbol, expiry: window.expiry, underlyingToken: window.underlyingToken, underlyingLTP: window.underlyingLTP,
            priceSource: window.priceSource, atmStrike: atmStrike, strikeStep: window.strikeStep, rows: []
        )
        guard expiry == nil || atm.shouldRecalculate(window: held, price: window.underlyingLTP) else { return false }
        var moved = entry
        moved.expiry = window.expiry
        moved.atmStrike = window.atmStrike
        var tokens = window.optionTokens
        if let underlying = window.underlyingToken { tokens.insert(underlying, at: 0) }
        let stored = moved
        try await tiers.replace(
            tokens, holder: TierHolder.user(entry.userID), source: entry.source, tier: .a, userID: entry.userID, mode: settings.tierAMode,
            actor: "recenter", reason: "chain re-centred on \(window.atmStrike)", releaseReason: "outside the re-centred chain",
            alsoInTransaction: { connection in try await store.upsert(stored, on: connection) }
        )
        await atmCache.record(window)
        return true
    }

    /// Removes an entry and lets go of what it held (what the user holds through another entry stays).
    func remove(userID: String, symbol: String?, instrumentToken: Int64?) async throws -> Change {
        let entry = try await resolve(userID: userID, symbol: symbol, instrumentToken: instrumentToken)
        guard try await store.contains(entry) else {
            throw APIError(.notFound, "not_in_watchlist", "\(entry.symbol) is not on user \(userID)'s watchlist")
        }
        let released = try await tiers.release(
            holder: TierHolder.user(userID), source: entry.source, tokens: entry.kind == .instrument ? [entry.instrumentToken] : nil,
            actor: TierHolder.user(userID), reason: "watchlist remove \(entry.symbol)",
            alsoInTransaction: { connection in _ = try await store.delete(entry, on: connection) }
        )
        return Change(entry: entry, changed: true, instruments: released, evicted: [])
    }

    /// Empties every watchlist and lets go of everything they held.
    /// - Returns: How many entries were removed.
    func clearAll(actor: String, reason: String) async throws -> Int {
        var removed = 0
        for userID in try await store.users() {
            for entry in try await store.entries(userID: userID) {
                try await tiers.release(
                    holder: TierHolder.user(userID), source: entry.source, tokens: entry.kind == .instrument ? [entry.instrumentToken] : nil,
                    actor: actor, reason: reason, alsoInTransaction: { connection in _ = try await store.delete(entry, on: connection) }
                )
                removed += 1
            }
        }
        return removed
    }

    /// The entry a request names: an underlying with options, an instrument by token, or a plain instrument by symbol.
    private func resolve(userID: String, symbol: String?, instrumentToken: Int64?) async throws -> WatchlistEntry {
        try registry.requireLoaded()
        switch (symbol, instrumentToken) {
        case (.some, .some):
            throw APIError(.unprocessableContent, .invalidParameter, "give symbol or instrument_token, not both")
        case (nil, nil):
            throw APIError(.unprocessableContent, .missingParameter, "symbol or instrument_token is required")
        case (nil, .some(let token)):
            guard token > 0, token <= Int64(UInt32.max) else {
                throw APIError(.unprocessableContent, .invalidParameter, "instrument_token must be a positive integer up to \(UInt32.max)", field: "instrument_token")
            }
            guard let instrument = registry.instrument(token: token) else {
                throw APIError(.notFound, .unknownInstrument, "instrument \(token) is not in the instrument registry")
            }
            return WatchlistEntry(userID: userID, kind: .instrument, symbol: instrument.tradingsymbol, instrumentToken: token)
        case (.some(let text), nil):
            let name = text.trimmingCharacters(in: .whitespaces).uppercased()
            guard !name.isEmpty, name.count <= 64 else {
                throw APIError(.unprocessableContent, .invalidParameter, "symbol must be 1-64 characters", field: "symbol")
            }
            if registry.isUnderlying(name) {
                return WatchlistEntry(userID: userID, kind: .underlying, symbol: name, instrumentToken: 0)
            }
            for exchange in ["NSE", "BSE", "MCX", "NFO", "BFO"] {
                if let instrument = registry.instrument(tradingsymbol: name, exchange: exchange) {
                    return WatchlistEntry(userID: userID, kind: .instrument, symbol: instrument.tradingsymbol, instrumentToken: instrument.instrumentToken)
                }
            }
            throw APIError(.notFound, .unknownSymbol, "\(Excerpt.quoted(text)) is neither an underlying with options nor a trading symbol in the registry")
        }
    }
}

extension WatchlistService: WatchlistTokens {
    func watchlistTokens(userID: String) async throws -> [Int64]? {
        let tokens = try await tiers.store.tokens(holder: TierHolder.user(userID), sourcePrefix: "watchlist:")
        if tokens.isEmpty, try await store.count(userID: userID) == 0 { return nil }
        return tokens
    }
}

import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime
import SharedBasics
import SharedInstruments

/// Subscribes Tier B (seed 004's always-on list) at startup, without the seed's `time.sleep(2)`: it holds the
/// underlyings first, waits (up to `TIER_B_PRICE_TIMEOUT`) until their live prices have arrived, then holds each index's
/// and MCX commodity's option chains around the money and the MCX futures, and reports what it had to skip.
///
/// It syncs rather than adds: a chain whose window moved since the last start (a new day, a new price) lets go of the
/// strikes it no longer covers, so Tier B does not grow across restarts. A symbol skipped for want of a price keeps
/// what it held.
struct TierBPreloader: Service {
    let tiers: TierManager
    let registry: InstrumentRegistry
    let atm: ATMEngine
    let atmCache: ATMCacheStore
    let settings: TierConfiguration
    let report: TierBReport
    let logger: Logger
    var pollInterval: Duration = .milliseconds(250)

    static let underlyingsSource = TierSource.tierB("underlyings")
    static let mcxFuturesSource = TierSource.tierB("mcx-futures")

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            do {
                try await preload()
            } catch is CancellationError {
                return
            } catch {
                report.update { $0.state = "failed" }
                logger.error("Tier B preload failed", metadata: [LogKey.error: "\(error)"])
            }
        }
        // A service that returns stops the whole group: stay until the process stops.
        try? await gracefulShutdown()
    }

    /// One preload.
    func preload() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started.advanced(by: settings.tierBPriceTimeout)
        report.update { $0.state = "waiting_for_prices" }
        // The registry comes from the instrument table TickerService fills; wait for it like for the prices.
        while registry.count == 0, clock.now < deadline { try await Task.sleep(for: pollInterval) }
        var skipped: [TierBReportBody.Skipped] = []
        let chainSpecs = settings.tierBIndexOptions + settings.tierBMCXOptions
        var desired: [String: [Int64]] = [:]

        // 1. The underlyings (an index, or an MCX commodity's nearest future), so that their prices start to flow.
        var underlyings: [String: Int64] = [:]
        for spec in chainSpecs {
            if let instrument = registry.priceInstrument(underlying: spec.symbol) {
                underlyings[spec.symbol] = instrument.instrumentToken
            } else {
                skipped.append(.init(symbol: spec.symbol, reason: "not in the instrument registry"))
            }
        }
        desired[Self.underlyingsSource] = Array(Set(underlyings.values)).sorted()
        try await sync(Self.underlyingsSource, desired[Self.underlyingsSource] ?? [])

        // 2. MCX futures need no price.
        var futures: [Int64] = []
        for symbol in settings.tierBMCXFutures {
            let listed = registry.futures(underlying: symbol)
            if listed.isEmpty { skipped.append(.init(symbol: symbol, reason: "no listed futures")) }
            futures += listed.map(\.instrumentToken)
        }
        try await sync(Self.mcxFuturesSource, futures)

        // 3. Wait for the live prices, then the chains around the money.
        var pending = Set(underlyings.keys)
        var prices: [String: Double] = [:]
        while !pending.isEmpty {
            for symbol in pending {
                if let price = await atm.underlyingPrice(symbol: symbol)?.price, price > 0 {
                    prices[symbol] = price
                    pending.remove(symbol)
                }
            }
            if pending.isEmpty || clock.now >= deadline { break }
            try await Task.sleep(for: pollInterval)
        }
        for symbol in pending.sorted() {
            skipped.append(.init(symbol: symbol, reason: "no live price within \(settings.tierBPriceTimeout.components.seconds) s"))
        }
        let pricesKnown = clock.now
        report.update { $0.state = "subscribing" }
        for spec in chainSpecs where prices[spec.symbol] != nil {
            var tokens: [Int64] = []
            for expiry in registry.expiries(underlying: spec.symbol).prefix(spec.expiries) {
                do {
                    let window = try await atm.window(symbol: spec.symbol, expiry: expiry, underlyingLTP: prices[spec.symbol], strikes: spec.strikes)
                    tokens += window.optionTokens
                    await atmCache.record(window)
                } catch {
                    skipped.append(.init(symbol: "\(spec.symbol) \(expiry)", reason: "\(error)"))
                }
            }
            do {
                try await sync(TierSource.tierB(spec.symbol), tokens)
            } catch let error as APIError {
                skipped.append(.init(symbol: spec.symbol, reason: error.message))
            }
        }
        let counts = try await tiers.store.tierCounts()
        let milliseconds = Int((clock.now - started).wholeMilliseconds)
        let subscribing = Int((clock.now - pricesKnown).wholeMilliseconds)
        report.update {
            $0.state = "loaded"
            $0.instruments = counts.b
            $0.skipped = skipped
            $0.durationMs = Nullable(milliseconds)
            $0.subscribeMs = Nullable(subscribing)
        }
        logger.info(
            "Tier B loaded",
            metadata: [
                LogKey.instruments: "\(counts.b)", "skipped": "\(skipped.map { "\($0.symbol): \($0.reason)" })", "duration_ms": "\(milliseconds)",
                "subscribe_ms": "\(subscribing)",
            ]
        )
    }

    /// Makes Tier B hold exactly `tokens` through `source`: the new ones subscribed first, then the ones no longer
    /// wanted released (make-before-break).
    private func sync(_ source: String, _ tokens: [Int64]) async throws {
        try await tiers.replace(
            tokens, holder: TierHolder.alwaysOn, source: source, tier: .b, userID: nil, mode: settings.tierBMode, actor: "tier-b",
            reason: "always-on \(source)", releaseReason: "always-on window moved"
        )
    }
}

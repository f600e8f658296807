import Foundation
import ServiceRuntime
import SharedInstruments

/// Builds seed 004's option chain: the window of strikes around the money (``ATMEngine``), each call and put with its
/// live quote (``LiveQuotes``; `null` when none has arrived) and, beyond the seed, implied volatility and delta from the
/// live option and underlying prices (``OptionPricing``). Viewing a chain counts as a use of its instruments for the
/// cap's least-recently-used eviction.
struct OptionChainService: Sendable {
    let registry: InstrumentRegistry
    let atm: ATMEngine
    let quotes: LiveQuotes
    let use: any InstrumentUse
    /// `OPTION_RISK_FREE_RATE`.
    let rate: Double
    let now: @Sendable () -> Date

    func chain(symbol: String, expiry: String?, underlyingLTP: Double?, strikes: Int) async throws -> OptionChainBody {
        let window = try await atm.window(symbol: symbol, expiry: expiry, underlyingLTP: underlyingLTP, strikes: strikes)
        let future = settlingFuture(window)
        var wanted = window.optionTokens
        if let future { wanted.append(future.instrumentToken) }
        let live = try await quotes.quotes(wanted)
        let exchange = window.rows.lazy.compactMap { $0.call ?? $0.put }.first?.exchange ?? "NFO"
        let years = OptionPricing.yearsToExpiry(window.expiry, exchange: exchange, now: now()) ?? 0
        let pricing = Self.forward(window: window, future: future.flatMap { live[$0.instrumentToken]?.ltp }, years: years, rate: rate, exchange: exchange)

        func leg(_ option: Instrument?) -> Nullable<OptionChainBody.Leg> {
            guard let option else { return nil }
            let quote = live[option.instrumentToken]
            var iv: Double?
            var delta: Double?
            if let quote, let pricing, years > 0 {
                let call = option.instrumentType == InstrumentType.call
                iv = OptionPricing.impliedVolatility(price: quote.ltp, call: call, forward: pricing.forward, strike: option.strike, years: years, rate: rate)
                delta = iv.map {
                    OptionPricing.delta(call: call, model: pricing.model, forward: pricing.forward, strike: option.strike, years: years, rate: rate, volatility: $0)
                }
            }
            return Nullable(
                OptionChainBody.Leg(
                    instrumentToken: option.instrumentToken, tradingsymbol: option.tradingsymbol, lotSize: option.lotSize, quote: Nullable(quote),
                    iv: Nullable(iv), delta: Nullable(delta)
                )
            )
        }
        let rows = window.rows.map { row in
            OptionChainBody.Row(strike: row.strike, atm: row.strike == window.atmStrike, ce: leg(row.call), pe: leg(row.put))
        }
        await use.touched(window.optionTokens)
        return OptionChainBody(
            symbol: window.symbol, expiry: window.expiry, expiries: registry.expiries(underlying: window.symbol), underlyingLTP: window.underlyingLTP,
            underlying: .init(instrumentToken: Nullable(window.underlyingToken), ltp: window.underlyingLTP, source: window.priceSource),
            atmStrike: window.atmStrike, strikeStep: window.strikeStep, model: Nullable(pricing?.model), rate: rate, yearsToExpiry: max(0, years),
            strikes: rows, count: rows.count
        )
    }

    /// The future the options settle against: on NSE/BSE the one expiring the same day, on MCX the nearest expiring on
    /// or after the options.
    func settlingFuture(_ window: ChainWindow) -> Instrument? {
        let futures = registry.futures(underlying: window.symbol)
        let isMCX = window.rows.lazy.compactMap { $0.call ?? $0.put }.first?.exchange == "MCX"
        return isMCX ? futures.first { ($0.expiry ?? "") >= window.expiry } : futures.first { $0.expiry == window.expiry }
    }

    /// What the greeks are written on: the settling future's live price (Black-76), else the spot grown at the rate
    /// (Black-Scholes; not on MCX, whose underlying is the future). A caller's `underlying_ltp` is a spot price, except
    /// on MCX where it is the future's.
    static func forward(window: ChainWindow, future: Double?, years: Double, rate: Double, exchange: String) -> (forward: Double, model: OptionModel)? {
        if exchange == "MCX" {
            if window.priceSource == .caller { return (window.underlyingLTP, .black76) }
            if let future, future > 0 { return (future, .black76) }
            return window.underlyingLTP > 0 ? (window.underlyingLTP, .black76) : nil
        }
        if window.priceSource != .caller, let future, future > 0 { return (future, .black76) }
        guard window.underlyingLTP > 0 else { return nil }
        return (window.underlyingLTP * exp(rate * max(0, years)), .blackScholes)
    }
}

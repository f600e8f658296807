import Foundation

/// Prices one instrument from its underlying's log offset during one minute. Time to expiry and the smile's
/// reference are fixed for the minute, so the price is monotonic in the underlying within it (rising for
/// spot, futures and calls; falling for puts).
struct InstrumentPricer {
    let terms: InstrumentTerms
    let basePrice: Double
    private let carry: Double
    private let years: Double
    private let volatility: Double

    /// - Parameters:
    ///   - minuteStart: Unix second starting the minute being priced.
    ///   - reference: The underlying's price at the start of that IST day (the smile's anchor).
    init(terms: InstrumentTerms, underlying: UnderlyingInfo, minuteStart: Int64, reference: Double) {
        self.terms = terms
        basePrice = underlying.path.basePrice
        switch terms.kind {
        case .index, .equity:
            carry = 1
            years = 0
            volatility = 0
        case .future:
            let t = Double(max(0, terms.expirySecond - minuteStart)) / OptionPricing.secondsPerYear
            carry = exp(OptionPricing.riskFreeRate * t)
            years = t
            volatility = 0
        case .call, .put:
            let t = Double(max(0, terms.carrySecond - minuteStart)) / OptionPricing.secondsPerYear
            carry = exp(OptionPricing.riskFreeRate * t)
            years = Double(max(0, terms.expirySecond - minuteStart)) / OptionPricing.secondsPerYear
            volatility = OptionPricing.impliedVolatility(atm: underlying.impliedVolatility, strike: terms.strike, reference: reference)
        }
    }

    /// Whether the price falls as the underlying rises.
    var isDecreasing: Bool { terms.kind == .put }

    /// The tick-rounded price when the underlying's log offset is `logOffset`.
    func price(logOffset: Double) -> Double {
        let spot = basePrice * exp(logOffset)
        let raw: Double
        switch terms.kind {
        case .index, .equity: raw = spot
        case .future: raw = spot * carry
        case .call, .put:
            raw = OptionPricing.price(call: terms.kind == .call, forward: spot * carry, strike: terms.strike, years: years,
                                      volatility: volatility)
        }
        return round(raw)
    }

    /// Rounds to the tick (at least one tick) so that whole ticks print as exact decimals.
    func round(_ value: Double) -> Double {
        let ticks = max(1, (value * terms.ticksPerUnit).rounded())
        return ticks / terms.ticksPerUnit
    }

    /// The instrument's (high, low) over a span where the underlying's log offset ranged over [low, high].
    func range(highOffset: Double, lowOffset: Double) -> (high: Double, low: Double) {
        let a = price(logOffset: highOffset)
        let b = price(logOffset: lowOffset)
        return isDecreasing ? (b, a) : (a, b)
    }
}

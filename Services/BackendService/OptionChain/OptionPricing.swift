import Foundation

/// Which model an option's implied volatility and delta come from (docs/tiers.md, "Greeks").
enum OptionModel: String, Codable, Sendable {
    /// Black-76 on the live price of the future the option settles against (same expiry on NFO/BFO; on MCX the nearest
    /// future expiring on or after the option): `F` is that future's last price.
    case black76 = "black_76"
    /// Black-Scholes on the live spot (index or equity) with no dividend: `F = S·e^{rT}`.
    case blackScholes = "black_scholes"
}

/// European option pricing on a forward, `e^{-rT}(F·N(d1) − K·N(d2))` for a call, the put by parity: Black-76 when
/// `F` is a future's price, Black-Scholes when `F = S·e^{rT}`. Implied volatility by bisection (monotone in σ, so it
/// always converges), delta with respect to what the model is written on (the future for Black-76, the spot for
/// Black-Scholes).
enum OptionPricing {
    static let secondsPerYear = 365.0 * 86_400

    static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// The option's value.
    /// - Parameters:
    ///   - call: A call (else a put).
    ///   - forward: The forward (or future) price.
    ///   - strike: The strike.
    ///   - years: Time to expiry, > 0.
    ///   - rate: The continuously compounded risk-free rate.
    ///   - volatility: σ, annualised.
    static func price(call: Bool, forward: Double, strike: Double, years: Double, rate: Double, volatility: Double) -> Double {
        let discount = exp(-rate * years)
        let (d1, d2) = d(forward: forward, strike: strike, years: years, volatility: volatility)
        return call
            ? discount * (forward * normalCDF(d1) - strike * normalCDF(d2))
            : discount * (strike * normalCDF(-d2) - forward * normalCDF(-d1))
    }

    static func d(forward: Double, strike: Double, years: Double, volatility: Double) -> (Double, Double) {
        let sd = volatility * years.squareRoot()
        let d1 = (log(forward / strike) + 0.5 * sd * sd) / sd
        return (d1, d1 - sd)
    }

    /// The σ at which the model's value equals `price`, between 0.1% and 500%; nil when the price is outside what any
    /// such σ gives (below the discounted intrinsic value, above the discounted forward or strike), or when the inputs
    /// are not positive.
    static func impliedVolatility(price: Double, call: Bool, forward: Double, strike: Double, years: Double, rate: Double) -> Double? {
        guard price > 0, forward > 0, strike > 0, years > 0 else { return nil }
        var low = 0.001
        var high = 5.0
        let atLow = Self.price(call: call, forward: forward, strike: strike, years: years, rate: rate, volatility: low)
        let atHigh = Self.price(call: call, forward: forward, strike: strike, years: years, rate: rate, volatility: high)
        guard price >= atLow, price <= atHigh else { return nil }
        for _ in 0..<100 {
            let middle = (low + high) / 2
            if Self.price(call: call, forward: forward, strike: strike, years: years, rate: rate, volatility: middle) < price {
                low = middle
            } else {
                high = middle
            }
            if high - low < 1e-7 { break }
        }
        return (low + high) / 2
    }

    /// ∂value/∂underlying: Black-76's `e^{-rT}·N(d1)` (call) with respect to the future, or Black-Scholes' `N(d1)` with
    /// respect to the spot; a put's is the call's minus `e^{-rT}` (Black-76) or 1 (Black-Scholes).
    static func delta(call: Bool, model: OptionModel, forward: Double, strike: Double, years: Double, rate: Double, volatility: Double) -> Double {
        let (d1, _) = d(forward: forward, strike: strike, years: years, volatility: volatility)
        switch model {
        case .black76:
            let discount = exp(-rate * years)
            return call ? discount * normalCDF(d1) : -discount * normalCDF(-d1)
        case .blackScholes:
            return call ? normalCDF(d1) : normalCDF(d1) - 1
        }
    }

    /// Years from `now` to the expiry day's close in IST: 15:30 on NSE/BSE derivatives, 23:30 on MCX.
    /// - Parameters:
    ///   - expiry: `yyyy-MM-dd`.
    ///   - exchange: The option's exchange (`NFO`, `BFO`, `MCX`).
    static func yearsToExpiry(_ expiry: String, exchange: String, now: Date) -> Double? {
        guard let day = IndianMarket.parseDay(expiry) else { return nil }
        let closeMinute = exchange.uppercased() == "MCX" ? 23 * 60 + 30 : 15 * 60 + 30
        let close = IndianMarket.startOfDay(day).addingTimeInterval(TimeInterval(closeMinute * 60))
        return close.timeIntervalSince(now) / secondsPerYear
    }
}

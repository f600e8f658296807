import Foundation

/// Black–Scholes/Black-76 with a sticky-strike smile. Prices are monotonic in the underlying for fixed time, which is
/// what lets a candle's high and low be priced from the underlying's high and low.
enum OptionPricing {
    static let riskFreeRate = 0.065
    static let secondsPerYear = 365.0 * 86_400

    static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// Implied volatility for a strike: a put skew and a smile around the reference (the day's opening underlying).
    /// Moneyness is clamped so far wings flatten and call prices keep falling with strike.
    static func impliedVolatility(atm: Double, strike: Double, reference: Double) -> Double {
        let m = min(0.35, max(-0.35, log(strike / reference)))
        return atm * (1 - 0.8 * m + 2.5 * m * m)
    }

    /// European option value on a forward, discounted: `e^{-rT} (F N(d1) - K N(d2))` for a call.
    /// - Parameters:
    ///   - forward: The forward price of what the option is written on.
    ///   - years: Time to expiry; at or below zero the intrinsic value is returned.
    static func price(call: Bool, forward: Double, strike: Double, years: Double, volatility: Double) -> Double {
        guard years > 0, volatility > 0 else {
            return call ? max(0, forward - strike) : max(0, strike - forward)
        }
        let discount = exp(-riskFreeRate * years)
        let sd = volatility * years.squareRoot()
        let d1 = (log(forward / strike) + 0.5 * sd * sd) / sd
        let d2 = d1 - sd
        if call {
            return discount * (forward * normalCDF(d1) - strike * normalCDF(d2))
        }
        return discount * (strike * normalCDF(-d2) - forward * normalCDF(-d1))
    }
}

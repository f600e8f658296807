import Foundation
import Testing

@testable import BackendService

/// Black-76 / Black-Scholes, implied volatility and delta against values worked by hand and against themselves.
@Suite("Option pricing: implied volatility and delta")
struct OptionPricingTests {
    @Test("a known value: F = K = 100, σ = 20%, T = 1, r = 0 gives 7.9656 for the call and the put")
    func knownValue() {
        let call = OptionPricing.price(call: true, forward: 100, strike: 100, years: 1, rate: 0, volatility: 0.2)
        let put = OptionPricing.price(call: false, forward: 100, strike: 100, years: 1, rate: 0, volatility: 0.2)
        #expect(abs(call - 7.9656) < 1e-4 && abs(put - call) < 1e-9)
    }

    @Test("the implied volatility of a model price is the volatility it was priced at, for calls and puts across strikes")
    func roundTrip() throws {
        for strike in [2_400.0, 2_600, 2_640, 2_700, 2_900] {
            for call in [true, false] {
                let price = OptionPricing.price(call: call, forward: 2_650, strike: strike, years: 20.0 / 365, rate: 0.065, volatility: 0.27)
                let iv = try #require(OptionPricing.impliedVolatility(price: price, call: call, forward: 2_650, strike: strike, years: 20.0 / 365, rate: 0.065))
                #expect(abs(iv - 0.27) < 1e-5, "strike \(strike) call \(call): \(iv)")
            }
        }
    }

    @Test("no volatility gives a price below the discounted intrinsic value or above the bound; nothing is invented")
    func outOfBounds() {
        #expect(OptionPricing.impliedVolatility(price: 1, call: true, forward: 120, strike: 100, years: 0.1, rate: 0.065) == nil)
        #expect(OptionPricing.impliedVolatility(price: 200, call: true, forward: 120, strike: 100, years: 0.1, rate: 0.065) == nil)
        #expect(OptionPricing.impliedVolatility(price: 5, call: true, forward: 120, strike: 100, years: 0, rate: 0.065) == nil)
        #expect(OptionPricing.impliedVolatility(price: 0, call: true, forward: 120, strike: 100, years: 0.1, rate: 0.065) == nil)
    }

    @Test("delta: about ±0.5 at the money, call − put = 1 on the spot and e^{-rT} on the future, and the slope of the price")
    func delta() {
        let (f, k, t, r, v) = (100.0, 100.0, 0.25, 0.065, 0.2)
        let callB76 = OptionPricing.delta(call: true, model: .black76, forward: f, strike: k, years: t, rate: r, volatility: v)
        let putB76 = OptionPricing.delta(call: false, model: .black76, forward: f, strike: k, years: t, rate: r, volatility: v)
        #expect(abs(callB76 - putB76 - exp(-r * t)) < 1e-12)
        let callBS = OptionPricing.delta(call: true, model: .blackScholes, forward: f, strike: k, years: t, rate: r, volatility: v)
        let putBS = OptionPricing.delta(call: false, model: .blackScholes, forward: f, strike: k, years: t, rate: r, volatility: v)
        #expect(abs(callBS - putBS - 1) < 1e-12 && (0.5...0.56).contains(callBS))
        // Black-76's delta is ∂price/∂F.
        let bump = 0.01
        let slope = (OptionPricing.price(call: true, forward: f + bump, strike: k, years: t, rate: r, volatility: v)
            - OptionPricing.price(call: true, forward: f - bump, strike: k, years: t, rate: r, volatility: v)) / (2 * bump)
        #expect(abs(slope - callB76) < 1e-6)
    }

    @Test("time to expiry runs to 15:30 IST on NSE/BSE and 23:30 on MCX")
    func timeToExpiry() throws {
        let now = try Date("2026-02-26T09:00:00Z", strategy: .iso8601)  // 14:30 IST
        let nfo = try #require(OptionPricing.yearsToExpiry("2026-02-26", exchange: "NFO", now: now))
        let mcx = try #require(OptionPricing.yearsToExpiry("2026-02-26", exchange: "MCX", now: now))
        #expect(abs(nfo * OptionPricing.secondsPerYear - 3_600) < 1e-6)
        #expect(abs(mcx * OptionPricing.secondsPerYear - 9 * 3_600) < 1e-6)
        #expect(OptionPricing.yearsToExpiry("26FEB2026", exchange: "NFO", now: now) == nil)
    }
}

import BrokerWire
import Foundation
import Testing

@testable import BrokerSimulator

@Suite("Market model")
struct MarketModelTests {
    let universe = MarketFixture.universe
    let market = MarketFixture.market
    let nearExpiry = KiteCalendarDate(year: 2025, month: 11, day: 25)

    @Test func isDeterministicForASeed() throws {
        let other = MarketModel(universe: InstrumentUniverse(tradingDate: MarketFixture.date, seed: MarketFixture.seed), seed: MarketFixture.seed)
        for token: UInt32 in [256_265, 738_561, MarketFixture.rows(named: "NIFTY", type: "CE", expiry: nearExpiry)[60].instrumentToken] {
            #expect(other.snapshot(token: token, at: MarketFixture.midMorning) == market.snapshot(token: token, at: MarketFixture.midMorning))
            let from = MarketFixture.midMorning.addingTimeInterval(-3600)
            #expect(other.candles(token: token, interval: .minute, from: from, to: MarketFixture.midMorning, includeOI: true)
                == market.candles(token: token, interval: .minute, from: from, to: MarketFixture.midMorning, includeOI: true))
        }
        let differentSeed = MarketModel(universe: InstrumentUniverse(tradingDate: MarketFixture.date, seed: 1), seed: 1)
        #expect(differentSeed.snapshot(token: 256_265, at: MarketFixture.midMorning)?.lastPrice != market.snapshot(token: 256_265, at: MarketFixture.midMorning)?.lastPrice)
    }

    @Test func pricesAreRealistic() throws {
        let nifty = try #require(market.snapshot(token: 256_265, at: MarketFixture.midMorning))
        #expect((20_000...32_000).contains(nifty.lastPrice))
        #expect(nifty.volume == 0 && nifty.oi == 0, "indices have no volume or OI")
        #expect(nifty.low <= nifty.lastPrice && nifty.lastPrice <= nifty.high && nifty.low <= nifty.open && nifty.open <= nifty.high)
        let future = try #require(universe.instruments.first { $0.tradingsymbol == "NIFTY25DECFUT" })
        let futurePrice = try #require(market.snapshot(token: future.instrumentToken, at: MarketFixture.midMorning)?.lastPrice)
        #expect(futurePrice > nifty.lastPrice && futurePrice < nifty.lastPrice * 1.02, "futures trade at a small premium (carry)")
        let reliance = try #require(market.snapshot(token: 738_561, at: MarketFixture.midMorning))
        #expect((1_000...2_200).contains(reliance.lastPrice) && reliance.volume > 0)
        #expect((reliance.lastPrice * 20).rounded() == reliance.lastPrice * 20, "on the 0.05 tick")
    }

    @Test func callsFallAndPutsRiseWithStrike() throws {
        let spot = try #require(market.snapshot(token: 256_265, at: MarketFixture.midMorning)?.lastPrice)
        let years = Double(ISTClock.unixSecond(nearExpiry, hour: 15, minute: 30)) - MarketFixture.midMorning.timeIntervalSince1970
        let discount = exp(-OptionPricing.riskFreeRate * years / OptionPricing.secondsPerYear)
        for type in ["CE", "PE"] {
            let chain = MarketFixture.rows(named: "NIFTY", type: type, expiry: nearExpiry)
            let prices = try chain.map { try #require(market.snapshot(token: $0.instrumentToken, at: MarketFixture.midMorning)?.lastPrice) }
            for (a, b) in zip(prices, prices.dropFirst()) {
                if type == "CE" { #expect(b <= a) } else { #expect(b >= a) }
            }
            if type == "CE" { #expect(prices.first! > prices.last!) } else { #expect(prices.first! < prices.last!) }
            for (row, price) in zip(chain, prices) {
                // No-arbitrage lower bounds (time value never negative), within one tick of rounding.
                let bound = type == "CE" ? spot - row.strike * discount : row.strike * discount - spot
                #expect(price >= max(0.05, bound - 0.05), "\(row.tradingsymbol) \(price)")
                // Time value is sane: below 3% of spot five days out.
                let intrinsic = type == "CE" ? max(0, spot - row.strike) : max(0, row.strike - spot)
                #expect(price - intrinsic < spot * 0.03, "\(row.tradingsymbol) \(price)")
            }
            // At the money the option is worth roughly S·σ·√T·0.4.
            let atm = zip(chain, prices).min { abs($0.0.strike - spot) < abs($1.0.strike - spot) }!
            #expect(atm.1 > 20 && atm.1 < 400, "\(atm.0.tradingsymbol) \(atm.1)")
        }
    }

    @Test func depthIsOrderedAroundTheLastPrice() throws {
        let tokens = [738_561, MarketFixture.rows(named: "NIFTY", type: "PE", expiry: nearExpiry)[40].instrumentToken,
                      universe.instruments.first { $0.segment == "MCX-FUT" && $0.name == "CRUDEOIL" }!.instrumentToken]
        for token in tokens {
            for offset in stride(from: 0.0, to: 600, by: 37) {
                let s = try #require(market.snapshot(token: token, at: MarketFixture.midMorning.addingTimeInterval(offset)))
                #expect(s.buyDepth.count == 5 && s.sellDepth.count == 5)
                let bids = s.buyDepth.filter { $0.quantity > 0 }.map(\.price)
                let asks = s.sellDepth.map(\.price)
                #expect(bids == bids.sorted(by: >) && Set(bids).count == bids.count)
                #expect(asks == asks.sorted() && Set(asks).count == asks.count)
                if let best = bids.first { #expect(best <= s.lastPrice && best < asks[0]) }
                #expect(asks[0] > s.lastPrice)
                #expect(s.sellDepth.allSatisfy { $0.quantity > 0 && $0.orders > 0 && $0.orders <= $0.quantity })
                #expect(s.totalBuyQuantity > 0 && s.totalSellQuantity > 0)
                #expect(s.low <= s.lastPrice && s.lastPrice <= s.high && s.oiDayLow <= s.oi && s.oi <= s.oiDayHigh)
            }
        }
    }

    @Test(arguments: ["NIFTY 50", "RELIANCE", "option", "CRUDEOIL future", "NATURALGAS option"])
    func minuteCandlesAgreeWithPerSecondTicks(which: String) throws {
        let token: UInt32
        switch which {
        case "NIFTY 50": token = 256_265
        case "RELIANCE": token = 738_561
        case "option": token = MarketFixture.rows(named: "NIFTY", type: "PE", expiry: KiteCalendarDate(year: 2025, month: 12, day: 2))[70].instrumentToken
        case "CRUDEOIL future": token = universe.instruments.first { $0.segment == "MCX-FUT" && $0.name == "CRUDEOIL" }!.instrumentToken
        default: token = universe.instruments.filter { $0.segment == "MCX-OPT" && $0.name == "NATURALGAS" }[40].instrumentToken
        }
        let start = MarketFixture.midMorning
        let candles = market.candles(token: token, interval: .minute, from: start, to: start.addingTimeInterval(179), includeOI: true)
        #expect(candles.count == 3)
        for candle in candles {
            let seconds = (0..<60).map { Date(timeIntervalSince1970: TimeInterval(candle.timestamp + $0)) }
            let ticks = try seconds.map { try #require(market.snapshot(token: token, at: $0)) }
            let prices = ticks.map(\.lastPrice)
            #expect(candle.open == prices.first && candle.close == prices.last)
            #expect(candle.high == prices.max() && candle.low == prices.min())
            #expect(prices.allSatisfy { candle.low <= $0 && $0 <= candle.high })
            let before = try #require(market.snapshot(token: token, at: Date(timeIntervalSince1970: TimeInterval(candle.timestamp - 1))))
            #expect(candle.volume == ticks.last!.volume - before.volume)
            #expect(candle.oi == ticks.last!.oi)
            #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0.volume <= $1.volume }, "cumulative volume never falls")
        }
    }

    @Test func daySnapshotMatchesTheDayCandles() throws {
        let token = MarketFixture.rows(named: "NIFTY", type: "CE", expiry: nearExpiry)[70].instrumentToken
        let at = MarketFixture.midMorning.addingTimeInterval(17)
        let snapshot = try #require(market.snapshot(token: token, at: at))
        let dayStart = Date(timeIntervalSince1970: TimeInterval(ISTClock.unixSecond(MarketFixture.date.calendarDate, hour: 0, minute: 0)))
        let minutes = market.candles(token: token, interval: .minute, from: dayStart, to: at, includeOI: false, asOf: at)
        #expect(minutes.first?.open == snapshot.open)
        #expect(minutes.map(\.high).max() == snapshot.high && minutes.map(\.low).min() == snapshot.low)
        #expect(minutes.last?.close == snapshot.lastPrice)
        #expect(minutes.reduce(0) { $0 + $1.volume } == snapshot.volume)
        let day = market.candles(token: token, interval: .day, from: dayStart, to: at, includeOI: false, asOf: at)
        #expect(day.count == 1 && day[0].high == snapshot.high && day[0].low == snapshot.low && day[0].volume == snapshot.volume)
        let fives = market.candles(token: token, interval: .fiveMinute, from: dayStart, to: at, includeOI: false, asOf: at)
        #expect(fives.reduce(0) { $0 + $1.volume } == snapshot.volume && fives.allSatisfy { $0.timestamp % 300 == 0 })
        // Yesterday's last second is today's previous close.
        let yesterday = try #require(market.snapshot(token: token, at: dayStart.addingTimeInterval(-1)))
        #expect(yesterday.lastPrice == snapshot.close)
    }

    @Test func exchangeSessionsOnlyTradeInExchangeHours() throws {
        let market = MarketFixture.exchangeMarket
        let day = MarketFixture.date.calendarDate  // a Thursday
        let midnight = Date(timeIntervalSince1970: TimeInterval(ISTClock.unixSecond(day, hour: 0, minute: 0)))
        let candles = market.candles(token: 738_561, interval: .minute, from: midnight, to: midnight.addingTimeInterval(86_399), includeOI: false)
        #expect(candles.count == 375)
        #expect(candles.first.map { KiteHistoricalJSON.formatTimestamp($0.timestamp) } == "2025-11-20T09:15:00+0530")
        #expect(candles.last.map { KiteHistoricalJSON.formatTimestamp($0.timestamp) } == "2025-11-20T15:29:00+0530")
        let hourly = market.candles(token: 738_561, interval: .sixtyMinute, from: midnight, to: midnight.addingTimeInterval(86_399), includeOI: false)
        #expect(hourly.map { KiteHistoricalJSON.formatTimestamp($0.timestamp).dropFirst(11).prefix(5) } == ["09:15", "10:15", "11:15", "12:15", "13:15", "14:15", "15:15"])
        let crude = universe.instruments.first { $0.segment == "MCX-FUT" && $0.name == "CRUDEOIL" }!.instrumentToken
        #expect(market.candles(token: crude, interval: .minute, from: midnight, to: midnight.addingTimeInterval(86_399), includeOI: false).count == 870)
        // Saturday: no session; a snapshot then shows Friday's close.
        let saturday = midnight.addingTimeInterval(2 * 86_400 + 12 * 3600)
        #expect(market.candles(token: 738_561, interval: .minute, from: saturday.addingTimeInterval(-3600), to: saturday, includeOI: false).isEmpty)
        let fridayClose = Date(timeIntervalSince1970: TimeInterval(ISTClock.unixSecond(day.adding(days: 1), hour: 15, minute: 29) + 59))
        #expect(market.snapshot(token: 738_561, at: saturday) == market.snapshot(token: 738_561, at: fridayClose))
    }

    @Test func sixtyDaysOfMinuteCandlesAreComplete() {
        let to = MarketFixture.midMorning
        let candles = market.candles(token: 256_265, interval: .minute, from: to.addingTimeInterval(-60 * 86_400), to: to, includeOI: false)
        #expect(candles.count == 60 * 1440 + 1)
        #expect(zip(candles, candles.dropFirst()).allSatisfy { $1.timestamp - $0.timestamp == 60 })
    }
}

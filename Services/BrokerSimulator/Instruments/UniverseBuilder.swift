import BrokerWire
import Foundation

/// Generates the rows and pricing terms of an ``InstrumentUniverse``.
struct UniverseBuilder {
    let tradingDate: TradingDate
    let seed: UInt64
    private let date: KiteCalendarDate
    /// Unix second of IST midnight starting the trading date.
    private let dayStart: Int64

    private(set) var instruments: [KiteInstrument] = []
    private(set) var terms: [InstrumentTerms] = []
    private(set) var underlyings: [UnderlyingInfo] = []

    // Exchange-token counters per segment (real NFO/BFO/MCX tokens are in these ranges).
    private var nextNFO: UInt32 = 35_001
    private var nextBFO: UInt32 = 825_001
    private var nextMCX: UInt32 = 420_001
    private var nextNSE: UInt32 = 30_001

    init(tradingDate: TradingDate, seed: UInt64) {
        self.tradingDate = tradingDate
        self.seed = seed
        date = tradingDate.calendarDate
        dayStart = ISTClock.midnight(ofDay: Int64(date.daysSinceEpoch))
        instruments.reserveCapacity(120_000)
        terms.reserveCapacity(120_000)
    }

    mutating func build() {
        var indexUnderlyings: [(IndexDefinition, Int32)] = []
        for index in UnderlyingCatalog.indices {
            let id = addUnderlying(name: index.derivatives?.name ?? index.tradingsymbol, base: index.basePrice, vol: index.volatility,
                                   iv: index.derivatives?.impliedVolatility ?? index.volatility, venue: .equity)
            let token = KiteSegment.token(exchangeToken: index.exchangeToken, segment: .indices)
            underlyings[Int(id)].spotToken = token
            add(KiteInstrument(instrumentToken: token, exchangeToken: index.exchangeToken, tradingsymbol: index.tradingsymbol,
                               name: index.tradingsymbol, expiry: nil, strike: 0, tickSize: 0, lotSize: 0, instrumentType: "EQ",
                               segment: "INDICES", exchange: index.exchange),
                InstrumentTerms(kind: .index, underlying: id, strike: 0, expirySecond: 0, carrySecond: 0, ticksPerUnit: 20,
                                dailyVolume: 0, lotSize: 0, underlyingToken: 0))
            indexUnderlyings.append((index, id))
        }

        let knownNSE = Set(UnderlyingCatalog.equities.map(\.nseExchangeToken))
        var stockUnderlyings: [(EquityDefinition, Int32)] = []
        for equity in UnderlyingCatalog.equities {
            var exchangeToken = equity.nseExchangeToken
            if exchangeToken == 0 {
                while knownNSE.contains(nextNSE) { nextNSE += 1 }
                exchangeToken = nextNSE
                nextNSE += 1
            }
            let vol = 0.22 + 0.15 * SimHash.unit(SimHash.fnv1a(equity.symbol) ^ 0x5eed)
            let id = addUnderlying(name: equity.symbol, base: equity.basePrice, vol: vol, iv: vol + 0.04, venue: .equity)
            let token = KiteSegment.token(exchangeToken: exchangeToken, segment: .nse)
            underlyings[Int(id)].spotToken = token
            let turnover = 2.0e9 * (0.3 + 1.2 * SimHash.unit(SimHash.fnv1a(equity.symbol)))
            let tpu: Double = 20
            add(KiteInstrument(instrumentToken: token, exchangeToken: exchangeToken, tradingsymbol: equity.symbol, name: equity.name,
                               expiry: nil, strike: 0, tickSize: 0.05, lotSize: 1, instrumentType: "EQ", segment: "NSE", exchange: "NSE"),
                InstrumentTerms(kind: .equity, underlying: id, strike: 0, expirySecond: 0, carrySecond: 0, ticksPerUnit: tpu,
                                dailyVolume: turnover / equity.basePrice, lotSize: 1, underlyingToken: 0))
            if let code = equity.bseScripCode {
                let bseToken = KiteSegment.token(exchangeToken: code, segment: .bse)
                add(KiteInstrument(instrumentToken: bseToken, exchangeToken: code, tradingsymbol: equity.symbol, name: equity.name,
                                   expiry: nil, strike: 0, tickSize: 0.05, lotSize: 1, instrumentType: "EQ", segment: "BSE", exchange: "BSE"),
                    InstrumentTerms(kind: .equity, underlying: id, strike: 0, expirySecond: 0, carrySecond: 0, ticksPerUnit: tpu,
                                    dailyVolume: turnover / equity.basePrice / 10, lotSize: 1, underlyingToken: 0))
            }
            if equity.fnoLot != nil { stockUnderlyings.append((equity, id)) }
        }

        for (index, id) in indexUnderlyings where index.derivatives?.venue == .nfo {
            addIndexDerivatives(index.derivatives!, underlying: id)
        }
        for (equity, id) in stockUnderlyings {
            addStockDerivatives(equity, underlying: id)
        }
        for (index, id) in indexUnderlyings where index.derivatives?.venue == .bfo {
            addIndexDerivatives(index.derivatives!, underlying: id)
        }
        for commodity in UnderlyingCatalog.commodities {
            addCommodity(commodity)
        }
    }

    // MARK: - Pieces

    private mutating func addUnderlying(name: String, base: Double, vol: Double, iv: Double, venue: TradingVenue) -> Int32 {
        let path = PricePath(seed: seed, name: name, basePrice: base, annualVolatility: vol)
        underlyings.append(UnderlyingInfo(name: name, path: path, impliedVolatility: iv, venue: venue, spotToken: nil,
                                          referencePrice: path.price(at: dayStart)))
        return Int32(underlyings.count - 1)
    }

    private mutating func add(_ row: KiteInstrument, _ term: InstrumentTerms) {
        instruments.append(row)
        terms.append(term)
    }

    private mutating func nextToken(_ venue: DerivativeVenue) -> (exchange: UInt32, token: UInt32) {
        switch venue {
        case .nfo:
            defer { nextNFO += 1 }
            return (nextNFO, KiteSegment.token(exchangeToken: nextNFO, segment: .nfo))
        case .bfo:
            defer { nextBFO += 1 }
            return (nextBFO, KiteSegment.token(exchangeToken: nextBFO, segment: .bfo))
        case .mcx:
            defer { nextMCX += 1 }
            return (nextMCX, KiteSegment.token(exchangeToken: nextMCX, segment: .mcx))
        }
    }

    private func expirySecond(_ expiry: KiteCalendarDate, venue: DerivativeVenue) -> Int64 {
        venue == .mcx ? ISTClock.unixSecond(expiry, hour: 23, minute: 30) : ISTClock.unixSecond(expiry, hour: 15, minute: 30)
    }

    private func daysToExpiry(_ expiry: KiteCalendarDate) -> Int { expiry.daysSinceEpoch - date.daysSinceEpoch }

    private mutating func addFuture(name: String, expiry: KiteCalendarDate, venue: DerivativeVenue, underlying: Int32, lot: Int,
                                    tickSize: Double, dailyVolume: Double) -> UInt32 {
        let (exchangeToken, token) = nextToken(venue)
        let exchange = venue == .nfo ? "NFO" : venue == .bfo ? "BFO" : "MCX"
        let second = expirySecond(expiry, venue: venue)
        add(KiteInstrument(instrumentToken: token, exchangeToken: exchangeToken, tradingsymbol: TradingSymbol.future(name, expiry: expiry),
                           name: name, expiry: expiry, strike: 0, tickSize: tickSize, lotSize: lot, instrumentType: "FUT",
                           segment: "\(exchange)-FUT", exchange: exchange),
            InstrumentTerms(kind: .future, underlying: underlying, strike: 0, expirySecond: second, carrySecond: second,
                            ticksPerUnit: (1 / tickSize).rounded(), dailyVolume: dailyVolume, lotSize: Int32(lot),
                            underlyingToken: underlyings[Int(underlying)].spotToken ?? 0))
        return token
    }

    /// Adds a CE and PE per strike, strikes centred on the underlying's reference price.
    private mutating func addOptionChain(name: String, expiry: KiteCalendarDate, weekly: Bool, venue: DerivativeVenue, underlying: Int32,
                                         lot: Int, step: Double, strikesEachSide: Int, tickSize: Double, activity: Double,
                                         carrySecond: Int64? = nil, underlyingToken: UInt32? = nil) {
        let exchange = venue == .nfo ? "NFO" : venue == .bfo ? "BFO" : "MCX"
        let segment = "\(exchange)-OPT"
        let reference = underlyings[Int(underlying)].referencePrice
        let centre = (reference / step).rounded() * step
        let second = expirySecond(expiry, venue: venue)
        let spotToken = underlyingToken ?? underlyings[Int(underlying)].spotToken ?? 0
        let tpu = (1 / tickSize).rounded()
        for k in -strikesEachSide...strikesEachSide {
            let strike = centre + Double(k) * step
            guard strike > 0 else { continue }
            let moneyness = abs(log(strike / reference))
            let volume = max(Double(lot) * 5, Double(lot) * activity * exp(-moneyness * 30))
            for type in ["CE", "PE"] {
                let (exchangeToken, token) = nextToken(venue)
                add(KiteInstrument(instrumentToken: token, exchangeToken: exchangeToken,
                                   tradingsymbol: TradingSymbol.option(name, expiry: expiry, weekly: weekly, strike: strike, type: type),
                                   name: name, expiry: expiry, strike: strike, tickSize: tickSize, lotSize: lot, instrumentType: type,
                                   segment: segment, exchange: exchange),
                    InstrumentTerms(kind: type == "CE" ? .call : .put, underlying: underlying, strike: strike, expirySecond: second,
                                    carrySecond: carrySecond ?? second, ticksPerUnit: tpu, dailyVolume: volume, lotSize: Int32(lot),
                                    underlyingToken: spotToken))
            }
        }
    }

    private mutating func addIndexDerivatives(_ terms: IndexDerivatives, underlying: Int32) {
        let rule: (Int, Int) -> Int
        if terms.venue == .nfo {
            rule = { ExpiryCalendar.nseWeekday(year: $0, month: $1) }
        } else {
            rule = { ExpiryCalendar.bseWeekday(year: $0, month: $1) }
        }
        let monthlies = ExpiryCalendar.monthlies(from: date, count: 3, weekday: rule)
        for (n, expiry) in monthlies.enumerated() {
            _ = addFuture(name: terms.name, expiry: expiry, venue: terms.venue, underlying: underlying, lot: terms.lotSize, tickSize: 0.05,
                          dailyVolume: Double(terms.lotSize) * 60_000 / Double(1 + 5 * n))
        }
        var expiries = Set(monthlies)
        if terms.hasWeeklies { expiries.formUnion(ExpiryCalendar.weeklies(from: date, count: 5, weekday: rule)) }
        let quarterlies = ExpiryCalendar.monthlies(inMonths: [3, 6, 9, 12], after: monthlies.last!, count: terms.quarterlies, weekday: rule)
        expiries.formUnion(quarterlies)
        if terms.halfYearlies > 0 {
            let after = quarterlies.last ?? monthlies.last!
            expiries.formUnion(ExpiryCalendar.monthlies(inMonths: [6, 12], after: after, count: terms.halfYearlies, weekday: rule))
        }
        for (n, expiry) in expiries.sorted().enumerated() {
            let days = daysToExpiry(expiry)
            let weekly = !ExpiryCalendar.isMonthly(expiry, weekday: rule)
            let (stepMultiple, width): (Double, Double) = days <= 40 ? (1, 0.18) : days <= 120 ? (2, 0.22) : (10, 0.35)
            let step = terms.strikeStep * stepMultiple
            let reference = underlyings[Int(underlying)].referencePrice
            let each = Int((reference * width / step).rounded())
            addOptionChain(name: terms.name, expiry: expiry, weekly: weekly, venue: terms.venue, underlying: underlying, lot: terms.lotSize,
                           step: step, strikesEachSide: each, tickSize: 0.05, activity: 400_000 / Double(1 + 3 * n))
        }
    }

    private mutating func addStockDerivatives(_ equity: EquityDefinition, underlying: Int32) {
        let lot = equity.fnoLot ?? UnderlyingCatalog.defaultLot(price: equity.basePrice)
        let monthlies = ExpiryCalendar.monthlies(from: date, count: 3, weekday: { ExpiryCalendar.nseWeekday(year: $0, month: $1) })
        let reference = underlyings[Int(underlying)].referencePrice
        let step = UnderlyingCatalog.stockStrikeStep(price: reference)
        for (n, expiry) in monthlies.enumerated() {
            _ = addFuture(name: equity.symbol, expiry: expiry, venue: .nfo, underlying: underlying, lot: lot, tickSize: 0.05,
                          dailyVolume: Double(lot) * 8_000 / Double(1 + 5 * n))
        }
        for (n, expiry) in monthlies.enumerated() {
            // Near month lists the most strikes, as NSE does; never below a positive strike.
            let each = min([65, 50, 35][n], Int(reference / step) - 1)
            addOptionChain(name: equity.symbol, expiry: expiry, weekly: false, venue: .nfo, underlying: underlying, lot: lot, step: step,
                           strikesEachSide: each, tickSize: 0.05, activity: 20_000 / Double(1 + 4 * n))
        }
    }

    private mutating func addCommodity(_ commodity: CommodityDefinition) {
        let id = addUnderlying(name: commodity.name, base: commodity.basePrice, vol: commodity.volatility, iv: commodity.impliedVolatility,
                               venue: .commodity)
        let futures = ExpiryCalendar.mcx(rule: commodity.futureRule, months: commodity.futureMonths, from: date, count: commodity.futureCount)
        var futureTokens: [(KiteCalendarDate, UInt32)] = []
        for (n, expiry) in futures.enumerated() {
            let token = addFuture(name: commodity.name, expiry: expiry, venue: .mcx, underlying: id, lot: commodity.lotSize,
                                  tickSize: commodity.tickSize, dailyVolume: Double(commodity.lotSize) * 20_000 / Double(1 + 6 * n))
            futureTokens.append((expiry, token))
        }
        guard commodity.optionSeries > 0 else { return }
        for (n, (futureExpiry, futureToken)) in futureTokens.prefix(commodity.optionSeries).enumerated() {
            let expiry = ExpiryCalendar.mcxOptionExpiry(beforeFuture: futureExpiry)
            guard expiry >= date else { continue }
            let reference = underlyings[Int(id)].referencePrice
            let each = Int((reference * 0.25 / commodity.optionStrikeStep).rounded())
            addOptionChain(name: commodity.name, expiry: expiry, weekly: false, venue: .mcx, underlying: id, lot: commodity.lotSize,
                           step: commodity.optionStrikeStep, strikesEachSide: each, tickSize: commodity.optionTickSize,
                           activity: 3_000 / Double(1 + 4 * n), carrySecond: expirySecond(futureExpiry, venue: .mcx),
                           underlyingToken: futureToken)
        }
    }
}

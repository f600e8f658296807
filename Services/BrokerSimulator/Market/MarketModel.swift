import BrokerWire
import Foundation
import Synchronization

typealias CandleInterval = KiteCandleInterval

/// The simulated market: every price, volume and OI is a pure function of (seed, instrument, second), so a live tick
/// at second s and a historical candle covering s always agree. The only state is a cache of per-day highs and lows
/// that makes repeated snapshots cheap; it never changes an answer.
final class MarketModel: Sendable {
    let universe: InstrumentUniverse
    let seed: UInt64
    let sessionMode: SessionMode
    private let dayCache = Mutex(DayCache())

    /// - Parameters:
    ///   - universe: The instruments; pass the same seed as the universe so strikes are centred on the walk.
    ///   - seed: Seeds volume and OI (prices come from the universe's paths).
    ///   - sessionMode: `.exchange` trades only in exchange hours; `.always` makes every minute of every day a session minute.
    init(universe: InstrumentUniverse, seed: UInt64, sessionMode: SessionMode = .always) {
        self.universe = universe
        self.seed = seed
        self.sessionMode = sessionMode
    }

    // MARK: - Ticks

    /// The state of `token` at `time` (outside a session: as of the last session second before it).
    func snapshot(token: UInt32, at time: Date) -> MarketSnapshot? {
        guard let position = universe.position(of: token) else { return nil }
        let terms = universe.terms[position]
        let underlying = universe.underlyings[Int(terms.underlying)]
        let (second, window) = TradingSessions.effective(Self.second(time), venue: underlying.venue, mode: sessionMode)
        let path = underlying.path
        let minuteStart = second - (second - window.start) % 60
        let minuteIndex = Int((minuteStart - window.start) / 60)
        let reference = referencePrice(underlying, at: minuteStart)
        let pricer = InstrumentPricer(terms: terms, underlying: underlying, minuteStart: minuteStart, reference: reference)

        // This minute so far.
        var buffer: [Double] = []
        path.fillLogOffsets(from: minuteStart, count: Int(second - minuteStart) + 1, into: &buffer)
        var xHigh = -Double.infinity, xLow = Double.infinity
        for i in 0...Int(second - minuteStart) {
            xHigh = max(xHigh, buffer[i])
            xLow = min(xLow, buffer[i])
        }
        let lastPrice = pricer.price(logOffset: buffer[Int(second - minuteStart)])
        var (high, low) = pricer.range(highOffset: xHigh, lowOffset: xLow)
        let earlier = completedMinutesRange(token: token, position: position, window: window, throughMinute: minuteIndex)
        if let earlier {
            high = max(high, earlier.high)
            low = min(low, earlier.low)
        }

        let open = price(position: position, at: window.start)
        let previous = TradingSessions.previous(window, venue: underlying.venue, mode: sessionMode)
        let close = price(position: position, at: previous.end - 1)

        let activity = ActivityModel(seed: seed, token: token, terms: terms, window: window)
        let isIndex = terms.kind == .index
        let volume = isIndex ? 0 : activity.volume(at: second)
        let before = second > window.start ? activity.volume(at: second - 1) : 0
        let lastQuantity = isIndex ? 0 : Int(max(activity.lot, volume - before))
        let oi = activity.oi(at: second)
        let tick = 1 / terms.ticksPerUnit
        let average = isIndex ? 0 : pricer.round((open + high + low + lastPrice * 2) / 5)

        let depthKey = SimHash.mix(seed, UInt64(token), UInt64(bitPattern: second))
        let (bids, asks) = isIndex ? (Self.emptyDepth, Self.emptyDepth)
            : Self.depth(lastPrice: lastPrice, tick: tick, lot: Int(activity.lot), liquidity: terms.dailyVolume / Double(activity.lot), key: depthKey)
        let restingScale = Int64(2 + SimHash.mix(depthKey ^ 7) % 20)
        return MarketSnapshot(
            lastPrice: lastPrice, lastTradedQuantity: lastQuantity, averagePrice: average, volume: volume,
            totalBuyQuantity: isIndex ? 0 : bids.reduce(0) { $0 + Int64($1.quantity) } * restingScale,
            totalSellQuantity: isIndex ? 0 : asks.reduce(0) { $0 + Int64($1.quantity) } * (restingScale + Int64(SimHash.mix(depthKey ^ 9) % 5)),
            open: open, high: high, low: low, close: close,
            oi: oi, oiDayHigh: max(activity.oiOpen, oi), oiDayLow: min(activity.oiOpen, oi),
            lastTradeTime: Date(timeIntervalSince1970: TimeInterval(second)), buyDepth: bids, sellDepth: asks
        )
    }

    /// Just the last price (cheaper than a snapshot; what an `ltp` tick needs).
    func lastPrice(token: UInt32, at time: Date) -> Double? {
        guard let position = universe.position(of: token) else { return nil }
        let venue = universe.underlyings[Int(universe.terms[position].underlying)].venue
        let (second, _) = TradingSessions.effective(Self.second(time), venue: venue, mode: sessionMode)
        return price(position: position, at: second)
    }

    // MARK: - Candles

    /// Kite candles whose start lies in [`from`, `to`] (for `day`: whose date does), oldest first, each aggregated from the
    /// same per-second prices the ticks use. Candles after `asOf` are left out and the one containing it is partial.
    func candles(token: UInt32, interval: CandleInterval, from: Date, to: Date, includeOI: Bool, asOf now: Date? = nil) -> [KiteCandle] {
        candles(token: token, minutes: interval == .day ? nil : interval.minutes, from: from, to: to, includeOI: includeOI, asOf: now)
    }

    /// Candles of `minutes` minutes from each session's start (Dhan's 25-minute candles have no Kite interval), or day
    /// candles when `minutes` is nil; the same minutes as the Kite intervals' candles, bucketed differently.
    func candles(token: UInt32, minutes: Int?, from: Date, to: Date, includeOI: Bool, asOf now: Date? = nil) -> [KiteCandle] {
        guard let position = universe.position(of: token) else { return [] }
        let terms = universe.terms[position]
        let underlying = universe.underlyings[Int(terms.underlying)]
        let fromSecond = Self.second(from)
        let nowSecond = now.map(Self.second) ?? .max
        let toSecond = min(Self.second(to), nowSecond)
        guard fromSecond <= toSecond else { return [] }
        let isIndex = terms.kind == .index
        var result: [KiteCandle] = []
        var buffer: [Double] = []

        var day = ISTClock.dayIndex(of: fromSecond)
        let lastDay = ISTClock.dayIndex(of: toSecond)
        while day <= lastDay {
            defer { day += 1 }
            guard let window = TradingSessions.window(day: day, venue: underlying.venue, mode: sessionMode) else { continue }
            // The session minutes [firstMinute, endMinute) the wanted candles cover.
            let bucketMinutes = minutes ?? window.minuteCount
            var firstBucket: Int, lastBucket: Int
            if minutes == nil {
                firstBucket = 0
                lastBucket = 0
                if window.start > nowSecond { continue }
            } else {
                let bucketSeconds = Int64(bucketMinutes * 60)
                let lo = max(fromSecond, window.start), hi = min(toSecond, window.end - 1)
                guard lo <= hi else { continue }
                firstBucket = Int((lo - window.start + bucketSeconds - 1) / bucketSeconds)
                lastBucket = Int((hi - window.start) / bucketSeconds)
                guard firstBucket <= lastBucket else { continue }
            }
            let firstMinute = firstBucket * bucketMinutes
            let endMinute = min(window.minuteCount, (lastBucket + 1) * bucketMinutes)
            let spanStart = window.start + Int64(firstMinute) * 60
            let spanEnd = min(window.start + Int64(endMinute) * 60, nowSecond == .max ? .max : nowSecond + 1)
            guard spanStart < spanEnd else { continue }
            underlying.path.fillLogOffsets(from: spanStart, count: Int(spanEnd - spanStart), into: &buffer)
            let activity = ActivityModel(seed: seed, token: token, terms: terms, window: window)
            let reference = referencePrice(underlying, at: window.start)

            var current: KiteCandle?
            var currentBucket = -1
            var minute = firstMinute
            while minute < endMinute {
                let minuteStart = window.start + Int64(minute) * 60
                if minuteStart >= spanEnd { break }
                let lo = Int(minuteStart - spanStart)
                let hi = min(lo + 60, Int(spanEnd - spanStart))
                var xHigh = buffer[lo], xLow = buffer[lo]
                for i in lo..<hi {
                    let x = buffer[i]
                    if x > xHigh { xHigh = x }
                    if x < xLow { xLow = x }
                }
                let pricer = InstrumentPricer(terms: terms, underlying: underlying, minuteStart: minuteStart, reference: reference)
                let open = pricer.price(logOffset: buffer[lo])
                let close = pricer.price(logOffset: buffer[hi - 1])
                let (high, low) = pricer.range(highOffset: xHigh, lowOffset: xLow)
                let endSecond = minuteStart + Int64(hi - lo) - 1
                let volume = isIndex ? 0 : activity.volume(at: endSecond) - activity.volume(boundary: minute)
                let oi: Int64? = includeOI ? activity.oi(at: endSecond) : nil

                let bucket = minute / bucketMinutes
                if bucket != currentBucket, let done = current {
                    result.append(done)
                    current = nil
                }
                currentBucket = bucket
                if var candle = current {
                    candle.high = max(candle.high, high)
                    candle.low = min(candle.low, low)
                    candle.close = close
                    candle.volume += volume
                    candle.oi = oi
                    current = candle
                } else {
                    let timestamp = minutes == nil ? ISTClock.midnight(ofDay: day) : window.start + Int64(bucket * bucketMinutes) * 60
                    current = KiteCandle(timestamp: timestamp, open: open, high: high, low: low, close: close, volume: volume, oi: oi)
                }
                minute += 1
            }
            if let done = current { result.append(done) }
        }
        return result
    }

    // MARK: - Internals

    static func second(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }

    /// The underlying's price at the start of the IST day containing `second` (anchors the smile for that day).
    private func referencePrice(_ underlying: UnderlyingInfo, at second: Int64) -> Double {
        underlying.path.price(at: ISTClock.midnight(ofDay: ISTClock.dayIndex(of: second)))
    }

    /// The instrument's tick-rounded price at a second.
    private func price(position: Int, at second: Int64) -> Double {
        let terms = universe.terms[position]
        let underlying = universe.underlyings[Int(terms.underlying)]
        let minuteStart = second - (second - ISTClock.midnight(ofDay: ISTClock.dayIndex(of: second))) % 60
        let pricer = InstrumentPricer(terms: terms, underlying: underlying, minuteStart: minuteStart,
                                      reference: referencePrice(underlying, at: second))
        return pricer.price(logOffset: underlying.path.logOffset(at: second))
    }

    /// The instrument's high and low over the session's minutes [0, throughMinute), nil when there are none.
    private func completedMinutesRange(token: UInt32, position: Int, window: SessionWindow, throughMinute: Int) -> (high: Double, low: Double)? {
        guard throughMinute > 0 else { return nil }
        let terms = universe.terms[position]
        let underlying = universe.underlyings[Int(terms.underlying)]
        let key = DayCache.UnderlyingKey(underlying: terms.underlying, sessionStart: window.start)

        var running = dayCache.withLock { cache -> DayCache.Running? in
            guard let entry = cache.running[token], entry.sessionStart == window.start, entry.throughMinute <= throughMinute else { return nil }
            return entry
        } ?? DayCache.Running(sessionStart: window.start, throughMinute: 0, high: -.infinity, low: .infinity)
        if running.throughMinute == throughMinute { return (running.high, running.low) }

        let extremes = underlyingMinuteExtremes(underlying, key: key, window: window)
        let reference = referencePrice(underlying, at: window.start)
        for minute in running.throughMinute..<throughMinute {
            let pricer = InstrumentPricer(terms: terms, underlying: underlying, minuteStart: window.start + Int64(minute) * 60, reference: reference)
            let (high, low) = pricer.range(highOffset: extremes.highs[minute], lowOffset: extremes.lows[minute])
            running.high = max(running.high, high)
            running.low = min(running.low, low)
        }
        running.throughMinute = throughMinute
        let result = running
        dayCache.withLock { cache in
            if cache.running.count > 50_000 { cache.running.removeAll(keepingCapacity: true) }
            cache.running[token] = result
        }
        return (result.high, result.low)
    }

    /// Per-minute highs and lows of the underlying's log offset over a whole session (computed once per session).
    private func underlyingMinuteExtremes(_ underlying: UnderlyingInfo, key: DayCache.UnderlyingKey, window: SessionWindow) -> DayCache.MinuteExtremes {
        if let cached = dayCache.withLock({ $0.underlyingDays[key] }) { return cached }
        var buffer: [Double] = []
        let count = Int(window.end - window.start)
        underlying.path.fillLogOffsets(from: window.start, count: count, into: &buffer)
        var highs = [Double](repeating: 0, count: window.minuteCount)
        var lows = [Double](repeating: 0, count: window.minuteCount)
        for minute in 0..<window.minuteCount {
            var high = -Double.infinity, low = Double.infinity
            for i in minute * 60..<(minute + 1) * 60 {
                high = max(high, buffer[i])
                low = min(low, buffer[i])
            }
            highs[minute] = high
            lows[minute] = low
        }
        let extremes = DayCache.MinuteExtremes(highs: highs, lows: lows)
        dayCache.withLock { cache in
            if cache.underlyingDays.count > 1_000 { cache.underlyingDays.removeAll(keepingCapacity: true) }
            cache.underlyingDays[key] = extremes
        }
        return extremes
    }

    private static let emptyDepth = [DepthLevel](repeating: DepthLevel(price: 0, quantity: 0, orders: 0), count: 5)

    /// Five levels each side: the best bid at or just below the last price, the best ask above it, a spread that
    /// widens as liquidity falls, quantities in lots.
    static func depth(lastPrice: Double, tick: Double, lot: Int, liquidity: Double, key: UInt64) -> (bids: [DepthLevel], asks: [DepthLevel]) {
        let spreadTicks = liquidity > 50_000 ? 1 : liquidity > 5_000 ? 2 : liquidity > 500 ? 4 : 8
        // At the one-tick floor the best bid sits at the last price, so deep out-of-the-money options still show bids.
        let bidGap = lastPrice <= tick ? 0 : Int(SimHash.mix(key ^ 11) % 2)
        let askGap = max(1, spreadTicks - bidGap)
        let ticksPerUnit = (1 / tick).rounded()
        func level(_ ticksAway: Int, side: UInt64, index: Int, sign: Double) -> DepthLevel {
            let ticks = (lastPrice * ticksPerUnit).rounded() + sign * Double(ticksAway)
            guard ticks >= 1 else { return DepthLevel(price: 0, quantity: 0, orders: 0) }
            let h = SimHash.mix(key ^ side ^ UInt64(index) << 4)
            let lots = 1 + Int(h % UInt64(max(2, min(400, liquidity / 200))))
            let orders = 1 + Int((h >> 20) % UInt64(max(1, min(lots, 30))))
            return DepthLevel(price: ticks / ticksPerUnit, quantity: lots * lot, orders: orders)
        }
        var bids: [DepthLevel] = [], asks: [DepthLevel] = []
        var bidAway = bidGap, askAway = askGap
        for i in 0..<5 {
            bids.append(level(bidAway, side: 0xB1D, index: i, sign: -1))
            asks.append(level(askAway, side: 0xA5C, index: i, sign: 1))
            bidAway += 1 + Int(SimHash.mix(key ^ 0xB ^ UInt64(i)) % UInt64(spreadTicks))
            askAway += 1 + Int(SimHash.mix(key ^ 0xA ^ UInt64(i)) % UInt64(spreadTicks))
        }
        return (bids, asks)
    }
}

/// Memoised per-session aggregates (a pure cache: dropping it never changes an answer).
struct DayCache: Sendable {
    struct UnderlyingKey: Hashable, Sendable {
        var underlying: Int32
        var sessionStart: Int64
    }

    struct MinuteExtremes: Sendable {
        var highs: [Double]
        var lows: [Double]
    }

    struct Running: Sendable {
        var sessionStart: Int64
        var throughMinute: Int
        var high: Double
        var low: Double
    }

    var underlyingDays: [UnderlyingKey: MinuteExtremes] = [:]
    var running: [UInt32: Running] = [:]
}

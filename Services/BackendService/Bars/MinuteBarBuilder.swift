import Foundation

/// One instrument's 1-minute bar as built from ticks, with what a later merge needs (docs/bars.md).
struct TickBar: Sendable, Equatable {
    /// Position of a tick among the ticks of its minute: exchange second, then stream id.
    struct Order: Sendable, Comparable, Hashable {
        var seconds: Int64
        var millis: Int64
        var sequence: Int64

        static func < (lhs: Order, rhs: Order) -> Bool {
            (lhs.seconds, lhs.millis, lhs.sequence) < (rhs.seconds, rhs.millis, rhs.sequence)
        }

        /// The fixed-width text stored in `bars_1m.tick_open_key`/`tick_close_key` (same ordering as `<`).
        var key: String { StreamedTick.orderKey(seconds: seconds, millis: millis, sequence: sequence) }
    }

    var instrumentToken: Int64
    /// Start of the minute, epoch seconds.
    var minuteStart: Int64
    var open: Double
    var high: Double
    var low: Double
    var close: Double
    var openOrder: Order
    var closeOrder: Order
    /// Smallest and largest cumulative day volume seen in the minute (nil when no tick carried `v`).
    var volumeFirst: Int64?
    var volumeLast: Int64?
    /// Cumulative volume at the previous minute's last tick, when known (and not above `volumeFirst`).
    var volumePrevious: Int64?
    /// Open interest of the latest tick that carried one.
    var openInterest: Int64?
    var openInterestOrder: Order?
    /// Ticks folded into the bar by this process.
    var ticks: Int

    init(_ tick: StreamedTick) {
        let order = Order(seconds: tick.epochSeconds, millis: tick.streamMillis, sequence: tick.streamSequence)
        instrumentToken = tick.instrumentToken
        minuteStart = tick.minuteStart
        open = tick.lastPrice
        high = tick.lastPrice
        low = tick.lastPrice
        close = tick.lastPrice
        openOrder = order
        closeOrder = order
        volumeFirst = tick.cumulativeVolume
        volumeLast = tick.cumulativeVolume
        openInterest = tick.openInterest
        openInterestOrder = tick.openInterest == nil ? nil : order
        ticks = 1
    }

    mutating func add(_ tick: StreamedTick) {
        let order = Order(seconds: tick.epochSeconds, millis: tick.streamMillis, sequence: tick.streamSequence)
        let price = tick.lastPrice
        if price > high { high = price }
        if price < low { low = price }
        if order < openOrder {
            open = price
            openOrder = order
        }
        if order >= closeOrder {
            close = price
            closeOrder = order
        }
        if let volume = tick.cumulativeVolume {
            volumeFirst = min(volumeFirst ?? volume, volume)
            volumeLast = max(volumeLast ?? volume, volume)
        }
        if let oi = tick.openInterest, openInterestOrder.map({ order >= $0 }) ?? true {
            openInterest = oi
            openInterestOrder = order
        }
        ticks += 1
    }

    /// The bar's volume: cumulative volume at its last tick minus that at the previous minute's last tick (or, when
    /// unknown, at its own first tick). Never negative.
    var volume: Int64 {
        guard let last = volumeLast, let first = volumeFirst else { return 0 }
        return max(0, last - min(volumePrevious ?? first, first))
    }

    var bucket: Date { Date(timeIntervalSince1970: TimeInterval(minuteStart)) }
}

/// Folds tick entries into 1-minute bars per instrument; pure and synchronous, so tests and benchmarks drive it directly.
///
/// Bars stay in memory while their minute is open (and one minute after, for late ticks), so every flush writes the
/// whole bar so far; a written bar of an older minute is dropped, and a late tick for it starts a partial bar that the
/// database merges into the stored one.
struct MinuteBarBuilder: Sendable {
    struct Key: Hashable, Sendable {
        var token: Int64
        var minute: Int64
    }

    private(set) var bars: [Key: TickBar] = [:]
    private var dirty: Set<Key> = []
    /// Cumulative volume at the last tick of bars already dropped, per token: (minute, volume).
    private var lastVolume: [Int64: (minute: Int64, volume: Int64)] = [:]
    /// The newest minute any tick belonged to (the stream's clock).
    private(set) var latestMinute: Int64 = .min

    /// Bars changed since the last ``markWritten()``.
    var dirtyCount: Int { dirty.count }

    /// The instruments that ticked lately: those with a bar held or a volume remembered.
    var recentTokens: Set<Int64> { Set(bars.keys.map(\.token)).union(lastVolume.keys) }

    /// Folds in one tick.
    /// - Returns: true when the tick opened a minute newer than any seen so far (a minute closed: time to flush).
    @discardableResult
    mutating func add(_ tick: StreamedTick) -> Bool {
        let key = Key(token: tick.instrumentToken, minute: tick.minuteStart)
        if bars[key] != nil {
            bars[key]!.add(tick)
        } else {
            bars[key] = TickBar(tick)
        }
        dirty.insert(key)
        guard key.minute > latestMinute else { return false }
        let rolled = latestMinute != .min
        latestMinute = key.minute
        return rolled
    }

    /// The bars to write, each with the previous minute's last cumulative volume when this process knows it.
    func dirtyBars() -> [TickBar] {
        dirty.map { key in
            var bar = bars[key]!
            bar.volumePrevious = previousVolume(token: key.token, minute: key.minute, first: bar.volumeFirst)
            return bar
        }
    }

    /// Clears the dirty set after a successful write and drops written bars older than the previous minute.
    mutating func markWritten() {
        dirty.removeAll(keepingCapacity: true)
        guard latestMinute != .min else { return }
        let horizon = latestMinute - 60
        for (key, bar) in bars where key.minute < horizon {
            if let volume = bar.volumeLast, (lastVolume[key.token]?.minute ?? .min) < key.minute {
                lastVolume[key.token] = (key.minute, volume)
            }
            bars[key] = nil
        }
        if lastVolume.count > 4 * max(bars.count, 1024) {
            lastVolume = lastVolume.filter { $0.value.minute >= horizon - 60 }
        }
    }

    private func previousVolume(token: Int64, minute: Int64, first: Int64?) -> Int64? {
        guard let first else { return nil }
        let previous = minute - 60
        let candidate = bars[Key(token: token, minute: previous)]?.volumeLast
            ?? lastVolume[token].flatMap { $0.minute == previous ? $0.volume : nil }
        guard let candidate, candidate <= first else { return nil }
        return candidate
    }
}

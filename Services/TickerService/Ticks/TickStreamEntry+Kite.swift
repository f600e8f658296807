import BrokerWire
import Shared

extension TickStreamEntry {
    /// The stream entry of a Kite tick: the fields its mode carries (indices have no quantities, OI or depth), every
    /// price with the decimal places of the token's segment.
    /// - Parameters:
    ///   - tick: The decoded tick.
    ///   - receivedAtMillis: When its frame arrived (epoch ms).
    init(_ tick: KiteTick, receivedAtMillis: Int64) {
        let places = KiteSegment.priceDecimalPlaces(forToken: tick.instrumentToken)
        func price(_ raw: Int32) -> TickPrice { TickPrice(units: Int64(raw), decimalPlaces: places) }
        self.init(instrumentToken: Int64(tick.instrumentToken), mode: tick.mode.subscriptionMode, lastPrice: price(tick.lastPrice),
                  receivedAtMillis: receivedAtMillis)
        broker = Broker.kite.rawValue
        guard tick.mode != .ltp else { return }
        open = price(tick.open)
        high = price(tick.high)
        low = price(tick.low)
        close = price(tick.close)
        if tick.isIndex {
            change = price(tick.change)
            if tick.mode == .full { exchangeTimestamp = Int64(tick.exchangeTimestamp) }
            return
        }
        lastTradedQuantity = Int64(tick.lastTradedQuantity)
        averageTradedPrice = price(tick.averageTradedPrice)
        volume = Int64(tick.volumeTraded)
        totalBuyQuantity = Int64(tick.totalBuyQuantity)
        totalSellQuantity = Int64(tick.totalSellQuantity)
        guard tick.mode == .full else { return }
        lastTradeTime = Int64(tick.lastTradeTime)
        openInterest = Int64(tick.oi)
        openInterestDayHigh = Int64(tick.oiDayHigh)
        openInterestDayLow = Int64(tick.oiDayLow)
        exchangeTimestamp = Int64(tick.exchangeTimestamp)
        if let depth = tick.depth {
            func levels(_ entries: [KiteDepthEntry]) -> [TickDepth.Level] {
                entries.map { TickDepth.Level(price: price($0.price), quantity: Int64($0.quantity), orders: Int64($0.orders)) }
            }
            self.depth = TickDepth(buy: levels(depth.buy), sell: levels(depth.sell))
        }
    }
}

extension KiteMode {
    /// The platform's name for the mode.
    var subscriptionMode: SubscriptionMode {
        switch self {
        case .ltp: .ltp
        case .quote: .quote
        case .full: .full
        }
    }
}

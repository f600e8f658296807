import BrokerWire
import Shared

/// What the tick publisher remembers of an instrument between Dhan packets: the previous-close packet (code 6) sent
/// when it was subscribed, and the latest open-interest packet (code 5, which quote mode gets instead of OI fields).
struct DhanInstrumentMemo: Sendable, Equatable {
    var previousClose: Float?
    var openInterest: UInt32?
}

extension TickStreamEntry {
    /// The stream entry of a Dhan ticker, quote or full packet, in the same fields a Kite tick of that mode fills
    /// (ticker ≈ ltp, with its last trade time): prices at the token's segment's decimal places (Dhan sends float32,
    /// rounded here to the exchange's paise), indices without quantities, OI or depth, `c` the previous close from the
    /// previous-close packet when one came. Nil for the other packets.
    /// - Parameters:
    ///   - packet: The decoded packet.
    ///   - token: Its Kite token (``DhanInstrumentMap/kiteToken(for:)``).
    ///   - memo: What earlier packets said of the instrument.
    ///   - receivedAtMillis: When its message arrived (epoch ms).
    init?(dhan packet: DhanPacket, token: UInt32, memo: DhanInstrumentMemo, receivedAtMillis: Int64) {
        let places = min(KiteSegment.priceDecimalPlaces(forToken: token), 4)
        func price(_ value: Float) -> TickPrice {
            var scale = 1.0
            for _ in 0..<places { scale *= 10 }
            return TickPrice(units: Int64((Double(value) * scale).rounded()), decimalPlaces: places)
        }
        let isIndex = KiteSegment(token: token) == .indices
        let quote: DhanQuote
        let mode: SubscriptionMode
        var full: DhanFull?
        switch packet {
        case let .ticker(ticker):
            self.init(instrumentToken: Int64(token), mode: .ltp, lastPrice: price(ticker.lastPrice), receivedAtMillis: receivedAtMillis)
            broker = Broker.dhan.rawValue
            if ticker.lastTradeTime > 0 { lastTradeTime = Int64(ticker.lastTradeTime) }
            return
        case let .quote(packet):
            quote = packet
            mode = .quote
        case let .full(packet):
            quote = packet.quote
            full = packet
            mode = .full
        default:
            return nil
        }
        self.init(instrumentToken: Int64(token), mode: mode, lastPrice: price(quote.lastPrice), receivedAtMillis: receivedAtMillis)
        broker = Broker.dhan.rawValue
        open = price(quote.open)
        high = price(quote.high)
        low = price(quote.low)
        close = price(memo.previousClose ?? quote.close)
        if quote.lastTradeTime > 0 { lastTradeTime = Int64(quote.lastTradeTime) }
        if isIndex {
            if let close { change = TickPrice(units: lastPrice.units - close.units, decimalPlaces: places) }
            return
        }
        lastTradedQuantity = Int64(quote.lastTradedQuantity)
        averageTradedPrice = price(quote.averagePrice)
        volume = Int64(quote.volume)
        totalBuyQuantity = Int64(quote.totalBuyQuantity)
        totalSellQuantity = Int64(quote.totalSellQuantity)
        if let full {
            openInterest = Int64(full.oi)
            openInterestDayHigh = Int64(full.oiDayHigh)
            openInterestDayLow = Int64(full.oiDayLow)
            func levels(_ side: [(price: Float, quantity: UInt32, orders: UInt16)]) -> [TickDepth.Level] {
                side.map { TickDepth.Level(price: price($0.price), quantity: Int64($0.quantity), orders: Int64($0.orders)) }
            }
            depth = TickDepth(
                buy: levels(full.depth.map { ($0.bidPrice, $0.bidQuantity, $0.bidOrders) }),
                sell: levels(full.depth.map { ($0.askPrice, $0.askQuantity, $0.askOrders) })
            )
        } else if let oi = memo.openInterest {
            openInterest = Int64(oi)
        }
    }
}

// The decoded form of one Kite binary packet, with integers exactly as they are on the wire.

/// One level of Kite market depth (12 bytes on the wire: quantity, price, orders, 2 bytes padding).
public struct KiteDepthEntry: Sendable, Equatable, Hashable {
    /// Quantity at this level (big-endian `UInt32`, as `ticker.py` reads it).
    public var quantity: UInt32
    /// Price in raw wire units; divide by the segment's divisor (see ``KiteSegment/priceDivisor``).
    public var price: Int32
    /// Number of orders at this level (big-endian `UInt16`).
    public var orders: UInt16

    /// Creates a depth level.
    /// - Parameters:
    ///   - quantity: Quantity at this level.
    ///   - price: Price in raw wire units.
    ///   - orders: Number of orders.
    @inlinable
    public init(quantity: UInt32 = 0, price: Int32 = 0, orders: UInt16 = 0) {
        self.quantity = quantity
        self.price = price
        self.orders = orders
    }
}

/// Five bid and five ask levels of a Kite `full` packet.
public struct KiteDepth: Sendable, Equatable, Hashable {
    /// The number of levels per side on the wire.
    public static let levels = 5

    /// Bid levels, best first. The encoder writes the first five (padding with zero levels).
    public var buy: [KiteDepthEntry]
    /// Ask levels, best first. The encoder writes the first five (padding with zero levels).
    public var sell: [KiteDepthEntry]

    /// Creates a depth book.
    /// - Parameters:
    ///   - buy: Bid levels, best first (five are sent).
    ///   - sell: Ask levels, best first (five are sent).
    @inlinable
    public init(buy: [KiteDepthEntry], sell: [KiteDepthEntry]) {
        self.buy = buy
        self.sell = sell
    }

    /// An empty book: five zero levels per side.
    public static let empty = KiteDepth(
        buy: Array(repeating: KiteDepthEntry(), count: levels),
        sell: Array(repeating: KiteDepthEntry(), count: levels)
    )
}

/// One Kite tick, as carried by one binary packet.
///
/// Every field holds the raw wire integer; prices are in raw units (divide by ``priceDivisor``, or use the
/// `...Value` accessors). Which fields the wire carries, and so the packet length, follows from
/// ``mode`` and ``isIndex``:
///
/// | mode  | isIndex | bytes | fields |
/// |-------|---------|-------|--------|
/// | ltp   | either  | 8     | token, lastPrice |
/// | quote | true    | 28    | + high, low, open, close (that order), change |
/// | full  | true    | 32    | + exchangeTimestamp |
/// | quote | false   | 44    | + lastTradedQuantity, averageTradedPrice, volumeTraded, totalBuy/SellQuantity, open, high, low, close |
/// | full  | false   | 184   | + lastTradeTime, oi, oiDayHigh, oiDayLow, exchangeTimestamp, depth |
///
/// Fields a packet does not carry are zero (`depth` is `nil`) after decoding. An `ltp` packet does not say
/// whether it is an index; the decoder sets ``isIndex`` from the token's segment (``KiteSegment/indices``).
public struct KiteTick: Sendable, Equatable, Hashable {
    /// The instrument token (`exchangeToken << 8 | segment`).
    public var instrumentToken: UInt32
    /// The mode this packet was sent in.
    public var mode: KiteMode
    /// Whether this is an index packet (28/32 bytes in quote/full mode).
    public var isIndex: Bool
    /// Last traded price, raw units.
    public var lastPrice: Int32
    /// Last traded quantity.
    public var lastTradedQuantity: UInt32
    /// Average traded price, raw units.
    public var averageTradedPrice: Int32
    /// Volume traded today.
    public var volumeTraded: UInt32
    /// Total pending buy quantity.
    public var totalBuyQuantity: UInt32
    /// Total pending sell quantity.
    public var totalSellQuantity: UInt32
    /// Open price, raw units.
    public var open: Int32
    /// High price, raw units.
    public var high: Int32
    /// Low price, raw units.
    public var low: Int32
    /// Close (previous day) price, raw units.
    public var close: Int32
    /// Index packets only: the net price change the exchange sends at offset 24, raw units.
    /// (`ticker.py` ignores it and computes a percentage instead; see ``changePercent``.)
    public var change: Int32
    /// Full mode, non-index: last trade time, epoch seconds.
    public var lastTradeTime: UInt32
    /// Full mode, non-index: open interest.
    public var oi: UInt32
    /// Full mode, non-index: day's high open interest.
    public var oiDayHigh: UInt32
    /// Full mode, non-index: day's low open interest.
    public var oiDayLow: UInt32
    /// Full mode: exchange timestamp, epoch seconds.
    public var exchangeTimestamp: UInt32
    /// Full mode, non-index: 5 bid and 5 ask levels.
    public var depth: KiteDepth?

    /// Creates a tick. Fields the chosen mode does not carry are ignored by the encoder.
    /// - Parameters:
    ///   - instrumentToken: The instrument token.
    ///   - mode: The streaming mode (decides the packet length together with `isIndex`).
    ///   - isIndex: Whether to use the index packet layout.
    ///   - lastPrice: Last traded price, raw units.
    ///   - lastTradedQuantity: Last traded quantity.
    ///   - averageTradedPrice: Average traded price, raw units.
    ///   - volumeTraded: Volume traded today.
    ///   - totalBuyQuantity: Total pending buy quantity.
    ///   - totalSellQuantity: Total pending sell quantity.
    ///   - open: Open price, raw units.
    ///   - high: High price, raw units.
    ///   - low: Low price, raw units.
    ///   - close: Close price, raw units.
    ///   - change: Index net change, raw units.
    ///   - lastTradeTime: Last trade time, epoch seconds.
    ///   - oi: Open interest.
    ///   - oiDayHigh: Day's high open interest.
    ///   - oiDayLow: Day's low open interest.
    ///   - exchangeTimestamp: Exchange timestamp, epoch seconds.
    ///   - depth: Market depth (full mode, non-index).
    @inlinable
    public init(
        instrumentToken: UInt32,
        mode: KiteMode,
        isIndex: Bool = false,
        lastPrice: Int32 = 0,
        lastTradedQuantity: UInt32 = 0,
        averageTradedPrice: Int32 = 0,
        volumeTraded: UInt32 = 0,
        totalBuyQuantity: UInt32 = 0,
        totalSellQuantity: UInt32 = 0,
        open: Int32 = 0,
        high: Int32 = 0,
        low: Int32 = 0,
        close: Int32 = 0,
        change: Int32 = 0,
        lastTradeTime: UInt32 = 0,
        oi: UInt32 = 0,
        oiDayHigh: UInt32 = 0,
        oiDayLow: UInt32 = 0,
        exchangeTimestamp: UInt32 = 0,
        depth: KiteDepth? = nil
    ) {
        self.instrumentToken = instrumentToken
        self.mode = mode
        self.isIndex = isIndex
        self.lastPrice = lastPrice
        self.lastTradedQuantity = lastTradedQuantity
        self.averageTradedPrice = averageTradedPrice
        self.volumeTraded = volumeTraded
        self.totalBuyQuantity = totalBuyQuantity
        self.totalSellQuantity = totalSellQuantity
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.change = change
        self.lastTradeTime = lastTradeTime
        self.oi = oi
        self.oiDayHigh = oiDayHigh
        self.oiDayLow = oiDayLow
        self.exchangeTimestamp = exchangeTimestamp
        self.depth = depth
    }

    /// The segment from the token's low byte, or `nil` if unknown.
    @inlinable
    public var segment: KiteSegment? { KiteSegment(token: instrumentToken) }

    /// Whether the instrument can be traded: every segment except ``KiteSegment/indices`` (the rule `ticker.py` uses).
    @inlinable
    public var tradable: Bool { instrumentToken & 0xff != UInt32(KiteSegment.indices.rawValue) }

    /// The divisor for this tick's raw prices (100 for unknown segments, as `ticker.py` does).
    @inlinable
    public var priceDivisor: Double { KiteSegment.priceDivisor(forToken: instrumentToken) }

    /// The length in bytes of this tick's packet on the wire.
    @inlinable
    public var packetLength: Int { KiteTickerCodec.packetLength(mode: mode, isIndex: isIndex) }

    /// Converts a raw wire price of this instrument to a price.
    /// - Parameters:
    ///   - raw: A raw price from this tick.
    @inlinable
    public func price(_ raw: Int32) -> Double { Double(raw) / priceDivisor }

    /// Converts a price to raw wire units for an instrument token, rounding to the nearest unit and clamping to `Int32`.
    /// - Parameters:
    ///   - value: The price.
    ///   - token: The instrument token whose segment gives the divisor.
    @inlinable
    public static func rawPrice(_ value: Double, token: UInt32) -> Int32 {
        let scaled = (value * KiteSegment.priceDivisor(forToken: token)).rounded()
        guard scaled.isFinite else { return 0 }
        if scaled >= Double(Int32.max) { return .max }
        if scaled <= Double(Int32.min) { return .min }
        return Int32(scaled)
    }

    /// Last traded price.
    @inlinable
    public var lastPriceValue: Double { price(lastPrice) }
    /// Average traded price.
    @inlinable
    public var averageTradedPriceValue: Double { price(averageTradedPrice) }
    /// Open price.
    @inlinable
    public var openValue: Double { price(open) }
    /// High price.
    @inlinable
    public var highValue: Double { price(high) }
    /// Low price.
    @inlinable
    public var lowValue: Double { price(low) }
    /// Close price.
    @inlinable
    public var closeValue: Double { price(close) }
    /// Index net change (from the wire).
    @inlinable
    public var changeValue: Double { price(change) }

    /// Percentage change from close, computed exactly as `ticker.py` does: `(last - close) * 100 / close`, 0 when close is 0.
    @inlinable
    public var changePercent: Double {
        let close = closeValue
        guard close != 0 else { return 0 }
        return (lastPriceValue - close) * 100 / close
    }
}

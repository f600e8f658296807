// Dhan market feed v2: segments, request codes and the packet values, as dhanhq's `marketfeed.py` defines them.

/// A Dhan exchange segment: the numeric code in binary packets and the name in JSON requests.
public enum DhanExchangeSegment: UInt8, Sendable, CaseIterable {
    /// Indices (`IDX_I`).
    case idxI = 0
    /// NSE cash (`NSE_EQ`).
    case nseEQ = 1
    /// NSE futures and options (`NSE_FNO`).
    case nseFNO = 2
    /// NSE currency (`NSE_CURRENCY`).
    case nseCurrency = 3
    /// BSE cash (`BSE_EQ`).
    case bseEQ = 4
    /// MCX commodities (`MCX_COMM`).
    case mcxComm = 5
    /// BSE currency (`BSE_CURRENCY`).
    case bseCurrency = 7
    /// BSE futures and options (`BSE_FNO`).
    case bseFNO = 8

    /// The name used in JSON requests, e.g. `"NSE_EQ"`.
    public var name: String {
        switch self {
        case .idxI: "IDX_I"
        case .nseEQ: "NSE_EQ"
        case .nseFNO: "NSE_FNO"
        case .nseCurrency: "NSE_CURRENCY"
        case .bseEQ: "BSE_EQ"
        case .mcxComm: "MCX_COMM"
        case .bseCurrency: "BSE_CURRENCY"
        case .bseFNO: "BSE_FNO"
        }
    }

    /// Looks a segment up by its JSON name.
    /// - Parameters:
    ///   - name: A name such as `"NSE_EQ"`.
    public init?(name: String) {
        guard let segment = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = segment
    }
}

/// The data a Dhan subscription asks for.
public enum DhanFeedMode: String, Sendable, CaseIterable, Comparable {
    /// LTP and last trade time (request 15/16, response 2).
    case ticker
    /// Quote without depth (request 17/18, responses 4, plus 5 and 6).
    case quote
    /// Everything with 5-level depth (request 21/22, response 8, plus 6).
    case full

    /// The subscribe request code: 15, 17 or 21.
    public var subscribeCode: Int {
        switch self {
        case .ticker: 15
        case .quote: 17
        case .full: 21
        }
    }

    /// The unsubscribe request code: the subscribe code plus one (16, 18, 22), as dhanhq does.
    public var unsubscribeCode: Int { subscribeCode + 1 }

    /// Orders modes by the amount of data they carry.
    /// - Parameters:
    ///   - lhs: A mode.
    ///   - rhs: Another mode.
    public static func < (lhs: DhanFeedMode, rhs: DhanFeedMode) -> Bool {
        lhs.subscribeCode < rhs.subscribeCode
    }
}

/// The feed response codes in the first byte of every Dhan binary packet.
public enum DhanResponseCode: UInt8, Sendable, CaseIterable {
    /// Ticker packet (16 bytes).
    case ticker = 2
    /// Quote packet (50 bytes).
    case quote = 4
    /// Open interest packet (12 bytes).
    case oi = 5
    /// Previous close packet (16 bytes).
    case previousClose = 6
    /// Market status packet (8 bytes: the header alone).
    case marketStatus = 7
    /// Full packet (162 bytes).
    case full = 8
    /// Server disconnection packet (10 bytes).
    case disconnect = 50

    /// The packet length this code implies.
    public var packetLength: Int {
        switch self {
        case .ticker: 16
        case .quote: 50
        case .oi: 12
        case .previousClose: 16
        case .marketStatus: 8
        case .full: 162
        case .disconnect: 10
        }
    }
}

/// The instrument a Dhan packet is about: the header's segment byte and security id.
public struct DhanInstrumentID: Sendable, Hashable {
    /// The exchange segment byte as sent (see ``segment`` for the typed value).
    public var exchangeSegment: UInt8
    /// The security id.
    public var securityId: UInt32

    /// Creates an instrument id from raw values.
    /// - Parameters:
    ///   - exchangeSegment: The segment byte.
    ///   - securityId: The security id.
    public init(exchangeSegment: UInt8, securityId: UInt32) {
        self.exchangeSegment = exchangeSegment
        self.securityId = securityId
    }

    /// Creates an instrument id.
    /// - Parameters:
    ///   - segment: The exchange segment.
    ///   - securityId: The security id.
    public init(_ segment: DhanExchangeSegment, _ securityId: UInt32) {
        self.init(exchangeSegment: segment.rawValue, securityId: securityId)
    }

    /// The typed segment, or `nil` for a byte Dhan does not define.
    public var segment: DhanExchangeSegment? { DhanExchangeSegment(rawValue: exchangeSegment) }
}

/// Ticker packet (code 2): LTP and last trade time.
public struct DhanTicker: Sendable, Equatable {
    /// The instrument.
    public var instrument: DhanInstrumentID
    /// Last traded price.
    public var lastPrice: Float
    /// Last trade time, epoch seconds.
    public var lastTradeTime: UInt32

    /// Creates a ticker packet.
    /// - Parameters:
    ///   - instrument: The instrument.
    ///   - lastPrice: Last traded price.
    ///   - lastTradeTime: Last trade time, epoch seconds.
    public init(instrument: DhanInstrumentID, lastPrice: Float, lastTradeTime: UInt32) {
        self.instrument = instrument
        self.lastPrice = lastPrice
        self.lastTradeTime = lastTradeTime
    }
}

/// Quote packet (code 4). Fields in wire order: note sell quantity precedes buy, and OHLC is sent as open, close, high, low.
public struct DhanQuote: Sendable, Equatable {
    /// The instrument.
    public var instrument: DhanInstrumentID
    /// Last traded price.
    public var lastPrice: Float
    /// Last traded quantity.
    public var lastTradedQuantity: UInt16
    /// Last trade time, epoch seconds.
    public var lastTradeTime: UInt32
    /// Average trade price.
    public var averagePrice: Float
    /// Volume.
    public var volume: UInt32
    /// Total sell quantity.
    public var totalSellQuantity: UInt32
    /// Total buy quantity.
    public var totalBuyQuantity: UInt32
    /// Day open.
    public var open: Float
    /// Day close (previous close during the session).
    public var close: Float
    /// Day high.
    public var high: Float
    /// Day low.
    public var low: Float

    /// Creates a quote packet.
    /// - Parameters:
    ///   - instrument: The instrument.
    ///   - lastPrice: Last traded price.
    ///   - lastTradedQuantity: Last traded quantity.
    ///   - lastTradeTime: Last trade time, epoch seconds.
    ///   - averagePrice: Average trade price.
    ///   - volume: Volume.
    ///   - totalSellQuantity: Total sell quantity.
    ///   - totalBuyQuantity: Total buy quantity.
    ///   - open: Day open.
    ///   - close: Day close.
    ///   - high: Day high.
    ///   - low: Day low.
    public init(
        instrument: DhanInstrumentID, lastPrice: Float = 0, lastTradedQuantity: UInt16 = 0, lastTradeTime: UInt32 = 0,
        averagePrice: Float = 0, volume: UInt32 = 0, totalSellQuantity: UInt32 = 0, totalBuyQuantity: UInt32 = 0,
        open: Float = 0, close: Float = 0, high: Float = 0, low: Float = 0
    ) {
        self.instrument = instrument
        self.lastPrice = lastPrice
        self.lastTradedQuantity = lastTradedQuantity
        self.lastTradeTime = lastTradeTime
        self.averagePrice = averagePrice
        self.volume = volume
        self.totalSellQuantity = totalSellQuantity
        self.totalBuyQuantity = totalBuyQuantity
        self.open = open
        self.close = close
        self.high = high
        self.low = low
    }
}

/// One level of Dhan depth: bid and ask side by side (20 bytes on the wire).
public struct DhanDepthLevel: Sendable, Equatable {
    /// Bid quantity.
    public var bidQuantity: UInt32
    /// Ask quantity.
    public var askQuantity: UInt32
    /// Bid orders.
    public var bidOrders: UInt16
    /// Ask orders.
    public var askOrders: UInt16
    /// Bid price.
    public var bidPrice: Float
    /// Ask price.
    public var askPrice: Float

    /// Creates a depth level.
    /// - Parameters:
    ///   - bidQuantity: Bid quantity.
    ///   - askQuantity: Ask quantity.
    ///   - bidOrders: Bid orders.
    ///   - askOrders: Ask orders.
    ///   - bidPrice: Bid price.
    ///   - askPrice: Ask price.
    public init(
        bidQuantity: UInt32 = 0, askQuantity: UInt32 = 0, bidOrders: UInt16 = 0, askOrders: UInt16 = 0,
        bidPrice: Float = 0, askPrice: Float = 0
    ) {
        self.bidQuantity = bidQuantity
        self.askQuantity = askQuantity
        self.bidOrders = bidOrders
        self.askOrders = askOrders
        self.bidPrice = bidPrice
        self.askPrice = askPrice
    }
}

/// Full packet (code 8): every quote field, open interest and 5 depth levels. The quote fields read as the full
/// packet's own (`full.lastPrice` is `full.quote.lastPrice`).
@dynamicMemberLookup
public struct DhanFull: Sendable, Equatable {
    /// The fields a quote packet has (on the wire the OI fields sit between the trade fields and OHLC).
    public var quote: DhanQuote
    /// Open interest.
    public var oi: UInt32
    /// Day's highest open interest.
    public var oiDayHigh: UInt32
    /// Day's lowest open interest.
    public var oiDayLow: UInt32
    /// Five depth levels, best first. The encoder writes the first five, padding with zero levels.
    public var depth: [DhanDepthLevel]

    /// Creates a full packet.
    /// - Parameters:
    ///   - quote: The quote fields, the instrument among them.
    ///   - oi: Open interest.
    ///   - oiDayHigh: Day's highest open interest.
    ///   - oiDayLow: Day's lowest open interest.
    ///   - depth: Five depth levels.
    public init(
        quote: DhanQuote, oi: UInt32 = 0, oiDayHigh: UInt32 = 0, oiDayLow: UInt32 = 0,
        depth: [DhanDepthLevel] = Array(repeating: DhanDepthLevel(), count: 5)
    ) {
        self.quote = quote
        self.oi = oi
        self.oiDayHigh = oiDayHigh
        self.oiDayLow = oiDayLow
        self.depth = depth
    }

    /// The quote's fields, read and written through the full packet.
    public subscript<T>(dynamicMember field: WritableKeyPath<DhanQuote, T>) -> T {
        get { quote[keyPath: field] }
        set { quote[keyPath: field] = newValue }
    }
}

/// A decoded Dhan market feed v2 packet.
public enum DhanPacket: Sendable, Equatable {
    /// Code 2.
    case ticker(DhanTicker)
    /// Code 4.
    case quote(DhanQuote)
    /// Code 5: open interest.
    case oi(DhanInstrumentID, oi: UInt32)
    /// Code 6: previous day's close price and open interest.
    case previousClose(DhanInstrumentID, price: Float, oi: UInt32)
    /// Code 8.
    case full(DhanFull)
    /// Code 7: market status (the header alone; dhanhq reports "Markets Open").
    case marketStatus(DhanInstrumentID)
    /// Code 50: the server is closing the connection; `code` is the reason (805 too many connections,
    /// 806 data APIs not subscribed, 807 token expired, 808 invalid client id, 809 authentication failed).
    case disconnect(DhanInstrumentID, code: UInt16)

    /// The response code of this packet.
    public var responseCode: DhanResponseCode {
        switch self {
        case .ticker: .ticker
        case .quote: .quote
        case .oi: .oi
        case .previousClose: .previousClose
        case .full: .full
        case .marketStatus: .marketStatus
        case .disconnect: .disconnect
        }
    }

    /// The instrument in the packet header.
    public var instrument: DhanInstrumentID {
        switch self {
        case let .ticker(p): p.instrument
        case let .quote(p): p.instrument
        case let .oi(id, _): id
        case let .previousClose(id, _, _): id
        case let .full(p): p.instrument
        case let .marketStatus(id): id
        case let .disconnect(id, _): id
        }
    }
}

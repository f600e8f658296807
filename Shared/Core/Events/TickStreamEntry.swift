/// One entry of the `{prefix}:ticks` stream (and of the `{prefix}:quote:{token}` hash): the field/value form a feed
/// writes for every tick and BackendService reads back (docs/feed.md, "Tick entry fields").
///
/// The names are short because they are written for every tick: `tk` token, `m` mode, `lp` last price, `rt` received
/// at (epoch ms), `ltq` `atp` `v` `tbq` `tsq` (quote), `o` `h` `l` `c` `ch` (day prices, net change), `ltt` `oi` `oih`
/// `oil` `ets` (full), `d` depth. Prices are exact decimal strings made from integers (``TickPrice``), never formatted
/// from floating point. Only `tk` and `lp` are required; every other field is written when the feed knows it.
///
/// Nothing here is broker-specific: a feed maps its own tick to this type (TickerService maps a `KiteTick`).
/// A field for the broker can be added later without changing the existing ones.
public struct TickStreamEntry: Sendable, Hashable {
    /// The instrument token (`tk`), positive.
    public var instrumentToken: Int64
    /// The mode the instrument is streamed in (`m`: `ltp`, `quote` or `full`).
    public var mode: SubscriptionMode?
    /// The last traded price (`lp`), never negative.
    public var lastPrice: TickPrice
    /// When the feed received the tick, epoch milliseconds (`rt`).
    public var receivedAtMillis: Int64?
    /// Quantity of the last trade (`ltq`).
    public var lastTradedQuantity: Int64?
    /// The day's volume-weighted average price (`atp`).
    public var averageTradedPrice: TickPrice?
    /// Cumulative traded volume of the day (`v`).
    public var volume: Int64?
    /// Total quantity bid (`tbq`).
    public var totalBuyQuantity: Int64?
    /// Total quantity offered (`tsq`).
    public var totalSellQuantity: Int64?
    /// Day open (`o`).
    public var open: TickPrice?
    /// Day high (`h`).
    public var high: TickPrice?
    /// Day low (`l`).
    public var low: TickPrice?
    /// Previous close (`c`).
    public var close: TickPrice?
    /// The exchange's net change (`ch`; indices).
    public var change: TickPrice?
    /// Time of the last trade, epoch seconds (`ltt`).
    public var lastTradeTime: Int64?
    /// Open interest (`oi`).
    public var openInterest: Int64?
    /// The day's highest open interest (`oih`).
    public var openInterestDayHigh: Int64?
    /// The day's lowest open interest (`oil`).
    public var openInterestDayLow: Int64?
    /// The exchange's timestamp of the tick, epoch seconds (`ets`).
    public var exchangeTimestamp: Int64?
    /// Market depth (`d`).
    public var depth: TickDepth?
    /// The broker the tick came from (`br`: `kite` or `dhan`); absent in entries written before Dhan streamed.
    public var broker: String?

    /// Creates an entry; fields left nil are not written.
    /// - Parameters:
    ///   - instrumentToken: The instrument token, positive.
    ///   - mode: The streaming mode.
    ///   - lastPrice: The last traded price.
    ///   - receivedAtMillis: When the feed received the tick, epoch milliseconds.
    public init(instrumentToken: Int64, mode: SubscriptionMode?, lastPrice: TickPrice, receivedAtMillis: Int64?) {
        self.instrumentToken = instrumentToken
        self.mode = mode
        self.lastPrice = lastPrice
        self.receivedAtMillis = receivedAtMillis
    }

    /// The field names, each written in one place.
    public enum Field {
        /// `tk`.
        public static let instrumentToken = "tk"
        /// `m`.
        public static let mode = "m"
        /// `lp`.
        public static let lastPrice = "lp"
        /// `rt`.
        public static let receivedAtMillis = "rt"
        /// `ltq`.
        public static let lastTradedQuantity = "ltq"
        /// `atp`.
        public static let averageTradedPrice = "atp"
        /// `v`.
        public static let volume = "v"
        /// `tbq`.
        public static let totalBuyQuantity = "tbq"
        /// `tsq`.
        public static let totalSellQuantity = "tsq"
        /// `o`.
        public static let open = "o"
        /// `h`.
        public static let high = "h"
        /// `l`.
        public static let low = "l"
        /// `c`.
        public static let close = "c"
        /// `ch`.
        public static let change = "ch"
        /// `ltt`.
        public static let lastTradeTime = "ltt"
        /// `oi`.
        public static let openInterest = "oi"
        /// `oih`.
        public static let openInterestDayHigh = "oih"
        /// `oil`.
        public static let openInterestDayLow = "oil"
        /// `ets`.
        public static let exchangeTimestamp = "ets"
        /// `d`.
        public static let depth = "d"
        /// `br`.
        public static let broker = "br"

        /// Every field an entry may carry, in the order they are written (so a mode downgrade can clear the rest).
        public static let all = [
            instrumentToken, mode, lastPrice, receivedAtMillis, lastTradedQuantity, averageTradedPrice, volume,
            totalBuyQuantity, totalSellQuantity, open, high, low, close, change, lastTradeTime, openInterest,
            openInterestDayHigh, openInterestDayLow, exchangeTimestamp, depth, broker,
        ]
    }

    /// Why a stream entry is not a tick.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        /// What was wrong, naming the field and its text.
        public var reason: String

        /// Creates the error.
        /// - Parameters:
        ///   - reason: What was wrong.
        public init(reason: String) { self.reason = reason }

        /// The reason.
        public var description: String { reason }
    }
}

// MARK: - Encoding

extension TickStreamEntry {
    /// The entry's field/value pairs in the fixed order of ``Field/all``, fields that are nil left out: the arguments
    /// of one `XADD` and of the quote hash's `HSET`.
    public func fields() -> [(String, String)] {
        var out: [(String, String)] = []
        out.reserveCapacity(depth == nil ? 19 : 21)
        out.append((Field.instrumentToken, String(instrumentToken)))
        if let mode { out.append((Field.mode, mode.streamName)) }
        out.append((Field.lastPrice, lastPrice.description))
        func put(_ name: String, _ value: Int64?) { if let value { out.append((name, String(value))) } }
        func put(_ name: String, _ value: TickPrice?) { if let value { out.append((name, value.description)) } }
        put(Field.receivedAtMillis, receivedAtMillis)
        put(Field.lastTradedQuantity, lastTradedQuantity)
        put(Field.averageTradedPrice, averageTradedPrice)
        put(Field.volume, volume)
        put(Field.totalBuyQuantity, totalBuyQuantity)
        put(Field.totalSellQuantity, totalSellQuantity)
        put(Field.open, open)
        put(Field.high, high)
        put(Field.low, low)
        put(Field.close, close)
        put(Field.change, change)
        put(Field.lastTradeTime, lastTradeTime)
        put(Field.openInterest, openInterest)
        put(Field.openInterestDayHigh, openInterestDayHigh)
        put(Field.openInterestDayLow, openInterestDayLow)
        put(Field.exchangeTimestamp, exchangeTimestamp)
        if let depth { out.append((Field.depth, depth.json)) }
        if let broker { out.append((Field.broker, broker)) }
        return out
    }
}

// MARK: - Decoding

extension TickStreamEntry {
    /// Which optional fields ``init(fields:decoding:)`` reads; a reader that needs a few fields skips parsing the rest.
    public struct FieldSet: OptionSet, Sendable, Hashable {
        /// The bits.
        public let rawValue: UInt32

        /// Creates a set from its bits.
        /// - Parameters:
        ///   - rawValue: The bits.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Read ``TickStreamEntry/mode``.
        public static let mode = FieldSet(rawValue: 1 << 0)
        /// Read ``TickStreamEntry/receivedAtMillis``.
        public static let receivedAtMillis = FieldSet(rawValue: 1 << 1)
        /// Read ``TickStreamEntry/lastTradedQuantity``.
        public static let lastTradedQuantity = FieldSet(rawValue: 1 << 2)
        /// Read ``TickStreamEntry/averageTradedPrice``.
        public static let averageTradedPrice = FieldSet(rawValue: 1 << 3)
        /// Read ``TickStreamEntry/volume``.
        public static let volume = FieldSet(rawValue: 1 << 4)
        /// Read ``TickStreamEntry/totalBuyQuantity``.
        public static let totalBuyQuantity = FieldSet(rawValue: 1 << 5)
        /// Read ``TickStreamEntry/totalSellQuantity``.
        public static let totalSellQuantity = FieldSet(rawValue: 1 << 6)
        /// Read ``TickStreamEntry/open``.
        public static let open = FieldSet(rawValue: 1 << 7)
        /// Read ``TickStreamEntry/high``.
        public static let high = FieldSet(rawValue: 1 << 8)
        /// Read ``TickStreamEntry/low``.
        public static let low = FieldSet(rawValue: 1 << 9)
        /// Read ``TickStreamEntry/close``.
        public static let close = FieldSet(rawValue: 1 << 10)
        /// Read ``TickStreamEntry/change``.
        public static let change = FieldSet(rawValue: 1 << 11)
        /// Read ``TickStreamEntry/lastTradeTime``.
        public static let lastTradeTime = FieldSet(rawValue: 1 << 12)
        /// Read ``TickStreamEntry/openInterest``.
        public static let openInterest = FieldSet(rawValue: 1 << 13)
        /// Read ``TickStreamEntry/openInterestDayHigh``.
        public static let openInterestDayHigh = FieldSet(rawValue: 1 << 14)
        /// Read ``TickStreamEntry/openInterestDayLow``.
        public static let openInterestDayLow = FieldSet(rawValue: 1 << 15)
        /// Read ``TickStreamEntry/exchangeTimestamp``.
        public static let exchangeTimestamp = FieldSet(rawValue: 1 << 16)
        /// Read ``TickStreamEntry/depth``.
        public static let depth = FieldSet(rawValue: 1 << 17)
        /// Read ``TickStreamEntry/broker``.
        public static let broker = FieldSet(rawValue: 1 << 18)
        /// Every optional field.
        public static let all = FieldSet(rawValue: (1 << 19) - 1)
    }

    /// Decodes an entry. `tk` and `lp` are required; an optional field that is absent or empty is nil.
    /// - Parameters:
    ///   - fields: The entry's field/value pairs as Redis returned them.
    ///   - decoding: The optional fields to read (all by default); the others stay nil.
    /// - Throws: ``Malformed`` when `tk` is not a positive integer, `lp` not a non-negative decimal, or a read field
    ///   does not parse.
    public init(fields: [String: String], decoding: FieldSet = .all) throws(Malformed) {
        guard let rawToken = fields[Field.instrumentToken] else { throw Malformed(reason: "no tk (instrument token)") }
        guard let token = Int64(rawToken), token > 0 else { throw Malformed(reason: "tk '\(rawToken)' is not a positive integer") }
        guard let rawPrice = fields[Field.lastPrice] else { throw Malformed(reason: "no lp (last price)") }
        guard let price = TickPrice(rawPrice), price.units >= 0 else { throw Malformed(reason: "lp '\(rawPrice)' is not a price") }
        self.init(instrumentToken: token, mode: nil, lastPrice: price, receivedAtMillis: nil)
        func integer(_ bit: FieldSet, _ name: String) throws(Malformed) -> Int64? {
            guard decoding.contains(bit) else { return nil }
            return try Self.integer(name, in: fields)
        }
        func decimal(_ bit: FieldSet, _ name: String) throws(Malformed) -> TickPrice? {
            guard decoding.contains(bit), let text = fields[name], !text.isEmpty else { return nil }
            guard let value = TickPrice(text) else { throw Malformed(reason: "\(name) '\(text)' is not a decimal") }
            return value
        }
        if decoding.contains(.mode), let text = fields[Field.mode], !text.isEmpty {
            guard let mode = SubscriptionMode(streamName: text) else { throw Malformed(reason: "m '\(text)' is not a mode") }
            self.mode = mode
        }
        receivedAtMillis = try integer(.receivedAtMillis, Field.receivedAtMillis)
        lastTradedQuantity = try integer(.lastTradedQuantity, Field.lastTradedQuantity)
        averageTradedPrice = try decimal(.averageTradedPrice, Field.averageTradedPrice)
        volume = try integer(.volume, Field.volume)
        totalBuyQuantity = try integer(.totalBuyQuantity, Field.totalBuyQuantity)
        totalSellQuantity = try integer(.totalSellQuantity, Field.totalSellQuantity)
        open = try decimal(.open, Field.open)
        high = try decimal(.high, Field.high)
        low = try decimal(.low, Field.low)
        close = try decimal(.close, Field.close)
        change = try decimal(.change, Field.change)
        lastTradeTime = try integer(.lastTradeTime, Field.lastTradeTime)
        openInterest = try integer(.openInterest, Field.openInterest)
        openInterestDayHigh = try integer(.openInterestDayHigh, Field.openInterestDayHigh)
        openInterestDayLow = try integer(.openInterestDayLow, Field.openInterestDayLow)
        exchangeTimestamp = try integer(.exchangeTimestamp, Field.exchangeTimestamp)
        if decoding.contains(.depth), let text = fields[Field.depth], !text.isEmpty {
            guard let depth = TickDepth(json: text) else { throw Malformed(reason: "d is not a depth object") }
            self.depth = depth
        }
        if decoding.contains(.broker), let text = fields[Field.broker], !text.isEmpty { broker = text }
    }
}

extension TickStreamEntry {
    /// Reads one integer field, for a reader that looks at a field only when another is missing.
    /// - Parameters:
    ///   - name: The field, e.g. ``Field/lastTradeTime``.
    ///   - fields: The entry's field/value pairs.
    /// - Returns: The value; nil when the field is absent or empty.
    /// - Throws: ``Malformed`` when the field is not an integer.
    public static func integer(_ name: String, in fields: [String: String]) throws(Malformed) -> Int64? {
        guard let text = fields[name], !text.isEmpty else { return nil }
        guard let value = Int64(text) else { throw Malformed(reason: "\(name) '\(text)' is not an integer") }
        return value
    }
}

extension SubscriptionMode {
    /// The mode as the tick stream spells it: `ltp`, `quote`, `full`.
    public var streamName: String {
        switch self {
        case .ltp: "ltp"
        case .quote: "quote"
        case .full: "full"
        }
    }

    /// Reads the tick stream's spelling of a mode.
    /// - Parameters:
    ///   - streamName: `ltp`, `quote` or `full`.
    public init?(streamName: String) {
        switch streamName {
        case "ltp": self = .ltp
        case "quote": self = .quote
        case "full": self = .full
        default: return nil
        }
    }
}

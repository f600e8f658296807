import Foundation
import Shared

/// One instrument's live quote as every `/api/v2` answer and the quote stream carry it, read from the latest
/// `{prefix}:ticks` entry or the `{prefix}:quote:{token}` hash (both are ``TickStreamEntry`` fields). A field the tick's
/// mode does not carry is `null`, never invented: an `ltp`-mode option has no bid, ask, volume or OI.
///
/// `{"instrument_token":..,"ltp":..,"bid":..|null,"ask":..|null,"volume":..|null,"oi":..|null,"close":..|null,
/// "change":..|null,"change_percent":..|null,"timestamp":"..."|null,"broker":"kite"|"dhan"|null}`
struct QuoteBody: Codable, Sendable, Equatable {
    var instrumentToken: Int64
    /// Last traded price.
    var ltp: Double
    /// Best bid and ask (depth level 1; full mode only).
    var bid: Double?
    var ask: Double?
    /// The day's cumulative volume.
    var volume: Int64?
    /// Open interest.
    var oi: Int64?
    /// Previous close.
    var close: Double?
    /// `ltp - close`, and that as a percentage of `close`; null without a previous close.
    var change: Double?
    var changePercent: Double?
    /// The tick's exchange time, else its last-trade time, else when TickerService received it.
    var timestamp: Date?
    var broker: String?

    enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case changePercent = "change_percent"
        case ltp, bid, ask, volume, oi, close, change, timestamp, broker
    }

    /// Writes every key, `null` for what the tick did not carry.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(instrumentToken, forKey: .instrumentToken)
        try container.encode(ltp, forKey: .ltp)
        try container.encode(bid, forKey: .bid)
        try container.encode(ask, forKey: .ask)
        try container.encode(volume, forKey: .volume)
        try container.encode(oi, forKey: .oi)
        try container.encode(close, forKey: .close)
        try container.encode(change, forKey: .change)
        try container.encode(changePercent, forKey: .changePercent)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(broker, forKey: .broker)
    }
}

extension QuoteBody {
    /// The quote a tick entry (or latest-quote hash) gives.
    /// - Parameter entry: The decoded entry.
    init(_ entry: TickStreamEntry) {
        instrumentToken = entry.instrumentToken
        ltp = entry.lastPrice.doubleValue
        bid = entry.depth?.buy.first.flatMap { $0.quantity > 0 || $0.price.units > 0 ? $0.price.doubleValue : nil }
        ask = entry.depth?.sell.first.flatMap { $0.quantity > 0 || $0.price.units > 0 ? $0.price.doubleValue : nil }
        volume = entry.volume
        oi = entry.openInterest
        close = entry.close.map(\.doubleValue).flatMap { $0 > 0 ? $0 : nil }
        if let close {
            change = ltp - close
            changePercent = (ltp - close) / close * 100
        }
        if let seconds = entry.exchangeTimestamp ?? entry.lastTradeTime, seconds > 0 {
            timestamp = Date(timeIntervalSince1970: TimeInterval(seconds))
        } else if let millis = entry.receivedAtMillis, millis > 0 {
            timestamp = Date(timeIntervalSince1970: TimeInterval(millis) / 1000)
        }
        broker = entry.broker
    }
}

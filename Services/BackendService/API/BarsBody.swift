import Foundation
import ServiceRuntime

/// `GET /bars`' body: the instrument, the range asked for, and its bars oldest first (docs/bars.md).
struct BarsBody: JSONResponseBody, Sendable {
    struct Bar: Encodable, Sendable {
        var time: Date
        var open: Double
        var high: Double
        var low: Double
        var close: Double
        var volume: Int64
        var oi: Int64
        /// `live` or `backfill`.
        var source: String

        init(_ bar: StoredBar) {
            time = bar.time
            open = bar.open
            high = bar.high
            low = bar.low
            close = bar.close
            volume = bar.volume
            oi = bar.oi
            source = bar.source
        }
    }

    var instrumentToken: Int64
    /// Null when the instrument is not in `instruments` (bars stored before it was known).
    var tradingsymbol: String?
    var exchange: String?
    var timeframe: String
    var from: Date
    var to: Date
    var bars: [Bar]

    enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case tradingsymbol, exchange, timeframe, from, to, count, bars
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(instrumentToken, forKey: .instrumentToken)
        // Written as null rather than left out, so clients see every field.
        try container.encode(tradingsymbol, forKey: .tradingsymbol)
        try container.encode(exchange, forKey: .exchange)
        try container.encode(timeframe, forKey: .timeframe)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(bars.count, forKey: .count)
        try container.encode(bars, forKey: .bars)
    }
}

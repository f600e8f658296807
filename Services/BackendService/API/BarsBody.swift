import Foundation
import ServiceRuntime

/// `GET /bars`' body: the instrument, the range asked for, and its bars oldest first (docs/bars.md).
struct BarsBody: JSONResponseBody, Sendable {
    var instrumentToken: Int64
    /// Null when the instrument is not in `instruments` (bars stored before it was known).
    var tradingsymbol: Nullable<String>
    var exchange: Nullable<String>
    var timeframe: String
    var from: Date
    var to: Date
    var count: Int
    var bars: [StoredBar]

    enum CodingKeys: String, CodingKey {
        case instrumentToken = "instrument_token"
        case tradingsymbol, exchange, timeframe, from, to, count, bars
    }

    init(instrument: InstrumentRef, timeframe: String, from: Date, to: Date, bars: [StoredBar]) {
        instrumentToken = instrument.instrumentToken
        tradingsymbol = Nullable(instrument.tradingsymbol)
        exchange = Nullable(instrument.exchange)
        self.timeframe = timeframe
        self.from = from
        self.to = to
        count = bars.count
        self.bars = bars
    }
}

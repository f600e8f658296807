import Shared

/// A `{prefix}:ticks` entry as bars use it: the fields of the shared ``TickStreamEntry`` that bars need, the tick's
/// time and its position in the stream (which orders ticks of the same second as TickerService wrote them).
struct StreamedTick: Sendable, Equatable {
    var instrumentToken: Int64
    var lastPrice: Double
    /// Cumulative traded volume of the day; nil when the mode does not carry it (ltp, indices).
    var cumulativeVolume: Int64?
    /// Open interest; nil when the mode does not carry it.
    var openInterest: Int64?
    /// The tick's time in epoch seconds: `ets`, else `ltt`, else `rt` / 1000, else the stream id's milliseconds / 1000.
    var epochSeconds: Int64
    /// The stream entry id's parts.
    var streamMillis: Int64
    var streamSequence: Int64

    typealias Malformed = TickStreamEntry.Malformed

    /// The optional fields bars always read; `ltt` and `rt` are read only when an earlier time field is missing, and the
    /// rest of an entry is not parsed.
    static let decodedFields: TickStreamEntry.FieldSet = [.volume, .openInterest, .exchangeTimestamp]

    /// Decodes an entry.
    /// - Parameters:
    ///   - id: The stream entry id (`ms-seq`).
    ///   - fields: Its field/value pairs.
    init(id: String, fields: [String: String]) throws(Malformed) {
        guard let (millis, sequence) = Self.parseID(id) else { throw Malformed(reason: "entry id '\(id)' is not ms-seq") }
        let entry = try TickStreamEntry(fields: fields, decoding: Self.decodedFields)
        instrumentToken = entry.instrumentToken
        lastPrice = entry.lastPrice.doubleValue
        streamMillis = millis
        streamSequence = sequence
        cumulativeVolume = entry.volume
        openInterest = entry.openInterest
        typealias Field = TickStreamEntry.Field
        if let seconds = entry.exchangeTimestamp, seconds > 0 {
            epochSeconds = seconds
        } else if let seconds = try TickStreamEntry.integer(Field.lastTradeTime, in: fields), seconds > 0 {
            epochSeconds = seconds
        } else if let received = try TickStreamEntry.integer(Field.receivedAtMillis, in: fields), received > 0 {
            epochSeconds = received / 1000
        } else {
            epochSeconds = millis / 1000
        }
    }

    /// Creates an entry directly (tests, benchmarks).
    init(instrumentToken: Int64, lastPrice: Double, cumulativeVolume: Int64?, openInterest: Int64?, epochSeconds: Int64, streamMillis: Int64, streamSequence: Int64) {
        self.instrumentToken = instrumentToken
        self.lastPrice = lastPrice
        self.cumulativeVolume = cumulativeVolume
        self.openInterest = openInterest
        self.epochSeconds = epochSeconds
        self.streamMillis = streamMillis
        self.streamSequence = streamSequence
    }

    /// Start of the tick's minute, epoch seconds.
    var minuteStart: Int64 { epochSeconds - ((epochSeconds % 60) + 60) % 60 }

    /// Orders ticks: exchange second, then stream order. Fixed-width text so that PostgreSQL compares it the same way.
    var orderKey: String { Self.orderKey(seconds: epochSeconds, millis: streamMillis, sequence: streamSequence) }

    static func orderKey(seconds: Int64, millis: Int64, sequence: Int64) -> String {
        pad(seconds, 12) + "-" + pad(millis, 15) + "-" + pad(sequence, 10)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(max(0, value))
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func parseID(_ id: String) -> (Int64, Int64)? {
        guard let dash = id.firstIndex(of: "-"), let millis = Int64(id[..<dash]), let sequence = Int64(id[id.index(after: dash)...]) else {
            return nil
        }
        return (millis, sequence)
    }
}

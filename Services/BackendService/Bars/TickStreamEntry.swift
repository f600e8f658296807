/// The fields of one `{prefix}:ticks` entry that bars need, decoded from TickerService's compact form
/// (docs/feed.md, "Tick entry fields"). TickerService is not imported: the stream format is the contract.
///
/// | field | used as |
/// | --- | --- |
/// | `tk` | instrument token (required) |
/// | `lp` | last price, decimal string (required) |
/// | `v` | cumulative day volume (quote/full, not indices) |
/// | `oi` | open interest (full) |
/// | `ets` | exchange timestamp, epoch seconds (full) |
/// | `ltt` | last trade time, epoch seconds (full, not indices) |
/// | `rt` | when TickerService received the frame, epoch milliseconds (all modes) |
struct TickStreamEntry: Sendable, Equatable {
    var instrumentToken: Int64
    var lastPrice: Double
    /// Cumulative traded volume of the day; nil when the mode does not carry it (ltp, indices).
    var cumulativeVolume: Int64?
    /// Open interest; nil when the mode does not carry it.
    var openInterest: Int64?
    /// The tick's time in epoch seconds: `ets`, else `ltt`, else `rt` / 1000, else the stream id's milliseconds / 1000.
    var epochSeconds: Int64
    /// The stream entry id's parts, which order ticks of the same second as TickerService wrote them.
    var streamMillis: Int64
    var streamSequence: Int64

    /// Why an entry cannot make a bar.
    struct Malformed: Error, Equatable, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// Decodes an entry.
    /// - Parameters:
    ///   - id: The stream entry id (`ms-seq`).
    ///   - fields: Its field/value pairs.
    init(id: String, fields: [String: String]) throws(Malformed) {
        guard let (millis, sequence) = Self.parseID(id) else { throw Malformed(reason: "entry id '\(id)' is not ms-seq") }
        guard let rawToken = fields["tk"] else { throw Malformed(reason: "no tk (instrument token)") }
        guard let token = Int64(rawToken), token > 0 else { throw Malformed(reason: "tk '\(rawToken)' is not a positive integer") }
        guard let rawPrice = fields["lp"] else { throw Malformed(reason: "no lp (last price)") }
        guard let price = Double(rawPrice), price.isFinite, price >= 0 else { throw Malformed(reason: "lp '\(rawPrice)' is not a price") }
        instrumentToken = token
        lastPrice = price
        streamMillis = millis
        streamSequence = sequence
        cumulativeVolume = try Self.optionalInteger(fields, "v")
        openInterest = try Self.optionalInteger(fields, "oi")
        if let seconds = try Self.optionalInteger(fields, "ets"), seconds > 0 {
            epochSeconds = seconds
        } else if let seconds = try Self.optionalInteger(fields, "ltt"), seconds > 0 {
            epochSeconds = seconds
        } else if let received = try Self.optionalInteger(fields, "rt"), received > 0 {
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

    private static func optionalInteger(_ fields: [String: String], _ name: String) throws(Malformed) -> Int64? {
        guard let text = fields[name], !text.isEmpty else { return nil }
        guard let value = Int64(text) else { throw Malformed(reason: "\(name) '\(text)' is not an integer") }
        return value
    }

    static func parseID(_ id: String) -> (Int64, Int64)? {
        guard let dash = id.firstIndex(of: "-"), let millis = Int64(id[..<dash]), let sequence = Int64(id[id.index(after: dash)...]) else {
            return nil
        }
        return (millis, sequence)
    }
}

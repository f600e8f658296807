import Foundation
import ServiceRuntime

/// `GET /fo/strike-distribution`'s body:
/// `{"status":"ok","series":[{"expiry":..,"strikes":[{"strike":..,"call":{..}|null,"put":{..}|null}],..}],"metadata":{..}}`.
struct StrikeDistributionBody: JSONResponseBody, Sendable {
    /// One expiry's strikes, ascending, with the open-interest totals.
    struct Expiry: Encodable, Sendable {
        var expiry: String
        var strikes: [Strike]
        var totalCallOI: Int64
        var totalPutOI: Int64
        /// Put/call ratio; null when no call has open interest.
        var pcr: Nullable<Double>

        enum CodingKeys: String, CodingKey {
            case expiry, strikes, pcr
            case totalCallOI = "total_call_oi"
            case totalPutOI = "total_put_oi"
        }
    }

    /// The latest bar of the call and of the put at one strike; null for a side without one.
    struct Strike: Encodable, Sendable {
        var strike: Double
        var call: Nullable<Side>
        var put: Nullable<Side>
    }

    struct Side: Encodable, Sendable {
        var instrumentToken: Int64
        var tradingsymbol: String
        var time: Date
        var close: Double
        var volume: Int64
        var oi: Int64

        enum CodingKeys: String, CodingKey {
            case instrumentToken = "instrument_token"
            case tradingsymbol, time, close, volume, oi
        }

        init(_ row: OptionBarRow) {
            instrumentToken = row.contract.instrumentToken
            tradingsymbol = row.contract.tradingsymbol
            time = row.time
            close = row.close
            volume = row.volume
            oi = row.oi
        }
    }

    /// The underlying price the chain was centred on.
    struct Underlying: Encodable, Sendable {
        var instrumentToken: Int64
        var price: Double
        var source: String

        enum CodingKeys: String, CodingKey {
            case instrumentToken = "instrument_token"
            case price, source
        }
    }

    /// What was asked and what happened (docs/bars.md, "Strike distribution"); the optional fields only when
    /// auto-subscription ran.
    struct Metadata: Encodable, Sendable {
        var symbol: String
        var timeframe: String
        var expiries: [String]
        var autoSubscribed = false
        var newlySubscribed: [Int64] = []
        var alreadySubscribed: [Int64] = []
        var failed: [Int64] = []
        var waitedMS = 0
        /// Why nothing was attempted; absent when auto-subscription ran.
        var reason: String?
        var dataAvailable = false
        var underlying: Underlying?
        var requested: Int?
        var instrumentsWithData: Int?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case symbol, timeframe, expiries, failed, reason, underlying, requested, error
            case autoSubscribed = "auto_subscribed"
            case newlySubscribed = "newly_subscribed"
            case alreadySubscribed = "already_subscribed"
            case waitedMS = "waited_ms"
            case dataAvailable = "data_available"
            case instrumentsWithData = "instruments_with_data"
        }
    }

    var status = "ok"
    var series: [Expiry]
    var metadata: Metadata

    /// Expiries and strikes ascending; per strike the call (`CE`) and the put (`PE`).
    /// - Parameter rows: The latest bar of each contract.
    static func series(_ rows: [OptionBarRow]) -> [Expiry] {
        var result: [Expiry] = []
        for (expiry, expiryRows) in Dictionary(grouping: rows, by: \.contract.expiry).sorted(by: { $0.key < $1.key }) {
            var strikes: [Strike] = []
            for (strike, strikeRows) in Dictionary(grouping: expiryRows, by: \.contract.strike).sorted(by: { $0.key < $1.key }) {
                let call = strikeRows.first { $0.contract.optionType == "CE" }
                let put = strikeRows.first { $0.contract.optionType == "PE" }
                strikes.append(Strike(strike: strike, call: Nullable(call.map(Side.init)), put: Nullable(put.map(Side.init))))
            }
            let callOI = expiryRows.filter { $0.contract.optionType == "CE" }.reduce(Int64(0)) { $0 + $1.oi }
            let putOI = expiryRows.filter { $0.contract.optionType == "PE" }.reduce(Int64(0)) { $0 + $1.oi }
            let pcr = callOI > 0 ? Double(putOI) / Double(callOI) : nil
            result.append(Expiry(expiry: expiry, strikes: strikes, totalCallOI: callOI, totalPutOI: putOI, pcr: Nullable(pcr)))
        }
        return result
    }
}

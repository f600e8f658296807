import BrokerWire
import Foundation
import NIOCore
import Shared

/// Writes `GET /subscriptions` bodies by hand: the document `APIJSON` (JSONEncoder with sorted keys and ISO-8601 dates)
/// would produce for `{"count":N,"subscriptions":[records]}`, written straight into a string. With tens of thousands of
/// rows the encoder's per-value overhead was most of the request's time.
enum SubscriptionListWriter {
    /// `{"count":N,"subscriptions":[...]}`.
    static func body(_ records: [SubscriptionRecord]) -> ByteBuffer {
        var out = "{\"count\":\(records.count),\"subscriptions\":["
        out.reserveCapacity(records.count * 320 + 64)
        for (index, record) in records.enumerated() {
            if index > 0 { out += "," }
            append(record, to: &out)
        }
        out += "]}"
        return ByteBuffer(string: out)
    }

    /// One subscription, keys in sorted order as JSONEncoder's `.sortedKeys` writes them.
    static func append(_ record: SubscriptionRecord, to out: inout String) {
        out += "{\"account_id\":"
        if let account = record.accountID { out += JSONText.quoted(account) } else { out += "null" }
        out += ",\"connection_id\":"
        if let connection = record.connectionID { out += String(connection) } else { out += "null" }
        out += ",\"created_at\":\""
        appendISO8601(record.createdAt, to: &out)
        out += "\",\"exchange\":"
        out += JSONText.quoted(record.exchange)
        out += ",\"holders\":["
        for (index, holder) in record.holders.enumerated() {
            if index > 0 { out += "," }
            out += "{\"holder\":"
            out += JSONText.quoted(holder.holder)
            out += ",\"mode\":\""
            out += holder.mode.rawValue
            out += "\"}"
        }
        out += "],\"instrument_token\":"
        out += String(record.instrumentToken)
        out += ",\"mode\":\""
        out += record.mode.rawValue
        out += "\",\"segment\":"
        out += JSONText.quoted(record.segment)
        out += ",\"status\":\""
        out += record.status.rawValue
        out += "\",\"tradingsymbol\":"
        out += JSONText.quoted(record.tradingsymbol)
        out += ",\"updated_at\":\""
        appendISO8601(record.updatedAt, to: &out)
        out += "\"}"
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` in UTC, fractional seconds dropped (as JSONEncoder's `.iso8601` writes a date).
    static func appendISO8601(_ date: Date, to out: inout String) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let day = KiteCalendarDate(daysSinceEpoch: days)
        out += day.iso
        out += "T"
        appendTwoDigits(secondOfDay / 3600, to: &out)
        out += ":"
        appendTwoDigits(secondOfDay % 3600 / 60, to: &out)
        out += ":"
        appendTwoDigits(secondOfDay % 60, to: &out)
        out += "Z"
    }

    private static func appendTwoDigits(_ value: Int, to out: inout String) {
        if value < 10 { out += "0" }
        out += String(value)
    }
}

import BrokerWire
import Foundation
import NIOCore
import Shared

/// Writes `GET /subscriptions` bodies by hand: the document `APIJSON` (JSONEncoder with sorted keys and ISO-8601 dates)
/// would produce for ``SubscriptionListJSON``, written straight into the response buffer. With 25,000
/// rows the encoder was most of the request: p50 481 ms with it, about 200 ms without (`Benchmarks ticker`).
public enum SubscriptionListWriter {
    /// `{"count":N,"subscriptions":[...]}`.
    /// - Parameter records: The subscriptions in token order.
    public static func body(_ records: [SubscriptionRecord]) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(records.count * 360 + 64)
        out.writeString("{\"count\":\(records.count),\"subscriptions\":[")
        for (index, record) in records.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            append(record, to: &out)
        }
        out.writeStaticString("]}")
        return out
    }

    /// One subscription, keys in sorted order as JSONEncoder's `.sortedKeys` writes them.
    /// - Parameters:
    ///   - record: The subscription.
    ///   - out: The buffer written to.
    public static func append(_ record: SubscriptionRecord, to out: inout ByteBuffer) {
        out.writeStaticString("{\"account_id\":")
        if let account = record.accountID { out.writeString(JSONText.quoted(account)) } else { out.writeStaticString("null") }
        out.writeStaticString(",\"connection_id\":")
        if let connection = record.connectionID { out.writeString(String(connection)) } else { out.writeStaticString("null") }
        out.writeStaticString(",\"created_at\":\"")
        appendISO8601(record.createdAt, to: &out)
        out.writeStaticString("\",\"exchange\":")
        out.writeString(JSONText.quoted(record.exchange))
        out.writeStaticString(",\"holders\":[")
        for (index, holder) in record.holders.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            out.writeStaticString("{\"holder\":")
            out.writeString(JSONText.quoted(holder.holder))
            out.writeStaticString(",\"mode\":\"")
            out.writeString(holder.mode.rawValue)
            out.writeStaticString("\"}")
        }
        out.writeStaticString("],\"instrument_token\":")
        out.writeString(String(record.instrumentToken))
        out.writeStaticString(",\"mode\":\"")
        out.writeString(record.mode.rawValue)
        out.writeStaticString("\",\"segment\":")
        out.writeString(JSONText.quoted(record.segment))
        out.writeStaticString(",\"status\":\"")
        out.writeString(record.status.rawValue)
        out.writeStaticString("\",\"tradingsymbol\":")
        out.writeString(JSONText.quoted(record.tradingsymbol))
        out.writeStaticString(",\"updated_at\":\"")
        appendISO8601(record.updatedAt, to: &out)
        out.writeStaticString("\"}")
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` in UTC, fractional seconds dropped (as JSONEncoder's `.iso8601` writes a date).
    /// - Parameters:
    ///   - date: The instant.
    ///   - out: The buffer written to.
    public static func appendISO8601(_ date: Date, to out: inout ByteBuffer) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let day = KiteCalendarDate(daysSinceEpoch: days)
        out.writeString(day.iso)
        out.writeStaticString("T")
        appendTwoDigits(secondOfDay / 3600, to: &out)
        out.writeStaticString(":")
        appendTwoDigits(secondOfDay % 3600 / 60, to: &out)
        out.writeStaticString(":")
        appendTwoDigits(secondOfDay % 60, to: &out)
        out.writeStaticString("Z")
    }

    private static func appendTwoDigits(_ value: Int, to out: inout ByteBuffer) {
        if value < 10 { out.writeStaticString("0") }
        out.writeString(String(value))
    }
}

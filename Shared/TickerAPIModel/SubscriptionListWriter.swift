import BrokerWire
import Foundation
import NIOCore
import Shared

/// Writes `GET /subscriptions` bodies by hand: the document `APIJSON` (JSONEncoder with sorted keys and ISO-8601 dates)
/// would produce for ``SubscriptionListJSON``, written straight into the response buffer. With 25,000
/// rows the encoder was most of the request: p50 481 ms with it, about 200 ms without (`Benchmarks ticker`).
public enum SubscriptionListWriter {
    /// Whether a body is the whole list or one page of it.
    public enum Extent: Sendable, Equatable {
        /// Every subscription: the seeds' `{"count":N,"subscriptions":[...]}`.
        case whole
        /// One page: the same keys and `next_cursor`, the cursor of the following page (null on the last).
        case page(nextCursor: String?)
    }

    /// `{"count":N,"subscriptions":[...]}`, and `"next_cursor"` for a page.
    /// - Parameters:
    ///   - records: The subscriptions in token order.
    ///   - extent: The whole list or one page.
    public static func body(_ records: [SubscriptionRecord], extent: Extent = .whole) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(records.count * 360 + 96)
        out.writeString("{\"count\":\(records.count),")
        if case .page(let cursor) = extent {
            out.writeStaticString("\"next_cursor\":")
            if let cursor { appendQuoted(cursor, to: &out) } else { out.writeStaticString("null") }
            out.writeStaticString(",")
        }
        out.writeStaticString("\"subscriptions\":[")
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
        if let account = record.accountID { appendQuoted(account, to: &out) } else { out.writeStaticString("null") }
        out.writeStaticString(",\"connection_id\":")
        if let connection = record.connectionID { appendDecimal(Int64(connection), to: &out) } else { out.writeStaticString("null") }
        out.writeStaticString(",\"created_at\":\"")
        appendISO8601(record.createdAt, to: &out)
        out.writeStaticString("\",\"exchange\":")
        appendQuoted(record.exchange, to: &out)
        out.writeStaticString(",\"holders\":[")
        for (index, holder) in record.holders.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            out.writeStaticString("{\"holder\":")
            appendQuoted(holder.holder, to: &out)
            out.writeStaticString(",\"mode\":\"")
            out.writeString(holder.mode.rawValue)
            out.writeStaticString("\"}")
        }
        out.writeStaticString("],\"instrument_token\":")
        appendDecimal(record.instrumentToken, to: &out)
        out.writeStaticString(",\"mode\":\"")
        out.writeString(record.mode.rawValue)
        out.writeStaticString("\",\"segment\":")
        appendQuoted(record.segment, to: &out)
        out.writeStaticString(",\"status\":\"")
        out.writeString(record.status.rawValue)
        out.writeStaticString("\",\"tradingsymbol\":")
        appendQuoted(record.tradingsymbol, to: &out)
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
        if (0...9999).contains(day.year) {
            appendTwoDigits(day.year / 100, to: &out)
            appendTwoDigits(day.year % 100, to: &out)
            out.writeInteger(UInt8(ascii: "-"))
            appendTwoDigits(day.month, to: &out)
            out.writeInteger(UInt8(ascii: "-"))
            appendTwoDigits(day.day, to: &out)
        } else {
            out.writeString(day.iso)
        }
        out.writeStaticString("T")
        appendTwoDigits(secondOfDay / 3600, to: &out)
        out.writeStaticString(":")
        appendTwoDigits(secondOfDay % 3600 / 60, to: &out)
        out.writeStaticString(":")
        appendTwoDigits(secondOfDay % 60, to: &out)
        out.writeStaticString("Z")
    }

    /// `00`…`99`.
    private static func appendTwoDigits(_ value: Int, to out: inout ByteBuffer) {
        out.writeInteger(UInt8(truncatingIfNeeded: 48 + value / 10))
        out.writeInteger(UInt8(truncatingIfNeeded: 48 + value % 10))
    }

    /// A whole number in decimal, without making a `String` of it.
    static func appendDecimal(_ value: Int64, to out: inout ByteBuffer) {
        if value < 0 {
            out.writeInteger(UInt8(ascii: "-"))
            if value == .min {
                out.writeString(String(String(value).dropFirst()))
                return
            }
        }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[19 - count] = UInt8(truncatingIfNeeded: 48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[(20 - count)...]))
        }
    }

    /// A JSON string literal: the text's UTF-8 bytes between quotes when nothing in it needs escaping (symbols, holder
    /// names, account ids), ``JSONText/quoted(_:)`` otherwise.
    static func appendQuoted(_ text: String, to out: inout ByteBuffer) {
        var plain = true
        for byte in text.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        guard plain else {
            out.writeString(JSONText.quoted(text))
            return
        }
        out.writeInteger(UInt8(ascii: "\""))
        out.writeString(text)
        out.writeInteger(UInt8(ascii: "\""))
    }
}

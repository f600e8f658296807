import Foundation
import SharedBasics
import SharedJSON

/// Encodes ``FeedGap`` as the JSON of a `{prefix}:feed-gaps` entry's `gap` field, and decodes it strictly: every
/// error names the field, and a message quotes at most a short prefix of a bad value.
///
/// ```json
/// {"account_id":"kite-main","connection_id":"kite-main#0","end_ms":1764651630000,"gap_id":"…",
///  "instrument_tokens":[408065,738561],"reason":"stall","schema_version":1,"start_ms":1764651610000}
/// ```
public enum FeedGapCodec {
    /// The stream entry's field holding the JSON.
    public static let entryField = "gap"
    /// The most instruments one gap may name; a publisher splits larger gaps.
    public static let maximumInstruments = 5_000

    /// Encodes a gap as compact JSON with sorted keys.
    /// - Parameter gap: The gap.
    /// - Returns: UTF-8 JSON text.
    public static func encode(_ gap: FeedGap) -> String {
        var object: [String: JSONValue] = [
            "gap_id": .string(gap.gapID),
            "reason": .string(gap.reason.rawValue),
            "start_ms": .integer(gap.startMillis),
            "end_ms": .integer(gap.endMillis),
            "instrument_tokens": .array(gap.instrumentTokens.map { .integer($0) }),
            "schema_version": .integer(Int64(gap.schemaVersion)),
        ]
        if let accountID = gap.accountID { object["account_id"] = .string(accountID) }
        if let connectionID = gap.connectionID { object["connection_id"] = .string(connectionID) }
        return JSONValue.object(object).jsonText
    }

    /// Decodes a gap from JSON text.
    /// - Parameter text: The payload.
    public static func decode(_ text: String) throws(SubscriptionEventError) -> FeedGap {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(Array(text.utf8))
        } catch {
            throw SubscriptionEventError(.malformedJSON, message: "payload is not valid JSON")
        }
        guard case .object(let object) = parsed else {
            throw SubscriptionEventError(.malformedJSON, message: "payload is not a JSON object")
        }
        guard let gapID = object["gap_id"]?.stringValue, !gapID.isEmpty, gapID.utf8.count <= 128 else {
            throw SubscriptionEventError(.invalidField, field: "gap_id", message: "must be a string of 1 to 128 bytes")
        }
        guard let reasonText = object["reason"]?.stringValue else {
            throw SubscriptionEventError(.missingField, field: "reason", message: "is required and must be a string")
        }
        guard let reason = FeedGap.Reason(rawValue: reasonText) else {
            throw SubscriptionEventError(
                .invalidField, field: "reason",
                message: "\(Excerpt.quoted(reasonText)) is not one of \(FeedGap.Reason.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard let start = object["start_ms"]?.integerValue, start > 0 else {
            throw SubscriptionEventError(.invalidField, field: "start_ms", message: "must be a positive integer (epoch ms)")
        }
        guard let end = object["end_ms"]?.integerValue, end >= start else {
            throw SubscriptionEventError(.invalidField, field: "end_ms", message: "must be an integer not before start_ms")
        }
        guard let rawTokens = object["instrument_tokens"]?.arrayValue, !rawTokens.isEmpty, rawTokens.count <= maximumInstruments else {
            throw SubscriptionEventError(
                .invalidField, field: "instrument_tokens", message: "must be an array of 1 to \(maximumInstruments) instrument tokens"
            )
        }
        var tokens: [Int64] = []
        tokens.reserveCapacity(rawTokens.count)
        var seen = Set<Int64>()
        for raw in rawTokens {
            guard let token = raw.integerValue, token > 0 else {
                throw SubscriptionEventError(.invalidField, field: "instrument_tokens", message: "must hold positive integers only")
            }
            if seen.insert(token).inserted { tokens.append(token) }
        }
        let version = object["schema_version"]?.integerValue.map(Int.init) ?? FeedGap.currentSchemaVersion
        return FeedGap(
            gapID: gapID, reason: reason,
            accountID: try optionalText(object["account_id"], field: "account_id"),
            connectionID: try optionalText(object["connection_id"], field: "connection_id"),
            startMillis: start, endMillis: end, instrumentTokens: tokens, schemaVersion: version
        )
    }

    private static func optionalText(_ value: JSONValue?, field: String) throws(SubscriptionEventError) -> String? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.stringValue, text.utf8.count <= 128 else {
            throw SubscriptionEventError(.invalidField, field: field, message: "must be a string of at most 128 bytes")
        }
        return text
    }
}

import Foundation
import SharedBasics
import SharedJSON

/// Encodes ``SubscriptionEvent`` as the JSON every consumer expects, and decodes every spelling the seeds
/// and their tools ever sent: `subscription_created`; `subscription_removed` and the legacy
/// `subscription_deleted`; the webhook's `created`, `removed`, `deleted`; timestamps as epoch seconds
/// (number or numeric string) or ISO-8601 text.
public enum SubscriptionEventCodec {
    /// Every `event_type` spelling accepted, and the kind it means.
    public static let acceptedEventTypes: [String: SubscriptionEvent.Kind] = [
        "subscription_created": .created,
        "created": .created,
        "subscription_removed": .removed,
        "subscription_deleted": .removed,
        "removed": .removed,
        "deleted": .removed,
    ]

    /// Encodes an event as compact JSON with sorted keys.
    /// - Parameter event: The event.
    /// - Returns: UTF-8 JSON text.
    public static func encode(_ event: SubscriptionEvent) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings and numbers only: encoding cannot fail.
        let data = (try? encoder.encode(SubscriptionEventWire(event))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes an event from JSON text.
    /// - Parameter text: The payload.
    public static func decode(_ text: String) throws(SubscriptionEventError) -> SubscriptionEvent {
        try decode(Array(text.utf8))
    }

    /// Decodes an event from JSON bytes.
    /// - Parameter bytes: The payload.
    public static func decode(_ bytes: [UInt8]) throws(SubscriptionEventError) -> SubscriptionEvent {
        try decodeSpelled(bytes).event
    }

    /// Decodes an event from JSON bytes and says how its `event_type` was spelled (`created`, `subscription_deleted`,
    /// ...), for answers that echo it.
    /// - Parameter bytes: The payload.
    public static func decodeSpelled(_ bytes: [UInt8]) throws(SubscriptionEventError) -> (event: SubscriptionEvent, eventType: String) {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(bytes)
        } catch {
            throw SubscriptionEventError(.malformedJSON, message: "payload is not valid JSON")
        }
        guard case .object(let object) = parsed else {
            throw SubscriptionEventError(.malformedJSON, message: "payload is not a JSON object")
        }
        return try decode(object: object)
    }

    private static func decode(object: [String: JSONValue]) throws(SubscriptionEventError) -> (event: SubscriptionEvent, eventType: String) {
        guard let rawType = object["event_type"] else {
            throw SubscriptionEventError(.missingField, field: "event_type", message: "is required")
        }
        guard let typeText = rawType.stringValue else {
            throw SubscriptionEventError(.invalidField, field: "event_type", message: "must be a string")
        }
        guard let kind = acceptedEventTypes[typeText.lowercased()] else {
            throw SubscriptionEventError(
                .unknownEventType, field: "event_type",
                message: "\(Excerpt.quoted(typeText)) is not a subscription event kind (one of \(acceptedEventTypes.keys.sorted().joined(separator: ", ")))"
            )
        }

        guard let rawToken = object["instrument_token"], !rawToken.isNull else {
            throw SubscriptionEventError(.missingField, field: "instrument_token", message: "is required")
        }
        guard let token = rawToken.integerValue, token > 0 else {
            throw SubscriptionEventError(.invalidField, field: "instrument_token", message: "must be a positive integer")
        }

        let metadata = try decodeMetadata(object["metadata"])
        let tradingsymbol = try optionalString(object["tradingsymbol"], field: "tradingsymbol")

        guard let rawTimestamp = object["timestamp"], !rawTimestamp.isNull else {
            throw SubscriptionEventError(.missingField, field: "timestamp", message: "is required")
        }
        guard let timestamp = EventTimestamp.seconds(from: rawTimestamp) else {
            throw SubscriptionEventError(
                .invalidField, field: "timestamp", message: "must be epoch seconds or an ISO-8601 date-time"
            )
        }

        let sequence: Int64?
        if let rawSequence = object["sequence"], !rawSequence.isNull {
            guard let value = rawSequence.integerValue else {
                throw SubscriptionEventError(.invalidField, field: "sequence", message: "must be an integer")
            }
            sequence = value
        } else {
            sequence = nil
        }

        let schemaVersion: Int
        if let rawVersion = object["schema_version"], !rawVersion.isNull {
            guard let value = rawVersion.integerValue, value >= 1, value <= Int64(Int32.max) else {
                throw SubscriptionEventError(.invalidField, field: "schema_version", message: "must be a positive integer")
            }
            schemaVersion = Int(value)
        } else {
            schemaVersion = 1
        }

        let eventID: String
        if let rawID = object["event_id"], !rawID.isNull {
            guard let text = rawID.stringValue, !text.isEmpty else {
                throw SubscriptionEventError(.invalidField, field: "event_id", message: "must be a non-empty string")
            }
            eventID = text
        } else {
            // Legacy publishers send no id: derive one, so a redelivery of the same payload is recognised.
            eventID = "legacy:\(kind.rawValue):\(token):\(timestamp)"
        }

        let event = SubscriptionEvent(
            eventID: eventID,
            kind: kind,
            instrumentToken: token,
            tradingsymbol: tradingsymbol,
            metadata: metadata,
            timestamp: timestamp,
            sequence: sequence,
            schemaVersion: schemaVersion
        )
        return (event, typeText)
    }

    private static func decodeMetadata(_ raw: JSONValue?) throws(SubscriptionEventError) -> SubscriptionEvent.Metadata {
        guard let raw, !raw.isNull else { return SubscriptionEvent.Metadata() }
        guard case .object(let object) = raw else {
            throw SubscriptionEventError(.invalidField, field: "metadata", message: "must be a JSON object")
        }
        var mode: SubscriptionMode?
        if let rawMode = try optionalString(object["requested_mode"], field: "metadata.requested_mode") {
            guard let parsed = SubscriptionMode(caseInsensitive: rawMode) else {
                throw SubscriptionEventError(
                    .invalidField, field: "metadata.requested_mode", message: "\(Excerpt.quoted(rawMode)) is not one of LTP, QUOTE, FULL"
                )
            }
            mode = parsed
        }
        return SubscriptionEvent.Metadata(
            tradingsymbol: try optionalString(object["tradingsymbol"], field: "metadata.tradingsymbol"),
            segment: try optionalString(object["segment"], field: "metadata.segment"),
            requestedMode: mode,
            accountID: try optionalString(object["account_id"], field: "metadata.account_id")
        )
    }

    private static func optionalString(_ raw: JSONValue?, field: String) throws(SubscriptionEventError) -> String? {
        guard let raw, !raw.isNull else { return nil }
        guard let text = raw.stringValue else {
            throw SubscriptionEventError(.invalidField, field: field, message: "must be a string")
        }
        return text
    }
}

/// The JSON of an event as publishers write it: `metadata` keeps only the details given, and a whole-second timestamp
/// is written as an integer, as seed 000 shows it.
private struct SubscriptionEventWire: Encodable {
    struct Metadata: Encodable {
        var tradingsymbol: String?
        var segment: String?
        var requestedMode: String?
        var accountID: String?

        enum CodingKeys: String, CodingKey {
            case tradingsymbol, segment
            case requestedMode = "requested_mode"
            case accountID = "account_id"
        }
    }

    var eventID: String
    var eventType: String
    var instrumentToken: Int64
    var metadata: Metadata
    var schemaVersion: Int
    var timestamp: JSONValue
    var tradingsymbol: String?
    var sequence: Int64?

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id"
        case eventType = "event_type"
        case instrumentToken = "instrument_token"
        case metadata
        case schemaVersion = "schema_version"
        case timestamp, tradingsymbol, sequence
    }

    init(_ event: SubscriptionEvent) {
        eventID = event.eventID
        eventType = event.kind.rawValue
        instrumentToken = event.instrumentToken
        metadata = Metadata(
            tradingsymbol: event.metadata.tradingsymbol, segment: event.metadata.segment,
            requestedMode: event.metadata.requestedMode?.rawValue, accountID: event.metadata.accountID
        )
        schemaVersion = event.schemaVersion
        let whole = event.timestamp == event.timestamp.rounded() && abs(event.timestamp) < 1e15
        timestamp = whole ? .integer(Int64(event.timestamp)) : .number(event.timestamp)
        tradingsymbol = event.tradingsymbol
        sequence = event.sequence
    }
}

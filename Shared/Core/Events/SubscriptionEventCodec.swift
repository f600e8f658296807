import Foundation

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
        var metadata: [String: Any] = [:]
        if let symbol = event.metadata.tradingsymbol { metadata["tradingsymbol"] = symbol }
        if let segment = event.metadata.segment { metadata["segment"] = segment }
        if let mode = event.metadata.requestedMode { metadata["requested_mode"] = mode.rawValue }
        if let account = event.metadata.accountID { metadata["account_id"] = account }
        var object: [String: Any] = [
            "event_id": event.eventID,
            "event_type": event.kind.rawValue,
            "instrument_token": event.instrumentToken,
            "metadata": metadata,
            "schema_version": event.schemaVersion,
        ]
        // Whole seconds stay integers, as seed 000 shows them.
        if event.timestamp == event.timestamp.rounded(), abs(event.timestamp) < 1e15 {
            object["timestamp"] = Int64(event.timestamp)
        } else {
            object["timestamp"] = event.timestamp
        }
        if let symbol = event.tradingsymbol { object["tradingsymbol"] = symbol }
        if let sequence = event.sequence { object["sequence"] = sequence }
        // Serialising a dictionary of strings and numbers cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
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
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw SubscriptionEventError(.malformedJSON, message: "payload is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw SubscriptionEventError(.malformedJSON, message: "payload is not a JSON object")
        }
        return try decode(object: object)
    }

    /// Decodes an event from an already parsed JSON object.
    /// - Parameter object: The JSON object.
    public static func decode(object: [String: Any]) throws(SubscriptionEventError) -> SubscriptionEvent {
        guard let rawType = object["event_type"] else {
            throw SubscriptionEventError(.missingField, field: "event_type", message: "is required")
        }
        guard let typeText = rawType as? String else {
            throw SubscriptionEventError(.invalidField, field: "event_type", message: "must be a string")
        }
        guard let kind = acceptedEventTypes[typeText.lowercased()] else {
            throw SubscriptionEventError(.unknownEventType, field: "event_type", message: "'\(typeText)' is not a subscription event kind")
        }

        guard let rawToken = object["instrument_token"], !(rawToken is NSNull) else {
            throw SubscriptionEventError(.missingField, field: "instrument_token", message: "is required")
        }
        guard let token = integer(rawToken), token > 0 else {
            throw SubscriptionEventError(.invalidField, field: "instrument_token", message: "must be a positive integer")
        }

        let metadata = try decodeMetadata(object["metadata"])
        let tradingsymbol = try optionalString(object["tradingsymbol"], field: "tradingsymbol")

        guard let rawTimestamp = object["timestamp"], !(rawTimestamp is NSNull) else {
            throw SubscriptionEventError(.missingField, field: "timestamp", message: "is required")
        }
        guard let timestamp = EventTimestamp.seconds(from: rawTimestamp) else {
            throw SubscriptionEventError(
                .invalidField, field: "timestamp", message: "must be epoch seconds or an ISO-8601 date-time"
            )
        }

        let sequence: Int64?
        if let rawSequence = object["sequence"], !(rawSequence is NSNull) {
            guard let value = integer(rawSequence) else {
                throw SubscriptionEventError(.invalidField, field: "sequence", message: "must be an integer")
            }
            sequence = value
        } else {
            sequence = nil
        }

        let schemaVersion: Int
        if let rawVersion = object["schema_version"], !(rawVersion is NSNull) {
            guard let value = integer(rawVersion), value >= 1 else {
                throw SubscriptionEventError(.invalidField, field: "schema_version", message: "must be a positive integer")
            }
            schemaVersion = Int(value)
        } else {
            schemaVersion = 1
        }

        let eventID: String
        if let rawID = object["event_id"], !(rawID is NSNull) {
            guard let text = rawID as? String, !text.isEmpty else {
                throw SubscriptionEventError(.invalidField, field: "event_id", message: "must be a non-empty string")
            }
            eventID = text
        } else {
            // Legacy publishers send no id: derive one, so a redelivery of the same payload is recognised.
            eventID = "legacy:\(kind.rawValue):\(token):\(timestamp)"
        }

        return SubscriptionEvent(
            eventID: eventID,
            kind: kind,
            instrumentToken: token,
            tradingsymbol: tradingsymbol,
            metadata: metadata,
            timestamp: timestamp,
            sequence: sequence,
            schemaVersion: schemaVersion
        )
    }

    private static func decodeMetadata(_ raw: Any?) throws(SubscriptionEventError) -> SubscriptionEvent.Metadata {
        guard let raw, !(raw is NSNull) else { return SubscriptionEvent.Metadata() }
        guard let object = raw as? [String: Any] else {
            throw SubscriptionEventError(.invalidField, field: "metadata", message: "must be a JSON object")
        }
        var mode: SubscriptionMode?
        if let rawMode = try optionalString(object["requested_mode"], field: "metadata.requested_mode") {
            guard let parsed = SubscriptionMode(caseInsensitive: rawMode) else {
                throw SubscriptionEventError(
                    .invalidField, field: "metadata.requested_mode", message: "'\(rawMode)' is not one of LTP, QUOTE, FULL"
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

    private static func optionalString(_ raw: Any?, field: String) throws(SubscriptionEventError) -> String? {
        guard let raw, !(raw is NSNull) else { return nil }
        guard let text = raw as? String else {
            throw SubscriptionEventError(.invalidField, field: field, message: "must be a string")
        }
        return text
    }

    /// Integers arrive as JSON numbers (never booleans) or as decimal strings.
    static func integer(_ raw: Any) -> Int64? {
        if let number = raw as? NSNumber {
            // JSON booleans arrive as NSNumber too; their type code is "c".
            if String(cString: number.objCType) == "c" { return nil }
            let double = number.doubleValue
            guard double.isFinite, double == double.rounded(), abs(double) < 9.2e18 else { return nil }
            return number.int64Value
        }
        if let text = raw as? String { return Int64(text.trimmingCharacters(in: .whitespaces)) }
        return nil
    }
}

import Foundation
import Shared
import Testing

@Suite("Subscription event schema")
struct SubscriptionEventCodecTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test("seed 000's subscription_created decodes with every field")
    func seed000Created() throws {
        let event = try SubscriptionEventCodec.decode(Self.fixture("seed000_subscription_created"))
        #expect(event.kind == .created)
        #expect(event.instrumentToken == 13_660_418)
        #expect(event.tradingsymbol == "NIFTY25NOV24500CE")  // falls back to metadata
        #expect(event.metadata == .init(tradingsymbol: "NIFTY25NOV24500CE", segment: "NFO", requestedMode: .full, accountID: "primary"))
        #expect(event.timestamp == 1_698_860_400)
        #expect(event.sequence == nil)
        #expect(event.schemaVersion == 1)
    }

    @Test("seed 000's subscription_removed decodes as removal")
    func seed000Removed() throws {
        let event = try SubscriptionEventCodec.decode(Self.fixture("seed000_subscription_removed"))
        #expect(event.kind == .removed)
        #expect(event.metadata.requestedMode == nil)
        #expect(event.timestamp == 1_698_860_401)
    }

    @Test("the seeds' manual redis-cli PUBLISH payloads decode", arguments: [
        "seed000_manual_publish", "seed001_expected_event", "seed001_local_test_publish",
    ])
    func manualPublish(name: String) throws {
        let event = try SubscriptionEventCodec.decode(Self.fixture(name))
        #expect(event.kind == .created)
        #expect(event.instrumentToken == 13_660_418)
        #expect(event.tradingsymbol == "NIFTY25NOV24500CE")
        #expect(event.metadata.accountID == "primary")
        #expect(event.metadata.requestedMode == .full)
        #expect(event.timestamp == 1_730_462_400)
    }

    @Test("seed 002's webhook bodies decode, with ISO-8601 string timestamps")
    func webhookBodies() throws {
        let created = try SubscriptionEventCodec.decode(Self.fixture("seed002_webhook_created"))
        #expect(created.kind == .created)
        // Naive isoformat() is UTC: 2025-11-01T12:00:00.123456Z.
        #expect(abs(created.timestamp - 1_761_998_400.123456) < 1e-5)
        #expect(created.metadata == .init())
        let deleted = try SubscriptionEventCodec.decode(Self.fixture("seed002_webhook_deleted"))
        #expect(deleted.kind == .removed)
        #expect(deleted.timestamp == 1_761_998_400)  // 17:30 IST is 12:00 UTC
    }

    @Test("every legacy and webhook spelling maps to one of the two kinds", arguments: [
        ("subscription_created", SubscriptionEvent.Kind.created), ("created", .created), ("CREATED", .created),
        ("subscription_removed", .removed), ("subscription_deleted", .removed), ("removed", .removed), ("deleted", .removed),
    ])
    func spellings(type: String, kind: SubscriptionEvent.Kind) throws {
        let event = try SubscriptionEventCodec.decode(#"{"event_type":"\#(type)","instrument_token":256265,"timestamp":1}"#)
        #expect(event.kind == kind)
    }

    @Test("what we publish decodes to the same event, with id, sequence and schema version")
    func roundTrip() throws {
        let event = SubscriptionEvent(
            eventID: "5f0c5d0e-2f6b-4b71-9d55-0a4a1f7a2c11", kind: .created, instrumentToken: 13_660_418,
            tradingsymbol: "NIFTY25NOV24500CE",
            metadata: .init(tradingsymbol: "NIFTY25NOV24500CE", segment: "NFO-OPT", requestedMode: .quote, accountID: "primary"),
            timestamp: 1_730_462_400, sequence: 42
        )
        let json = SubscriptionEventCodec.encode(event)
        #expect(try SubscriptionEventCodec.decode(json) == event)
        // Seed 000's field names, seed 001's top-level tradingsymbol, our additions.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["event_id", "event_type", "instrument_token", "tradingsymbol", "metadata", "timestamp", "sequence", "schema_version"])
        #expect(object["timestamp"] as? Int == 1_730_462_400)
        #expect(object["event_type"] as? String == "subscription_created")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["requested_mode"] as? String == "QUOTE")
        #expect(metadata["account_id"] as? String == "primary")
    }

    @Test("legacy payloads without an id get the same derived id each time, so redeliveries are recognised")
    func derivedIDs() throws {
        let text = try Self.fixture("seed000_manual_publish")
        let first = try SubscriptionEventCodec.decode(text)
        let second = try SubscriptionEventCodec.decode(text)
        #expect(first.eventID == second.eventID)
        let removal = try SubscriptionEventCodec.decode(Self.fixture("seed000_subscription_removed"))
        #expect(removal.eventID != first.eventID)
    }

    @Test("bad payloads are typed errors that say what was wrong", arguments: [
        ("not json", SubscriptionEventError.Code.malformedJSON, nil as String?),
        ("[1,2]", .malformedJSON, nil),
        (#"{"instrument_token":1,"timestamp":1}"#, .missingField, "event_type"),
        (#"{"event_type":"subscription_paused","instrument_token":1,"timestamp":1}"#, .unknownEventType, "event_type"),
        (#"{"event_type":"created","timestamp":1}"#, .missingField, "instrument_token"),
        (#"{"event_type":"created","instrument_token":"abc","timestamp":1}"#, .invalidField, "instrument_token"),
        (#"{"event_type":"created","instrument_token":-5,"timestamp":1}"#, .invalidField, "instrument_token"),
        (#"{"event_type":"created","instrument_token":true,"timestamp":1}"#, .invalidField, "instrument_token"),
        (#"{"event_type":"created","instrument_token":1}"#, .missingField, "timestamp"),
        (#"{"event_type":"created","instrument_token":1,"timestamp":"yesterday"}"#, .invalidField, "timestamp"),
        (#"{"event_type":"created","instrument_token":1,"timestamp":1,"metadata":"x"}"#, .invalidField, "metadata"),
        (#"{"event_type":"created","instrument_token":1,"timestamp":1,"metadata":{"requested_mode":"TURBO"}}"#, .invalidField, "metadata.requested_mode"),
        (#"{"event_type":"created","instrument_token":1,"timestamp":1,"sequence":"x"}"#, .invalidField, "sequence"),
    ])
    func badPayloads(payload: String, code: SubscriptionEventError.Code, field: String?) {
        #expect {
            try SubscriptionEventCodec.decode(payload)
        } throws: { error in
            guard let error = error as? SubscriptionEventError else { return false }
            return error.code == code && error.field == field && !error.message.isEmpty
        }
    }

    @Test("timestamps: epoch seconds, milliseconds, numeric strings, ISO-8601 with offsets")
    func timestamps() throws {
        func decode(_ raw: String) throws -> Double {
            try SubscriptionEventCodec.decode(#"{"event_type":"created","instrument_token":1,"timestamp":\#(raw)}"#).timestamp
        }
        #expect(try decode("1730462400") == 1_730_462_400)
        #expect(try decode("1730462400.5") == 1_730_462_400.5)
        #expect(try decode("1730462400123") == 1_730_462_400.123)
        #expect(try decode(#""1730462400""#) == 1_730_462_400)
        #expect(try decode(#""2024-11-01T12:00:00Z""#) == 1_730_462_400)
        #expect(try decode(#""2024-11-01 17:30:00+0530""#) == 1_730_462_400)
        #expect(try decode(#""2024-11-01T08:00:00-04:00""#) == 1_730_462_400)
        #expect(try decode(#""2024-11-01""#) == 1_730_419_200)
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import SharedRedis
import Testing
import TestSupport

@testable import BackendService

@Suite("BackendService subscription events", .serialized)
struct EventConsumptionTests {
    @Test("a subscription_created stream entry backfills the last 2 hours (the simulator's candles; backfill beats ticks) and is acked")
    func streamEntryBackfills() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let components = fixture.components(try fixture.configuration())
        let token = EventBackfillFixture.nifty
        // A tick-built bar inside the window: the broker's candle must replace it.
        let tickMinute = (Int64(Date().timeIntervalSince1970) / 60 - 30) * 60
        try await fixture.postgres.execute(
            "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, source) VALUES ($1, $2, 1, 1, 1, 1, 1, 'ticks')",
            [token, Date(timeIntervalSince1970: TimeInterval(tickMinute))]
        )
        try await fixture.running(components) {
            try await fixture.addToStream(EventBackfillFixture.eventJSON())
            #expect(try await fixture.eventually { try await fixture.barCount(token, source: "backfill") >= 118 })
            #expect(try await fixture.eventually { try await fixture.pendingCount() == 0 })
        }
        #expect(try await fixture.barCount(token, source: "ticks") == 0, "the tick-built bar was replaced by the broker's candle")
        let rows = try await fixture.postgres.query(
            "SELECT bucket, open, high, low, close, volume FROM bars_1m WHERE instrument_token = $1 ORDER BY bucket", [token]
        )
        let first = try rows[0].decode(Date.self, "bucket")
        let last = try rows[rows.count - 1].decode(Date.self, "bucket")
        #expect(last.timeIntervalSince(first) >= 118 * 60 && last.timeIntervalSince(first) <= 121 * 60)
        let candles = try await fixture.broker.candles(token: token, from: first, to: last)
        let byTime = Dictionary(candles.map { ($0.timestamp, $0) }, uniquingKeysWith: { a, _ in a })
        for row in [rows[0], rows[rows.count / 2], rows[rows.count - 1]] {
            let bucket = Int64(try row.decode(Date.self, "bucket").timeIntervalSince1970)
            let candle = try #require(byTime[bucket])
            #expect(try row.decode(Double.self, "open") == candle.open)
            #expect(try row.decode(Double.self, "close") == candle.close)
            #expect(try row.decode(Int64.self, "volume") == candle.volume)
        }
        let jobs = try await fixture.postgres.query("SELECT status FROM backfill_jobs WHERE instrument_token = $1", [token])
        #expect(jobs.count == 1)
        #expect(jobs.first?["status"] == "done")
    }

    @Test("seed 001's manual PUBLISH payload on the channel works; the legacy subscription_deleted means removal")
    func channelSeedPayloadAndLegacyRemoval() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let components = fixture.components(try fixture.configuration())
        let token = EventBackfillFixture.nifty
        try await fixture.running(components) {
            try await waitForChannelListener(fixture)
            // Exactly seed 001's shape (no event_id, epoch timestamp), with a token the simulator knows.
            let seed = """
                {
                  "event_type": "subscription_created",
                  "instrument_token": \(token),
                  "tradingsymbol": "NIFTY 50",
                  "timestamp": 1730462400,
                  "metadata": {"account_id": "primary", "requested_mode": "FULL"}
                }
                """
            #expect(try await fixture.redis.publish(seed, to: fixture.channels.eventsChannel) >= 1)
            #expect(try await fixture.eventually { try await fixture.barCount(token, source: "backfill") >= 118 })
            try await fixture.addToStream(EventBackfillFixture.eventJSON(type: "subscription_deleted", timestamp: 1730462500))
            #expect(try await fixture.eventually {
                let rows = try await fixture.postgres.query(
                    "SELECT count(*) AS n FROM processed_events WHERE instrument_token = $1 AND event_type = 'subscription_removed'", [token]
                )
                return try rows[0].decode(Int64.self, "n") == 1
            })
        }
        let known = try await BackfillStore(postgres: fixture.postgres).knownActiveTokens(ticksSince: Date())
        #expect(!known.contains(token), "removed after created: no longer a known subscription")
    }

    @Test("the webhook takes seed 002's body; malformed bodies get 400/422; the same event on stream, channel and webhook is done once")
    func webhookAndDedupe() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let counting = CountingCandleSource(inner: fixture.broker, delay: .milliseconds(300))
        let components = fixture.components(try fixture.configuration(), candles: counting)
        let router = Router()
        components.addRoutes(to: router)
        let app = Application(router: router)
        let token = EventBackfillFixture.nifty
        try await fixture.running(components) {
            try await app.test(.router) { client in
                try await waitForChannelListener(fixture)
                let eventID = UUID().uuidString
                let payload = EventBackfillFixture.eventJSON(eventID: eventID)
                try await fixture.addToStream(payload)
                try await fixture.redis.publish(payload, to: fixture.channels.eventsChannel)
                try await client.execute(uri: "/internal/subscription-events", method: .post, body: ByteBuffer(string: payload)) { response in
                    #expect(response.status == .ok)
                }
                #expect(try await fixture.eventually { try await fixture.pendingCount() == 0 })
                #expect(try await fixture.eventually { try await fixture.barCount(token) >= 118 })
                // Let every receiver have had its go, then count.
                #expect(try await fixture.eventually { components.queue.depth == 0 })
                #expect(try await fixture.processedCount(eventID) == 1)
                #expect(counting.count(token) == 1, "backfill ran once")
                let jobs = try await fixture.postgres.query("SELECT count(*) AS n FROM backfill_jobs WHERE event_id = $1", [eventID])
                #expect(try jobs[0].decode(Int64.self, "n") == 1)

                // Seed 002's webhook body: "created", ISO timestamp, no event_id.
                let seed = #"{"event_type":"created","instrument_token":\#(token),"tradingsymbol":"NIFTY 50","timestamp":"2025-11-01T12:00:00","metadata":{"requested_mode":"FULL"}}"#
                try await client.execute(uri: "/internal/subscription-events", method: .post, body: ByteBuffer(string: seed)) { response in
                    #expect(response.status == .ok)
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    #expect(json["status"] as? String == "ok")
                    #expect(json["message"] as? String == "Event created processed")
                    #expect(json["instrument_token"] as? Int64 == token)
                }
                try await client.execute(uri: "/internal/subscription-events", method: .post, body: ByteBuffer(string: "{not json")) { response in
                    #expect(response.status == .badRequest)
                }
                try await client.execute(
                    uri: "/internal/subscription-events", method: .post, body: ByteBuffer(string: #"{"event_type":"created","timestamp":1}"#)
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    #expect(json["field"] as? String == "instrument_token")
                }
            }
        }
    }

    @Test("garbage on the stream and the channel is dead-lettered with the reason; the consumer goes on")
    func garbageIsDeadLettered() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let components = fixture.components(try fixture.configuration(["BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false"]))
        try await fixture.running(components) {
            try await waitForChannelListener(fixture)
            try await fixture.addToStream("this is not json")
            try await fixture.redis.publish(#"{"event_type":"subscription_exploded","instrument_token":1,"timestamp":1}"#, to: fixture.channels.eventsChannel)
            let good = UUID().uuidString
            try await fixture.addToStream(EventBackfillFixture.eventJSON(eventID: good))
            #expect(try await fixture.eventually { try await fixture.processedCount(good) == 1 })
            #expect(try await fixture.eventually { try await fixture.deadLetters().count == 2 })
            #expect(try await fixture.eventually { try await fixture.pendingCount() == 0 })
        }
        let letters = try await fixture.deadLetters()
        let stream = try #require(letters.first { $0["source"] == "stream" })
        #expect(stream["payload"] == "this is not json")
        #expect(stream["code"] == "malformed_json")
        #expect(stream["original_id"] != nil)
        let channel = try #require(letters.first { $0["source"] == "channel" })
        #expect(channel["code"] == "unknown_event_type")
        #expect(channel["reason"]?.contains("subscription_exploded") == true)
    }

    @Test("a stream entry with no event field is dead-lettered as missing_event_field (not parsed as malformed_json) and acked")
    func entryWithoutEventField() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let components = fixture.components(try fixture.configuration(["BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false"]))
        try await fixture.running(components) {
            let id = try await fixture.redis.xadd(fixture.channels.eventsStream, maxLength: nil, fields: [("evnt", "not an event")])
            #expect(try await fixture.eventually { try await fixture.deadLetters().count == 1 })
            #expect(try await fixture.eventually { try await fixture.pendingCount() == 0 })
            let letter = try #require(try await fixture.deadLetters().first)
            #expect(letter["code"] == "missing_event_field")
            #expect(letter["reason"]?.contains("evnt") == true, "\(letter)")
            #expect(letter["original_id"] == id)
        }
    }

    @Test("an entry read but never acked by a dead consumer is claimed by another after the min-idle and processed")
    func deadConsumerEntryIsClaimed() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let stream = fixture.channels.eventsStream
        try await fixture.redis.xgroupCreate(stream, group: "backend", startID: "0")
        let eventID = UUID().uuidString
        try await fixture.addToStream(EventBackfillFixture.eventJSON(eventID: eventID))
        // Consumer A reads it and dies.
        let read = try await fixture.redis.xreadgroup(group: "backend", consumer: "consumer-a", streams: [stream], count: 10, block: nil)
        #expect(read.count == 1)
        #expect(try await fixture.pendingCount() == 1)
        let components = fixture.components(try fixture.configuration(["BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false"], consumer: "consumer-b"))
        try await fixture.running(components) { () async throws -> Void in
            let processed = try await fixture.eventually { try await fixture.processedCount(eventID) == 1 }
            #expect(processed)
            let drained = try await fixture.eventually { try await fixture.pendingCount() == 0 }
            #expect(drained)
        }
        let row = try await fixture.postgres.query("SELECT processed_by FROM processed_events WHERE event_id = $1", [eventID])
        #expect(row.first?["processed_by"] == "consumer-b")
    }

    @Test("two consumers in one group share a burst of 50 events, each processed once")
    func twoConsumersShareABurst() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let first = fixture.components(try fixture.configuration(["BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false"], consumer: "instance-1"))
        let second = fixture.components(try fixture.configuration(["BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false"], consumer: "instance-2"))
        try await fixture.running(first) {
            try await fixture.running(second) {
                // Let both reach XREADGROUP (Redis 7.0 lists a blocked consumer only once it was served, so there is
                // nothing to poll for); the assertion below does not depend on this timing, only the sharing does.
                try await Task.sleep(for: .milliseconds(1500))
                for index in 0..<50 {
                    try await fixture.addToStream(EventBackfillFixture.eventJSON(token: 1000 + Int64(index), eventID: "burst-\(index)"))
                    if index % 5 == 4 { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(try await fixture.eventually {
                    let rows = try await fixture.postgres.query("SELECT count(*) AS n FROM processed_events WHERE event_id LIKE 'burst-%'")
                    return try rows[0].decode(Int64.self, "n") == 50
                })
                #expect(try await fixture.eventually { try await fixture.pendingCount() == 0 })
            }
        }
        let rows = try await fixture.postgres.query(
            "SELECT processed_by, count(*) AS n FROM processed_events WHERE event_id LIKE 'burst-%' GROUP BY processed_by"
        )
        let counts = Dictionary(uniqueKeysWithValues: try rows.map { ($0["processed_by"] ?? "", try $0.decode(Int64.self, "n")) })
        #expect(counts.values.reduce(0, +) == 50)
        #expect(counts.count == 2, "both instances took part: \(counts)")
    }

    @Test("SUBSCRIPTION_EVENTS_ENABLED=false switches off all three receivers; BACKFILL_IMMEDIATE_ON_SUBSCRIBE=false records without backfilling")
    func flagsSwitchBehaviour() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let off = fixture.components(try fixture.configuration(["SUBSCRIPTION_EVENTS_ENABLED": "false"]))
        #expect(!off.services.contains { $0 is EventStreamConsumer || $0 is EventChannelListener })
        let router = Router()
        off.addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(
                uri: "/internal/subscription-events", method: .post, body: ByteBuffer(string: EventBackfillFixture.eventJSON())
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("SUBSCRIPTION_EVENTS_ENABLED=false"))
            }
        }
        await off.close()
        let noBackfill = fixture.components(try fixture.configuration(["BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false"]))
        let eventID = UUID().uuidString
        try await fixture.running(noBackfill) {
            try await fixture.addToStream(EventBackfillFixture.eventJSON(eventID: eventID))
            #expect(try await fixture.eventually { try await fixture.processedCount(eventID) == 1 })
            #expect(try await fixture.eventually { try await fixture.pendingCount() == 0 })
        }
        #expect(try await fixture.barCount(EventBackfillFixture.nifty) == 0)
        let jobs = try await fixture.postgres.query("SELECT count(*) AS n FROM backfill_jobs")
        #expect(try jobs[0].decode(Int64.self, "n") == 0)
    }

    private func waitForChannelListener(_ fixture: EventBackfillFixture) async throws {
        let subscribed = try await fixture.eventually {
            let reply = try await fixture.redis.send(["PUBSUB", "NUMSUB", fixture.channels.eventsChannel])
            return (reply.array?.last?.int ?? 0) >= 1
        }
        #expect(subscribed, "the pub/sub listener subscribed")
    }
}

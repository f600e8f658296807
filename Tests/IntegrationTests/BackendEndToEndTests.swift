import BrokerWire
import Foundation
import Logging
import Shared
import SharedPostgres
import SharedRedis
import Testing
import TestSupport

/// BackendService with the whole system running as real processes (simulator, TickerService, BackendService).
@Suite("BackendService end to end", .serialized)
struct BackendEndToEndTests {
    /// Bars stored for a token.
    static func storedBars(_ platform: Platform, token: UInt32) async throws -> Int {
        let rows = try await platform.postgres.query("SELECT count(*) AS n FROM bars_1m WHERE instrument_token = $1", [Int64(token)])
        return try rows.first?.decode(Int.self, "n") ?? 0
    }

    /// Events BackendService has processed, by id.
    static func processedEvents(_ platform: Platform) async throws -> [String] {
        return try await platform.postgres.query("SELECT event_id FROM processed_events ORDER BY event_id").map { try $0.decode(String.self, "event_id") }
    }

    @Test("seed 000's seven steps: POST /subscriptions on the ticker → event → immediate backfill → bars in PostgreSQL → GET /bars")
    func sevenSteps() async throws {
        try await Platform.with { platform in
            let option = try #require(try await platform.niftyOptions(1).first)
            let token = option.instrumentToken
            let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(token), "requested_mode": "FULL"}"#)
            #expect(reply.status.code == 201)

            try await waitUntil("the backfilled history of the last two hours is stored", timeout: .seconds(90)) {
                try await Self.storedBars(platform, token: token) >= 100
            }
            let now = Date()
            let from = now.addingTimeInterval(-2 * 3600).formatted(.iso8601)
            let bars = try await platform.get(.backend, "/bars?instrument_token=\(token)&timeframe=1min&from=\(from)&to=\(now.formatted(.iso8601))").json()
            let rows = try #require(bars["bars"] as? [[String: Any]])
            #expect(rows.count >= 100)
            #expect(rows.allSatisfy { ($0["low"] as? Double ?? 0) <= ($0["high"] as? Double ?? -1) })
            #expect(rows.contains { $0["source"] as? String == "backfill" })

            // The backfilled minutes are the broker's candles.
            let candles = try await platform.get(
                .simulator,
                "/instruments/historical/\(token)/minute?from=\(Self.kiteTime(now.addingTimeInterval(-3600)))&to=\(Self.kiteTime(now.addingTimeInterval(-3000)))&api_key=sim_api_key&access_token=sim_access_token"
            )
            let broker = try KiteHistoricalJSON.parse(String(decoding: candles.body, as: UTF8.self))
            let sample = try #require(broker.first)
            let stored = try #require(rows.first { ($0["time"] as? String).flatMap(EventTimestamp.parseISO8601).map(Int64.init) == sample.timestamp })
            #expect(stored["close"] as? Double == sample.close)
            #expect(stored["open"] as? Double == sample.open)
        }
    }

    @Test("the seeds' manual redis-cli PUBLISH, the legacy subscription_deleted and the webhook all work")
    func manualPublishAndWebhook() async throws {
        try await Platform.with { platform in
            let options = try await platform.niftyOptions(2)
            let redis = try platform.redisClient()
            let token = options[0].instrumentToken
            // Seed 000's manual test, with a token from today's dump.
            let payload = """
            {
              "event_type": "subscription_created",
              "instrument_token": \(token),
              "tradingsymbol": "\(options[0].tradingsymbol)",
              "timestamp": \(Int(Date().timeIntervalSince1970)),
              "metadata": {
                "tradingsymbol": "\(options[0].tradingsymbol)",
                "account_id": "primary",
                "requested_mode": "FULL"
              }
            }
            """
            try await waitUntil("the backend listens on the channel") {
                try await redis.send(["PUBSUB", "NUMSUB", platform.channels.eventsChannel]).array?.last?.int ?? 0 > 0
            }
            _ = try await redis.publish(payload, to: platform.channels.eventsChannel)
            try await waitUntil("the published event backfills the instrument", timeout: .seconds(90)) {
                try await Self.storedBars(platform, token: token) >= 100
            }
            _ = try await redis.publish(
                #"{"event_type":"subscription_deleted","instrument_token":\#(token),"timestamp":\#(Int(Date().timeIntervalSince1970) + 1)}"#,
                to: platform.channels.eventsChannel
            )
            try await waitUntil("the legacy removal is processed") {
                try await Self.processedEvents(platform).count == 2
            }

            // Seed 002's webhook.
            let webhookToken = options[1].instrumentToken
            let webhook = try await platform.post(
                .backend, "/internal/subscription-events",
                json: #"{"event_type":"created","instrument_token":\#(webhookToken),"tradingsymbol":"\#(options[1].tradingsymbol)","timestamp":"\#(Date().formatted(.iso8601))"}"#
            )
            #expect(webhook.status.code == 200, "\(String(decoding: webhook.body, as: UTF8.self))")
            #expect(try webhook.json()["status"] as? String == "ok")
            try await waitUntil("the webhook event backfills the instrument", timeout: .seconds(90)) {
                try await Self.storedBars(platform, token: webhookToken) >= 100
            }
            let bad = try await platform.post(.backend, "/internal/subscription-events", json: #"{"event_type":"created"}"#)
            #expect((400..<500).contains(Int(bad.status.code)))
        }
    }

    @Test("the backend killed during a burst of events: after restart every event is processed, none twice; garbage is dead-lettered")
    func crashDuringBurst() async throws {
        // A short claim idle so that entries the crashed instance left pending are taken over within seconds.
        let backend = ["BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false", "EVENTS_CLAIM_MIN_IDLE_SECONDS": "3"]
        try await Platform.with(environment: [.backend: backend]) { platform in
            let redis = try platform.redisClient()
            let tokens = try await platform.niftyOptions(40).map(\.instrumentToken)
            try await waitUntil("the backend's consumer group exists") {
                let groups = try? await redis.send(["XINFO", "GROUPS", platform.channels.eventsStream])
                return !(groups?.array ?? []).isEmpty
            }
            var ids: [String] = []
            for (index, token) in tokens.enumerated() {
                let event = SubscriptionEvent(
                    eventID: UUID().uuidString.lowercased(), kind: .created, instrumentToken: Int64(token), tradingsymbol: nil,
                    metadata: .init(requestedMode: .quote, accountID: "primary"), timestamp: Date().timeIntervalSince1970, sequence: Int64(index + 1)
                )
                ids.append(event.eventID)
                _ = try await redis.xadd(platform.channels.eventsStream, maxLength: 100_000, fields: [("event", SubscriptionEventCodec.encode(event))])
                if index == 10 { await platform.stop(.backend, crash: true) }
            }
            _ = try await redis.xadd(platform.channels.eventsStream, maxLength: 100_000, fields: [("event", "this is not json")])
            _ = try await redis.publish("{garbage", to: platform.channels.eventsChannel)
            try await platform.start(.backend)
            try await waitUntil("every event is processed after the restart", timeout: .seconds(120)) {
                try await Self.processedEvents(platform).count == tokens.count
            }
            #expect(Set(try await Self.processedEvents(platform)) == Set(ids))
            try await waitUntil("the garbage entry is dead-lettered") {
                let dead = try await redis.send(["XLEN", platform.channels.eventsDeadLetterStream])
                return (dead.int ?? 0) >= 1
            }
            // Still working after the garbage.
            let late = SubscriptionEvent(
                eventID: UUID().uuidString.lowercased(), kind: .removed, instrumentToken: Int64(tokens[0]), tradingsymbol: nil,
                metadata: .init(), timestamp: Date().timeIntervalSince1970, sequence: 999
            )
            _ = try await redis.xadd(platform.channels.eventsStream, maxLength: 100_000, fields: [("event", SubscriptionEventCodec.encode(late))])
            try await waitUntil("an event after the garbage is processed") {
                try await Self.processedEvents(platform).contains(late.eventID)
            }
            // Nothing stays pending. An entry the crashed instance had committed but not yet acknowledged counts as
            // processed above, but it is still pending under the dead consumer until the restarted instance claims it
            // (after EVENTS_CLAIM_MIN_IDLE_SECONDS), re-runs it idempotently and acknowledges it.
            try await waitUntil("no entry is left pending in the consumer group", timeout: .seconds(120)) {
                try await redis.xpending(platform.channels.eventsStream, group: "backend").count == 0
            }
            let processed = try await Self.processedEvents(platform)
            #expect(processed.count == ids.count + 1)
            #expect(Set(processed) == Set(ids + [late.eventID]))
        }
    }

    static func kiteTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Kolkata")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d+%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}

import HTTPTypes
import BrokerWire
import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import SharedRedis
import Testing
import TestSupport

@testable import TickerService

/// Waits (bounded) for the first message of a pub/sub subscription.
func firstMessage(_ subscription: RedisSubscription, within limit: Duration = .seconds(20)) async -> RedisPubSubMessage? {
    await withTaskGroup(of: RedisPubSubMessage?.self) { group in
        group.addTask {
            for await message in subscription { return message }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

@Suite("TickerService subscriptions API")
struct SubscriptionAPITests {
    @Test("seed 003's POST creates the subscription, the feed subscribes, and subscription_created reaches the stream and the channel")
    func seed003Create() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed, restore: false)
        let channel = try await fixture.redis.subscribe(to: [fixture.channels.eventsChannel])
        try await app.test(.router) { client in
            let response = try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "requested_mode": "FULL"])
            #expect(response.status == .created)
            let body = try TestJSON.object(response.body)
            #expect(body["instrument_token"] as? Int == 13_660_418)
            #expect(body["tradingsymbol"] as? String == "NIFTY25NOV24500CE")
            #expect(body["segment"] as? String == "NFO-OPT")
            #expect(body["exchange"] as? String == "NFO")
            #expect(body["mode"] as? String == "FULL")
            #expect(body["status"] as? String == "active")
            #expect(body["account_id"] as? String == "primary")
            #expect(body["connection_id"] as? Int == 1)
            #expect(body["created_at"] is String && body["updated_at"] is String)
            let holders = try #require(body["holders"] as? [[String: Any]])
            #expect(holders.count == 1 && holders[0]["holder"] as? String == "api" && holders[0]["mode"] as? String == "FULL")

            let calls = await feed.subscribeCalls
            #expect(calls == [[FeedSubscription(token: 13_660_418, mode: .full)]])

            let message = try #require(await firstMessage(channel), "no event on the pub/sub channel")
            let entries = try await fixture.waitForStreamEvents(1)
            #expect(entries.count == 1)
            let entry = try #require(entries.first)
            #expect(entry.fields["event"] == message.string, "the stream and the channel carry the same JSON")
            #expect(entry.fields["event_type"] == "subscription_created")
            #expect(entry.fields["event_id"] == entry.event.eventID)

            let json = try #require(try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])
            #expect(json["event_type"] as? String == "subscription_created")
            #expect(json["instrument_token"] as? Int == 13_660_418)
            #expect(json["tradingsymbol"] as? String == "NIFTY25NOV24500CE")
            #expect(UUID(uuidString: json["event_id"] as? String ?? "") != nil)
            #expect((json["sequence"] as? Int ?? 0) >= 1)
            #expect(json["schema_version"] as? Int == 1)
            let timestamp = try #require(json["timestamp"] as? Double)
            #expect(abs(timestamp - Date().timeIntervalSince1970) < 120)
            let metadata = try #require(json["metadata"] as? [String: Any])
            #expect(metadata["tradingsymbol"] as? String == "NIFTY25NOV24500CE")
            #expect(metadata["segment"] as? String == "NFO-OPT")
            #expect(metadata["requested_mode"] as? String == "FULL")
            #expect(metadata["account_id"] as? String == "primary")
            // Marked published once Redis accepted it (the mark commits just after the XADD).
            for _ in 0..<100 where try await fixture.unpublishedCount() > 0 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(try await fixture.unpublishedCount() == 0)
        }
        await channel.close()
    }

    @Test("holders: a second holder creates no event, a higher mode upgrades, the last holder leaving removes")
    func holders() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed, restore: false)
        try await app.test(.router) { client in
            var response = try await client.post("/subscriptions", json: ["instrument_token": 738_561, "requested_mode": "LTP"])
            #expect(response.status == .created)

            // A second holder at a higher mode: no creation, the mode goes up on the feed.
            response = try await client.post("/subscriptions", json: ["instrument_token": 738_561, "requested_mode": "full", "holder": "tier:always-on"])
            #expect(response.status == .ok)
            var body = try TestJSON.object(response.body)
            #expect(body["mode"] as? String == "FULL")
            #expect((body["holders"] as? [[String: Any]])?.count == 2)
            #expect(await feed.subscribeCalls.count == 1)
            #expect(await feed.modeCalls == [RecordingFeed.ModeCall(mode: .full, tokens: [738_561])])

            // The same holder again at the same mode changes nothing.
            response = try await client.post("/subscriptions", json: ["instrument_token": 738_561, "requested_mode": "FULL", "holder": "tier:always-on"])
            #expect(response.status == .ok)
            #expect(await feed.modeCalls.count == 1)

            // Removing the FULL holder keeps the subscription, back in LTP.
            response = try await client.send("/subscriptions/738561?holder=tier:always-on", .delete)
            #expect(response.status == .ok)
            body = try TestJSON.object(response.body)
            #expect(body["status"] as? String == "active")
            #expect(body["mode"] as? String == "LTP")
            #expect(await feed.modeCalls.last == RecordingFeed.ModeCall(mode: .ltp, tokens: [738_561]))
            #expect(await feed.unsubscribeCalls.isEmpty)

            // The last holder leaving removes it and unsubscribes.
            response = try await client.send("/subscriptions/738561", .delete)
            #expect(response.status == .ok)
            body = try TestJSON.object(response.body)
            #expect(body["status"] as? String == "inactive")
            #expect((body["holders"] as? [Any])?.isEmpty == true)
            #expect(await feed.unsubscribeCalls == [[738_561]])

            let events = try await fixture.waitForStreamEvents(2)
            #expect(events.map(\.event.kind) == [.created, .removed])
            #expect(events.map(\.event.instrumentToken) == [738_561, 738_561])
            #expect((events[0].event.sequence ?? 0) < (events[1].event.sequence ?? 0))
            #expect(events[1].event.tradingsymbol == "RELIANCE")
            #expect(try await fixture.outboxCount() == 2, "mode and holder changes do not pretend to be creations")

            // Removing again: nothing left to remove.
            response = try await client.send("/subscriptions/738561", .delete)
            #expect(response.status == .notFound)
            #expect(try TestJSON.object(response.body)["error"] as? String == "not_subscribed")

            // It is still listed with status=all, not with status=active.
            response = try await client.send("/subscriptions?status=all", .get)
            #expect(try TestJSON.object(response.body)["count"] as? Int == 1)
            response = try await client.send("/subscriptions?status=active", .get)
            #expect(try TestJSON.object(response.body)["count"] as? Int == 0)
        }
    }

    @Test("DELETE ?all=true removes every holder at once; an unknown holder is a 404")
    func removeAll() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed, restore: false)
        try await app.test(.router) { client in
            _ = try await client.post("/subscriptions", json: ["instrument_token": 256_265, "requested_mode": "QUOTE", "holder": "user:1"])
            _ = try await client.post("/subscriptions", json: ["instrument_token": 256_265, "requested_mode": "LTP", "holder": "user:2"])
            var response = try await client.send("/subscriptions/256265?holder=user:3", .delete)
            #expect(response.status == .notFound)
            let error = try TestJSON.object(response.body)
            #expect(error["error"] as? String == "holder_not_found")
            #expect((error["message"] as? String)?.contains("user:1, user:2") == true)
            response = try await client.send("/subscriptions/256265?all=true", .delete)
            #expect(response.status == .ok)
            #expect(try TestJSON.object(response.body)["status"] as? String == "inactive")
            #expect(await feed.unsubscribeCalls == [[256_265]])
            let events = try await fixture.waitForStreamEvents(2)
            #expect(events.map(\.event.kind) == [.created, .removed])
        }
    }

    @Test("batch form: all instruments in one request, one event per new instrument")
    func batch() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed, restore: false)
        try await app.test(.router) { client in
            // One already subscribed by someone else: it gains a holder but no event.
            _ = try await client.post("/subscriptions", json: ["instrument_token": 60_417_287, "requested_mode": "LTP", "holder": "user:9"])
            let response = try await client.post(
                "/subscriptions",
                json: [
                    "holder": "tier:always-on",
                    "instruments": [
                        ["instrument_token": 13_660_418, "requested_mode": "FULL"],
                        ["instrument_token": 256_265, "requested_mode": "LTP"],
                        ["instrument_token": 738_561],
                        ["instrument_token": 60_417_287, "requested_mode": "QUOTE"],
                        ["instrument_token": 256_265, "requested_mode": "QUOTE"],
                    ],
                ]
            )
            #expect(response.status == .created)
            let body = try TestJSON.object(response.body)
            #expect(body["count"] as? Int == 4)
            #expect(Set(body["created"] as? [Int] ?? []) == [13_660_418, 256_265, 738_561])
            let subscriptions = try #require(body["subscriptions"] as? [[String: Any]])
            let modes = Dictionary(uniqueKeysWithValues: subscriptions.map { ($0["instrument_token"] as? Int ?? 0, $0["mode"] as? String ?? "") })
            #expect(modes == [13_660_418: "FULL", 256_265: "QUOTE", 738_561: "FULL", 60_417_287: "QUOTE"])
            let calls = await feed.subscribeCalls
            #expect(calls.count == 2)
            #expect(Set(calls[1].map(\.token)) == [13_660_418, 256_265, 738_561])
            let events = try await fixture.waitForStreamEvents(4)
            #expect(events.count == 4)
            #expect(events.allSatisfy { $0.event.kind == .created })

            let list = try await client.send("/subscriptions?status=active", .get)
            let listed = try TestJSON.object(list.body)
            #expect(listed["count"] as? Int == 4)
            let rows = try #require(listed["subscriptions"] as? [[String: Any]])
            #expect(rows.compactMap { $0["instrument_token"] as? Int } == [256_265, 738_561, 13_660_418, 60_417_287])
            let crude = try #require(rows.last)
            #expect((crude["holders"] as? [[String: Any]])?.compactMap { $0["holder"] as? String } == ["tier:always-on", "user:9"])
        }
    }

    @Test("limit and cursor page the list in token order; the next page starts after the last row whatever changed between")
    func pages() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let app = try await fixture.app(feed: RecordingFeed(), restore: false)
        try await app.test(.router) { client in
            let instruments = [738_561, 13_660_418, 60_417_287].map { ["instrument_token": $0] }
            _ = try await client.post("/subscriptions", json: ["instruments": instruments])
            func page(_ query: String) async throws -> (tokens: [Int], next: String?, keys: Set<String>) {
                let response = try await client.send("/subscriptions?\(query)", .get)
                #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
                let body = try TestJSON.object(response.body)
                let tokens = (body["subscriptions"] as? [[String: Any]] ?? []).compactMap { $0["instrument_token"] as? Int }
                #expect(body["count"] as? Int == tokens.count)
                return (tokens, body["next_cursor"] as? String, Set(body.keys))
            }
            let first = try await page("limit=2")
            #expect(first.tokens == [738_561, 13_660_418])
            let cursor = try #require(first.next)
            // Added between the pages, before the cursor: not repeated, nothing shifted.
            _ = try await client.post("/subscriptions", json: ["instrument_token": 256_265])
            let second = try await page("limit=2&cursor=\(cursor)")
            #expect(second.tokens == [60_417_287])
            #expect(second.next == nil && second.keys.contains("next_cursor"), "the last page says so with next_cursor null")
            #expect(try await page("cursor=\(cursor)").tokens == [60_417_287], "cursor alone pages by 1,000")
            // The whole list is unchanged for the seeds' callers: no next_cursor key.
            let whole = try await page("status=active")
            #expect(whole.tokens == [256_265, 738_561, 13_660_418, 60_417_287] && !whole.keys.contains("next_cursor"))
            _ = try await client.send("/subscriptions/738561", .delete)
            #expect(try await page("status=active&limit=10").tokens == [256_265, 13_660_418, 60_417_287])
            #expect(try await page("status=all&limit=10").tokens == [256_265, 738_561, 13_660_418, 60_417_287])

            for (query, code) in [("limit=0", "invalid_limit"), ("limit=10001", "invalid_limit"), ("limit=ten", "invalid_limit"),
                                  ("cursor=738561", "invalid_cursor"), ("cursor=t-1", "invalid_cursor"), ("limit=5&cursor=", "invalid_cursor")] {
                let response = try await client.send("/subscriptions?\(query)", .get)
                #expect(response.status == .badRequest, "\(query)")
                #expect(try TestJSON.object(response.body)["error"] as? String == code, "\(query)")
            }
        }
    }

    @Test("the list is answered again from memory until a change: a subscribe, a mode change or a removal shows in the very next list")
    func listFollowsEveryChange() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let app = try await fixture.app(feed: RecordingFeed(), restore: false)
        try await app.test(.router) { client in
            func listed() async throws -> [Int: String] {
                let response = try await client.send("/subscriptions", .get)
                let rows = try TestJSON.object(response.body)["subscriptions"] as? [[String: Any]] ?? []
                return Dictionary(uniqueKeysWithValues: rows.compactMap { row in (row["instrument_token"] as? Int).map { ($0, row["mode"] as? String ?? "") } })
            }
            _ = try await client.post("/subscriptions", json: ["instrument_token": 738_561, "requested_mode": "QUOTE"])
            #expect(try await listed() == [738_561: "QUOTE"])
            #expect(try await listed() == [738_561: "QUOTE"], "the same list again")
            _ = try await client.post("/subscriptions", json: ["instrument_token": 256_265, "requested_mode": "QUOTE"])
            #expect(try await listed() == [738_561: "QUOTE", 256_265: "QUOTE"])
            _ = try await client.post("/subscriptions", json: ["instrument_token": 256_265, "requested_mode": "FULL", "holder": "user:second"])
            #expect(try await listed() == [738_561: "QUOTE", 256_265: "FULL"])
            _ = try await client.send("/subscriptions/738561", .delete)
            #expect(try await listed() == [256_265: "FULL"])
        }
    }

    @Test("bad requests get a 4xx with a JSON error that says what was wrong, and change nothing")
    func badRequests() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed, restore: false)
        try await app.test(.router) { client in
            func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, _ code: String, mentions: String) throws {
                #expect(response.status == status)
                #expect(response.headers[.contentType] == "application/json")
                let body = try TestJSON.object(response.body)
                #expect(body["error"] as? String == code)
                let message = body["message"] as? String ?? ""
                #expect(message.contains(mentions), "message '\(message)' should mention '\(mentions)'")
            }
            try expectError(
                try await client.post("/subscriptions", json: ["instrument_token": 999, "requested_mode": "FULL"]),
                .notFound, "unknown_instrument", mentions: "instrument 999 is not in the instrument registry"
            )
            try expectError(
                try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "requested_mode": "TURBO"]),
                .unprocessableContent, "invalid_mode", mentions: "TURBO"
            )
            try expectError(try await client.post("/subscriptions", json: ["requested_mode": "FULL"]), .unprocessableContent, "invalid_request", mentions: "instrument_token is required")
            try expectError(
                try await client.post("/subscriptions", json: ["instrument_token": "abc"]), .unprocessableContent, "invalid_token", mentions: "instrument_token"
            )
            try expectError(
                try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "holder": "bad holder"]), .unprocessableContent, "invalid_holder",
                mentions: "holder"
            )
            try expectError(
                try await client.post("/subscriptions", json: ["instruments": [["instrument_token": 13_660_418], ["instrument_token": 12]]]),
                .notFound, "unknown_instrument", mentions: "12"
            )
            let malformed = try await client.executeRequest(
                uri: "/subscriptions", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"instrument_token\": 13660418,")
            )
            try expectError(malformed, .badRequest, "malformed_json", mentions: "not valid JSON")
            try expectError(try await client.send("/subscriptions/notatoken", .delete), .badRequest, "invalid_token", mentions: "notatoken")
            try expectError(try await client.send("/subscriptions/13660418", .delete), .notFound, "not_subscribed", mentions: "13660418")
            try expectError(try await client.send("/subscriptions/13660418", .get), .notFound, "not_subscribed", mentions: "13660418")
            try expectError(try await client.send("/subscriptions?status=maybe", .get), .badRequest, "invalid_status", mentions: "maybe")
            try expectError(try await client.send("/instruments/999", .get), .notFound, "unknown_instrument", mentions: "999")

            let instrument = try await client.send("/instruments/13660418", .get)
            #expect(instrument.status == .ok)
            let metadata = try TestJSON.object(instrument.body)
            #expect(metadata["tradingsymbol"] as? String == "NIFTY25NOV24500CE")
            #expect(metadata["expiry"] as? String == "2025-11-25")
            #expect(metadata["lot_size"] as? Int == 75)

            #expect(await feed.subscribeCalls.isEmpty)
            #expect(try await fixture.outboxCount() == 0)
        }
    }

    @Test("with API_KEY_ENABLED, changing endpoints need X-API-Key (401 otherwise); reads do not")
    func apiKey() async throws {
        let fixture = try await TickerFixture.make(apiKey: "s3cret-key")
        defer { Task { await fixture.close() } }
        let app = try await fixture.app(feed: RecordingFeed(), restore: false)
        try await app.test(.router) { client in
            let body: [String: Any] = ["instrument_token": 13_660_418, "requested_mode": "FULL"]
            var response = try await client.post("/subscriptions", json: body)
            #expect(response.status == .unauthorized)
            #expect(try TestJSON.object(response.body)["message"] as? String == "this endpoint requires the X-API-Key header")
            response = try await client.post("/subscriptions", json: body, headers: [HTTPField.Name("X-API-Key")!: "wrong"])
            #expect(response.status == .unauthorized)
            #expect(try TestJSON.object(response.body)["error"] as? String == "unauthorized")
            response = try await client.send("/subscriptions/13660418", .delete)
            #expect(response.status == .unauthorized)
            response = try await client.post("/subscriptions", json: body, headers: [HTTPField.Name("X-API-Key")!: "s3cret-key"])
            #expect(response.status == .created)
            response = try await client.send("/subscriptions", .get)
            #expect(response.status == .ok)
            response = try await client.send("/subscriptions/13660418", .get)
            #expect(response.status == .ok)
        }
    }

    @Test("no capacity on the feed: 409 with the occupancy, nothing stored, nothing emitted")
    func capacityExhausted() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed(accounts: ["primary", "secondary"], connectionsPerAccount: 1, perConnection: 1)
        let app = try await fixture.app(feed: feed, restore: false)
        try await app.test(.router) { client in
            var response = try await client.post("/subscriptions", json: ["instrument_token": 256_265])
            #expect(response.status == .created)
            response = try await client.post(
                "/subscriptions", json: ["instruments": [["instrument_token": 13_660_418], ["instrument_token": 738_561]]]
            )
            #expect(response.status == .conflict)
            let error = try TestJSON.object(response.body)
            #expect(error["error"] as? String == "capacity_exhausted")
            #expect(error["message"] as? String == "cannot place 2 new instruments: only 1 free across 2 connections across 2 accounts (1/2 instruments)")
            _ = try await client.post("/subscriptions", json: ["instrument_token": 738_561])
            response = try await client.post("/subscriptions", json: ["instrument_token": 13_660_418])
            #expect(response.status == .conflict)
            #expect(try TestJSON.object(response.body)["message"] as? String == "cannot place 1 new instrument: all 2 connections across 2 accounts are full (2/2 instruments)")

            response = try await client.send("/subscriptions?status=all", .get)
            #expect(try TestJSON.object(response.body)["count"] as? Int == 2)
            response = try await client.send("/subscriptions/13660418", .get)
            #expect(response.status == .notFound)
            #expect(try await fixture.outboxCount() == 2)
            let events = try await fixture.waitForStreamEvents(2)
            #expect(Set(events.map(\.event.instrumentToken)) == [256_265, 738_561])
        }
    }

    @Test("concurrent requests for one token create it once")
    func concurrentCreates() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed, restore: false)
        try await app.test(.router) { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "requested_mode": "QUOTE", "holder": "user:\(index)"]).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .ok }.count == 7)
            #expect(await feed.subscribeCalls.count == 1)
            #expect(try await fixture.outboxCount() == 1)
            let response = try await client.send("/subscriptions/13660418", .get)
            #expect((try TestJSON.object(response.body)["holders"] as? [Any])?.count == 8)
        }
    }
}

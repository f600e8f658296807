import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import SharedRedis
import Testing
import TestSupport

@testable import TickerService

@Suite("TickerService outbox, relay and restart")
struct OutboxRelayTests {
    @Test("Redis down while subscriptions change: after it returns every event arrives on the stream, in order, none missing")
    func redisOutage() async throws {
        try await awaitSharedPostgres()
        let server = try await RedisServer.start()
        defer { server.stop() }
        let fixture = try await TickerFixture.make(redis: server)
        defer { Task { await fixture.close() } }
        let feed = RecordingFeed()
        let app = try await fixture.app(feed: feed)
        try await app.test(.router) { client in
            var response = try await client.post("/subscriptions", json: ["instrument_token": 256_265])
            #expect(response.status == .created)
            #expect(try await fixture.waitForStreamEvents(1).count == 1)

            server.kill()
            // Changes go on while Redis is away: they are stored with their events.
            for token in [13_660_418, 738_561, 60_417_287] {
                response = try await client.post("/subscriptions", json: ["instrument_token": token, "requested_mode": "QUOTE"])
                #expect(response.status == .created)
            }
            response = try await client.send("/subscriptions/256265", .delete)
            #expect(response.status == .ok)
            response = try await client.send("/subscriptions/738561", .delete)
            #expect(response.status == .ok)
            #expect(try await fixture.unpublishedCount() == 5)
            // The relay tries, fails, and notes the failure on the rows, which stay unpublished.
            var failed = 0
            for _ in 0..<200 where failed == 0 {
                failed = try await fixture.postgres.query(
                    "SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL AND attempts > 0 AND last_error IS NOT NULL"
                ).first?.decode(Int.self, "n") ?? 0
                if failed == 0 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(failed > 0, "failed attempts are recorded on the rows")
            #expect(try await fixture.unpublishedCount() == 5)

            try await server.restart()
            // Without an append-only file the restarted server starts empty: the relay must publish all five.
            let events = try await fixture.waitForStreamEvents(5)
            #expect(events.count == 5)
            #expect(events.map(\.event.instrumentToken) == [13_660_418, 738_561, 60_417_287, 256_265, 738_561])
            #expect(events.map(\.event.kind) == [.created, .created, .created, .removed, .removed])
            let sequences = events.compactMap(\.event.sequence)
            #expect(sequences == sequences.sorted() && Set(sequences).count == 5)
            #expect(Set(events.map(\.event.eventID)).count == 5)
            for _ in 0..<100 where try await fixture.unpublishedCount() > 0 { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try await fixture.unpublishedCount() == 0)
            let errors = try await fixture.postgres.query("SELECT count(*) AS n FROM event_outbox WHERE last_error IS NOT NULL").first?.decode(Int.self, "n")
            #expect(errors == 0, "publishing clears the last error")
        }
    }

    @Test("an event committed but never published (killed before the relay ran) is published when a relay starts")
    func crashBetweenCommitAndPublish() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let withoutRelay = try await fixture.app(feed: RecordingFeed(), relay: false)
        try await withoutRelay.test(.router) { client in
            let response = try await client.post("/subscriptions", json: ["instrument_token": 13_660_418, "requested_mode": "FULL"])
            #expect(response.status == .created)
        }
        #expect(try await fixture.unpublishedCount() == 1)
        #expect(try await fixture.streamEvents().isEmpty)

        // The next start runs the relay, which finds the row.
        let restarted = try await fixture.app(feed: RecordingFeed())
        try await restarted.test(.router) { _ in
            let events = try await fixture.waitForStreamEvents(1)
            #expect(events.count == 1)
            let event = try #require(events.first?.event)
            #expect(event.kind == .created)
            #expect(event.instrumentToken == 13_660_418)
            #expect(event.metadata.requestedMode == .full)
            let stored = try await fixture.postgres.query("SELECT event_id::text AS id, payload FROM event_outbox").first
            #expect(try stored?.decode(String.self, "id") == event.eventID)
            #expect(try stored?.decode(String.self, "payload") == events.first?.fields["event"], "the published JSON is the stored payload")
        }
    }

    @Test("restart: stored active subscriptions are re-placed at their previous placement, without new events")
    func restartRestores() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let first = RecordingFeed(accounts: ["acct-a", "acct-b"], connectionsPerAccount: 2, perConnection: 1)
        let app = try await fixture.app(feed: first)
        try await app.test(.router) { client in
            for token in [256_265, 738_561, 13_660_418] {
                #expect(try await client.post("/subscriptions", json: ["instrument_token": token, "requested_mode": "QUOTE"]).status == .created)
            }
            #expect(try await client.send("/subscriptions/738561", .delete).status == .ok)
            _ = try await client.post("/subscriptions", json: ["instrument_token": 256_265, "requested_mode": "FULL", "holder": "tier"])
            _ = try await fixture.waitForStreamEvents(4)
        }
        let before = try await fixture.outboxCount()

        let second = RecordingFeed(accounts: ["acct-a", "acct-b"], connectionsPerAccount: 2, perConnection: 1)
        let restarted = try await fixture.app(feed: second)
        try await restarted.test(.router) { client in
            var calls: [[FeedSubscription]] = []
            for _ in 0..<100 {
                calls = await second.subscribeCalls
                if !calls.isEmpty { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let restored = calls.flatMap { $0 }.sorted { $0.token < $1.token }
            #expect(
                restored == [
                    FeedSubscription(token: 256_265, mode: .full, preferredAccountID: "acct-a", preferredConnectionID: 1, restored: true),
                    FeedSubscription(token: 13_660_418, mode: .quote, preferredAccountID: "acct-b", preferredConnectionID: 1, restored: true),
                ]
            )
            let response = try await client.send("/subscriptions?status=active", .get)
            let body = try TestJSON.object(response.body)
            #expect(body["count"] as? Int == 2)
            let rows = try #require(body["subscriptions"] as? [[String: Any]])
            #expect(rows.map { $0["account_id"] as? String } == ["acct-a", "acct-b"])
            #expect(try await fixture.outboxCount() == before, "a restart is not a change: no events")
        }
    }
}

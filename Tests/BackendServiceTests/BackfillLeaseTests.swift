import Foundation
import Shared
import Testing
import TestSupport

@testable import BackendService

/// Job leases and prompt cancellation: no job stays open when its process is gone, none is taken from a live process,
/// and a shutdown leaves unfinished work open rather than failed.
@Suite("BackendService backfill leases and cancellation", .serialized)
struct BackfillLeaseTests {
    @Test("open jobs of a dead or released lease are adopted and finished; a live instance's jobs are left alone")
    func adoption() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let store = BackfillStore(postgres: fixture.postgres)
        let token = EventBackfillFixture.nifty
        try await store.heartbeat(instance: "alive#1")
        try await store.heartbeat(instance: "crashed#1")
        try await fixture.postgres.execute("UPDATE backfill_instances SET heartbeat_at = now() - interval '1 minute' WHERE instance_id = 'crashed#1'")
        try await store.heartbeat(instance: "stopped#1")
        for (owner, status) in [("alive#1", "running"), ("crashed#1", "running"), ("stopped#1", "running"), ("crashed#1", "done")] {
            try await fixture.postgres.execute(
                "INSERT INTO backfill_jobs (instrument_token, reason, status, owner) VALUES ($1, 'subscription', $2, $3)", [token, status, owner]
            )
        }
        try await fixture.postgres.execute("INSERT INTO backfill_jobs (instrument_token, reason) VALUES ($1, 'subscription')", [token])
        // A clean stop: the running job goes back to pending and the lease is gone.
        try await store.release(instance: "stopped#1")
        let stopped = try await fixture.postgres.query("SELECT status FROM backfill_jobs WHERE owner = 'stopped#1'")
        #expect(try stopped.map { try $0.decode(String.self, "status") } == ["pending"])

        let components = fixture.components(try fixture.configuration())
        try await components.register()
        try await fixture.running(components) {
            let settled = try await fixture.eventually {
                let rows = try await fixture.postgres.query("SELECT owner, status FROM backfill_jobs ORDER BY id")
                let pairs = try rows.map { (try $0.decodeIfPresent(String.self, "owner"), try $0.decode(String.self, "status")) }
                return pairs.count == 5 && pairs[0] == ("alive#1", "running") && pairs[3] == ("crashed#1", "done")
                    && [1, 2, 4].allSatisfy { pairs[$0] == (components.leases.instance, "done") }
            }
            let rows = try await fixture.postgres.query("SELECT id, owner, status FROM backfill_jobs ORDER BY id")
            #expect(settled, "jobs: \(rows.map { "\($0["owner"] ?? "nil") \($0["status"] ?? "")" })")
        }
        #expect(try await fixture.barCount(token) > 0)
    }

    @Test("a caller waiting on a running backfill returns at once when cancelled; the backfill still completes for the others")
    func cancelledWaiter() async throws {
        let queue = BackfillQueue()
        let request = BackfillRequest(token: 42, reason: .gap, wantsTail: false)
        queue.enqueue(request)
        let running = try #require(await queue.next())
        let cancelled = Task { await queue.enqueueAndWait(request) }
        let patient = Task { await queue.enqueueAndWait(request) }
        try await Task.sleep(for: .milliseconds(100))
        cancelled.cancel()
        #expect(await cancelled.value == .cancelled)
        queue.complete(running, outcome: .success(bars: 7), fetched: true)
        #expect(await patient.value == .success(bars: 7))
    }

    @Test("a backfill cancelled by shutdown leaves its job open, never failed, and stops retrying")
    func cancelledBackfillStaysOpen() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let slow = CountingCandleSource(inner: fixture.broker, delay: .seconds(30))
        let components = fixture.components(try fixture.configuration(), candles: slow)
        try await components.register()
        let token = EventBackfillFixture.nifty
        let started = ContinuousClock.now
        try await fixture.running(components) {
            _ = try await components.handler.handle(try SubscriptionEventCodec.decode(EventBackfillFixture.eventJSON()), source: "stream")
            #expect(try await fixture.eventually { slow.count(token) == 1 })
        }
        #expect(ContinuousClock.now - started < .seconds(20), "the cancelled fetch held the workers")
        let jobs = try await fixture.postgres.query("SELECT status FROM backfill_jobs")
        #expect(try jobs.map { try $0.decode(String.self, "status") } == ["running"])
        #expect(slow.count(token) == 1)
    }
}

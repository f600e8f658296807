import Foundation
import Shared
import SharedPostgres
import Synchronization
import Testing
import TestSupport

/// Both services on Redis Sentinel (a master, a replica, three sentinels): the master is killed in the middle of a burst
/// of subscription changes; Sentinel promotes the replica and both services follow it, losing no event.
@Suite("Redis Sentinel failover", .serialized)
struct RedisSentinelFailoverTests {
    @Test("the master is killed during 1,000 subscription changes: both services follow Sentinel to the promoted replica within 15 s and every event is on its stream")
    func followsFailover() async throws {
        let group = try await RedisSentinelGroup.start()
        defer { group.stop() }
        // TickerService is told the sentinels the way an operator sets them (REDIS_SENTINELS, REDIS_MASTER_NAME; REDIS_URL's
        // host then unused); BackendService and the test's clients take the redis+sentinel:// URL.
        let ticker = ["REDIS_URL": "redis://127.0.0.1:9/0", "REDIS_SENTINELS": group.sentinelList, "REDIS_MASTER_NAME": group.masterName, "HISTORY_REQUESTS_PER_SECOND": "100"]
        try await Platform.with(
            redisURL: group.url, environment: [.ticker: ticker, .backend: ["BACKFILL_SUBSCRIPTION_AWARE": "false"]],
            arguments: [.simulator: ["--historical-requests-per-second", "150"]]
        ) { platform in
            let tokens = try await platform.instruments(exchange: "NFO").prefix(1000).map { Int64($0.instrumentToken) }
            try #require(tokens.count == 1000)
            let acknowledged = Mutex<[Int64: ContinuousClock.Instant]>([:])
            let writer = Task {
                for token in tokens {
                    while !Task.isCancelled {
                        let reply = try? await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(token), "requested_mode": "LTP"}"#)
                        if let reply, reply.statusCode == 200 || reply.statusCode == 201 {
                            acknowledged.withLock { $0[token] = .now }
                            break
                        }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            defer { writer.cancel() }
            try await waitUntil("300 changes made before the master dies", timeout: .seconds(60), every: .milliseconds(20)) { acknowledged.withLock { $0.count } >= 300 }

            let oldMaster = group.master.port
            group.master.kill()
            let killed = ContinuousClock.now

            // Back: Sentinel names the replica, both /health answer 200, and BackendService has processed an event of a
            // change made after the kill (TickerService published it to the new master, BackendService read it there).
            try await waitUntil("both services work on the promoted replica", timeout: .seconds(90), every: .milliseconds(200)) {
                guard try await group.currentMasterPort() == group.replica.port else { return false }
                let tickerHealth = try? await platform.get(.ticker, "/health")
                let backendHealth = try? await platform.get(.backend, "/health")
                guard tickerHealth?.statusCode == 200, backendHealth?.statusCode == 200 else { return false }
                let later = acknowledged.withLock { $0.filter { $0.value > killed }.map(\.key) }
                guard !later.isEmpty else { return false }
                let rows = try await platform.postgres.query(
                    "SELECT count(*) AS n FROM processed_events p JOIN event_outbox o ON o.event_id::text = p.event_id WHERE o.instrument_token = ANY($1::bigint[])",
                    [PostgresArrayLiteral.bigints(later)]
                )
                return try rows[0].decode(Int.self, "n") > 0
            }
            let recovery = ContinuousClock.now - killed
            let beforeKill = acknowledged.withLock { $0.values.filter { $0 < killed }.count }
            print("redis sentinel failover: master \(oldMaster) killed after \(beforeKill) changes; both services on the promoted replica \(group.replica.port) \(recovery) later")
            #expect(recovery <= .seconds(15), "the services took \(recovery) to work on the promoted replica")

            try await waitUntil("all 1,000 changes are acknowledged", timeout: .seconds(120)) { acknowledged.withLock { $0.count } == tokens.count }
            // Every event the outbox holds is published, and on the new master's stream.
            try await waitUntil("the outbox is drained", timeout: .seconds(60)) {
                try await platform.postgres.query("SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL")[0].decode(Int.self, "n") == 0
            }
            let outboxed = Set(try await platform.postgres.query("SELECT event_id::text AS id FROM event_outbox").map { try $0.decode(String.self, "id") })
            #expect(outboxed.count == tokens.count, "one subscription_created event per acknowledged change")
            let redis = try platform.redisClient()
            let streamed = Set(try await platform.streamEvents(redis).map(\.eventID))
            #expect(outboxed.isSubset(of: streamed), "\(outboxed.subtracting(streamed).count) published events are not on the new master's stream")
            // BackendService processes every one of them (each once: processed_events is keyed by event id).
            try await waitUntil("BackendService processed every event", timeout: .seconds(180), every: .milliseconds(500)) {
                try await platform.postgres.query("SELECT count(*) AS n FROM processed_events")[0].decode(Int.self, "n") >= outboxed.count
            }
        }
    }
}

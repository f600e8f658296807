import Foundation
import Shared
import Synchronization
import Testing
import TestSupport

/// Both services on a multi-host `DATABASE_URL` (`target_session_attrs=read-write`) over a primary and a synchronous
/// streaming standby: the primary crashes in the middle of a stream of subscriptions, the standby is promoted, and the
/// services carry on against it with nothing they acknowledged lost.
@Suite("PostgreSQL failover", .serialized)
struct PostgresFailoverTests {
    @Test("the primary crashes mid-stream of subscriptions and the standby is promoted: both services healthy again within 15 s, every acknowledged subscription and its event kept")
    func followsPromotion() async throws {
        let primary = try await PostgresCluster.start()
        defer { primary.stop() }
        let database = try #require(try await primary.createDatabase().split(separator: "/").last.map(String.init))
        let standby = try await primary.startStandby()
        defer { standby.stop() }
        try await primary.requireSynchronousStandby()
        let url = "postgresql://postgres@127.0.0.1:\(primary.port),127.0.0.1:\(standby.port)/\(database)?target_session_attrs=read-write"

        try await Platform.with(database: url) { platform in
            let tokens = try await platform.instruments(exchange: "NFO").prefix(400).map { Int64($0.instrumentToken) }
            try #require(tokens.count == 400)
            // One subscription after another, as terminals send them; a refused one is retried. What was acknowledged
            // (200 or 201) is what must survive.
            let acknowledged = Mutex<[Int64: ContinuousClock.Instant]>([:])
            let writer = Task {
                for token in tokens {
                    while !Task.isCancelled {
                        let reply = try? await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(token), "requested_mode": "QUOTE"}"#)
                        if let reply, reply.statusCode == 200 || reply.statusCode == 201 {
                            acknowledged.withLock { $0[token] = .now }
                            break
                        }
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
            defer { writer.cancel() }
            try await waitUntil("100 subscriptions acknowledged before the crash", timeout: .seconds(60)) { acknowledged.withLock { $0.count } >= 100 }

            try await primary.stopServer(.immediate)
            let beforeCrash = acknowledged.withLock { $0.count }
            try await standby.promote()
            let promoted = ContinuousClock.now

            // Back: both /health answer 200 and a subscription asked after the promotion is acknowledged.
            try await waitUntil("both services are healthy and subscribing again", timeout: .seconds(60), every: .milliseconds(200)) {
                let ticker = try? await platform.get(.ticker, "/health")
                let backend = try? await platform.get(.backend, "/health")
                return ticker?.statusCode == 200 && backend?.statusCode == 200 && acknowledged.withLock { $0.values.contains { $0 > promoted } }
            }
            let recovery = ContinuousClock.now - promoted
            print("postgres failover: \(beforeCrash) subscriptions acknowledged before the crash; both services back \(recovery) after the promotion")
            #expect(recovery <= .seconds(15), "the services took \(recovery) to come back after the promotion")

            try await waitUntil("the rest of the subscriptions are acknowledged", timeout: .seconds(120)) { acknowledged.withLock { $0.count } == tokens.count }
            let kept = Set(acknowledged.withLock { $0.keys })

            // On the promoted standby: every acknowledged subscription is active and has its created event in the outbox,
            // and every event reached the stream (the relay carried on).
            let active = Set(try await platform.postgres.query("SELECT instrument_token FROM instrument_subscriptions WHERE status = 'active'")
                .map { try $0.decode(Int64.self, "instrument_token") })
            #expect(kept.isSubset(of: active), "\(kept.subtracting(active).count) acknowledged subscriptions are missing after the failover")
            let outboxed = Set(try await platform.postgres.query("SELECT instrument_token FROM event_outbox WHERE event_type = 'subscription_created'")
                .map { try $0.decode(Int64.self, "instrument_token") })
            #expect(kept.isSubset(of: outboxed), "\(kept.subtracting(outboxed).count) acknowledged subscriptions have no outbox event")
            let redis = try platform.redisClient()
            try await waitUntil("every outbox event is on the stream", timeout: .seconds(60)) {
                let streamed = Set(try await platform.streamEvents(redis).filter { $0.kind == .created }.map(\.instrumentToken))
                return kept.isSubset(of: streamed)
            }
            let unpublished = try await platform.postgres.query("SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL")
            #expect(try unpublished[0].decode(Int.self, "n") == 0)
            // The broker streams what is stored: TickerService did not lose its feed with its database.
            try await waitUntil("the simulator streams every subscription") {
                Set(try await platform.simulatorSubscriptions().keys.map(Int64.init)).isSuperset(of: kept)
            }
        }
    }
}

import Foundation
import ArgumentParser
import Hummingbird
import HummingbirdTesting
import Shared
import Testing
import TestSupport

@testable import TickerService

struct TestArguments: AppArguments {
    var common: CommonOptions

    init(redisURL: String, databaseURL: String) throws {
        common = try CommonOptions.parse([
            "--redis-url", redisURL, "--database-url", databaseURL, "--env-file", "/nonexistent/.env", "--log-level", "warning",
        ])
    }
}

/// Overrides for tests that only need the HTTP surface: an in-memory feed and a broker URL where nothing listens.
func quietOverrides(feed: RecordingFeed = RecordingFeed()) -> TickerOverrides {
    TickerOverrides(
        feed: feed,
        configuration: ServiceEnvironment.unreachable(except: ["REDIS_URL", "DATABASE_URL"]).merging(
            [ConfigKey.redisChannelPrefix.name: "health-\(UUID().uuidString.prefix(8))"]
        ) { _, given in given }
    )
}

@Suite("TickerService health")
struct TickerHealthTests {
    @Test("GET /health reports seed 003's JSON with Redis and PostgreSQL ok")
    func healthy() async throws {
        try await awaitSharedPostgres()
        let redis = try await RedisServer.shared
        let database = try await PostgresCluster.shared.createDatabase()
        let app = try await buildApplication(TestArguments(redisURL: redis.url, databaseURL: database), overrides: quietOverrides())
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(json["status"] as? String == "ok")
                #expect(json["environment"] as? String == "dev")
                let ticker = try #require(json["ticker"] as? [String: Any])
                #expect(ticker["running"] is Bool)
                #expect(ticker["active_subscriptions"] as? Int == 0)
                let dependencies = try #require(json["dependencies"] as? [String: Any])
                #expect(dependencies["redis"] as? String == "ok")
                #expect(dependencies["database"] as? String == "ok")
                let registry = try #require(dependencies["instrument_registry"] as? [String: Any])
                #expect(registry["cached_instruments"] as? Int == 0)
                #expect(registry["status"] as? String == "empty")
            }
        }
    }

    @Test("losing Redis turns /health to 503 with the error, and it recovers when Redis returns")
    func redisOutage() async throws {
        try await awaitSharedPostgres()
        let redis = try await RedisServer.start()
        defer { redis.stop() }
        let database = try await PostgresCluster.shared.createDatabase()
        let app = try await buildApplication(TestArguments(redisURL: redis.url, databaseURL: database), overrides: quietOverrides())
        try await app.test(.router) { client in
            redis.kill()
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(json["status"] as? String == "degraded")
                let dependencies = try #require(json["dependencies"] as? [String: Any])
                let redisStatus = try #require(dependencies["redis"] as? String)
                #expect(redisStatus != "ok")
                #expect(dependencies["database"] as? String == "ok")
            }
            try await redis.restart()
            var recovered = false
            for _ in 0..<50 where !recovered {
                try await client.execute(uri: "/health", method: .get) { response in
                    recovered = response.status == .ok
                }
                if !recovered { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(recovered, "health did not return to ok after Redis came back")
        }
    }

    @Test("GET /metrics serves Prometheus text including request counters")
    func metrics() async throws {
        try await awaitSharedPostgres()
        let redis = try await RedisServer.shared
        let database = try await PostgresCluster.shared.createDatabase()
        let app = try await buildApplication(TestArguments(redisURL: redis.url, databaseURL: database), overrides: quietOverrides())
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                #expect(text.contains(#"http_server_request_duration_bucket{http_route="/health",http_request_method="GET",http_response_status_code="200""#))
            }
        }
    }

    @Test("an unreachable Redis at startup is a StartupError naming redis and its address")
    func unreachableRedis() async throws {
        let port = Ports.freeLoopbackPort()
        let database = try await PostgresCluster.shared.createDatabase()
        await #expect {
            _ = try await buildApplication(TestArguments(redisURL: "redis://127.0.0.1:\(port)", databaseURL: database))
        } throws: { error in
            guard let error = error as? StartupError else { return false }
            return error.dependency == "redis" && error.description.contains("127.0.0.1:\(port)")
        }
    }
}

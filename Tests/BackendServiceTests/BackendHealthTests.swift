import Foundation
import ArgumentParser
import Hummingbird
import HummingbirdTesting
import Shared
import Testing
import TestSupport

@testable import BackendService

struct TestArguments: AppArguments {
    var common: CommonOptions

    init(redisURL: String, databaseURL: String) throws {
        common = try CommonOptions.parse([
            "--redis-url", redisURL, "--database-url", databaseURL, "--env-file", "/nonexistent/.env", "--log-level", "warning",
        ])
    }
}

@Suite("BackendService health")
struct BackendHealthTests {
    @Test("GET /health and seed 002's GET /internal/health report Redis and PostgreSQL")
    func healthy() async throws {
        let redis = try await RedisServer.shared
        let database = try await PostgresCluster.shared.createDatabase()
        let app = try await buildApplication(
            TestArguments(redisURL: redis.url, databaseURL: database), configuration: ServiceEnvironment.unreachable(except: ["REDIS_URL", "DATABASE_URL"])
        )
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(json["status"] as? String == "ok")
                #expect(json["dependencies"] as? [String: String] == ["redis": "ok", "database": "ok"])
            }
            try await client.execute(uri: "/internal/health", method: .get) { response in
                #expect(response.status == .ok)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(json["status"] as? String == "healthy")
                let timestamp = try #require(json["timestamp"] as? String)
                #expect(EventTimestamp.parseISO8601(timestamp) != nil)
            }
        }
    }

    @Test("losing PostgreSQL turns health to 503/unhealthy without stopping the service; it recovers")
    func databaseOutage() async throws {
        let redis = try await RedisServer.shared
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let database = try await cluster.createDatabase()
        let app = try await buildApplication(
            TestArguments(redisURL: redis.url, databaseURL: database), configuration: ServiceEnvironment.unreachable(except: ["REDIS_URL", "DATABASE_URL"])
        )
        try await app.test(.router) { client in
            try await cluster.stopServer()
            try await client.execute(uri: "/internal/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(json["status"] as? String == "unhealthy")
                let dependencies = try #require(json["dependencies"] as? [String: String])
                #expect(dependencies["redis"] == "ok")
                #expect(dependencies["database"] != "ok")
            }
            try await cluster.startServer()
            var recovered = false
            for _ in 0..<50 where !recovered {
                try await client.execute(uri: "/health", method: .get) { response in recovered = response.status == .ok }
                if !recovered { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(recovered, "health did not return to ok after PostgreSQL came back")
        }
    }

    @Test("a bad feature-flag value stops startup with the key named")
    func badFlag() async throws {
        let source = try ConfigSource(environment: ["SMART_SUBSCRIPTION_WAIT_TIMEOUT": "soon"], dotEnvPath: nil)
        #expect {
            _ = try BackendConfiguration(source: source)
        } throws: { error in
            (error as? ConfigError)?.key == "SMART_SUBSCRIPTION_WAIT_TIMEOUT"
        }
        let flags = try BackendConfiguration(source: ConfigSource(environment: ["BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false"], dotEnvPath: nil))
        #expect(!flags.backfill.immediateOnSubscribe)
        #expect(flags.backfill.eventsEnabled)
    }
}

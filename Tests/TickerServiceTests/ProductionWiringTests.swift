import Foundation
import Hummingbird
import HummingbirdTesting
import Shared
import Testing
import TestSupport

@testable import TickerService

@Suite("TickerService production wiring")
struct ProductionWiringTests {
    @Test("with the real FeedManager and the simulator: instruments load, seed 003's POST streams and emits, DELETE removes")
    func realFeed() async throws {
        // The fixture first: it starts the shared PostgreSQL cluster, whose startup reads a child's pipe to EOF; a
        // simulator spawned meanwhile would inherit that pipe and hold it open (TestSupport's ChildProcess does not
        // close inherited descriptors).
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let port = Ports.freeLoopbackPort()
        let simulator = try ChildProcess(
            executable: try BuiltProducts.executable("BrokerSimulator"),
            arguments: ["--port", "\(port)", "--log-level", "warning", "--tick-interval-ms", "200"],
            outputPath: FileManager.default.temporaryDirectory.appendingPathComponent("broker-sim-\(port).log").path
        )
        defer { simulator.stopNow() }
        try await fixture.postgres.execute("DELETE FROM instruments")
        let app = try await buildApplication(
            TestArguments(redisURL: fixture.redisURL, databaseURL: fixture.database),
            overrides: TickerOverrides(configuration: ServiceEnvironment.unreachable(except: ["REDIS_URL", "DATABASE_URL"]).merging([
                ConfigKey.brokerURL.name: "http://127.0.0.1:\(port)", ConfigKey.brokerWebSocketURL.name: "ws://127.0.0.1:\(port)",
                ConfigKey.redisChannelPrefix.name: fixture.prefix, ConfigKey.apiKeyEnabled.name: "false",
            ]) { _, given in given })
        )
        try await app.test(.router) { client in
            var token: Int64?
            for _ in 0..<300 where token == nil {
                token = try await fixture.postgres.query("SELECT instrument_token FROM instruments WHERE segment = 'NFO-OPT' LIMIT 1").first?
                    .decode(Int64.self, "instrument_token")
                if token == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let instrument = try #require(token, "the instrument dump was not loaded")
            let created = try await client.post("/subscriptions", json: ["instrument_token": instrument, "requested_mode": "FULL"])
            #expect(created.status == .created)
            let body = try TestJSON.object(created.body)
            #expect(body["account_id"] as? String == "primary")
            #expect(body["connection_id"] is Int)

            var streaming = false
            for _ in 0..<200 where !streaming {
                let health = try TestJSON.object(try await client.send("/health", .get).body)
                let ticker = health["ticker"] as? [String: Any]
                let connections = ticker?["connections"] as? [[String: Any]] ?? []
                streaming = ticker?["running"] as? Bool == true && ticker?["streaming_instruments"] as? Int == 1
                    && ticker?["active_subscriptions"] as? Int == 1 && connections.contains { $0["state"] as? String == "streaming" }
                if !streaming { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(streaming, "the feed reports the instrument placed on a streaming connection")
            let events = try await fixture.waitForStreamEvents(1)
            #expect(events.first?.event.kind == .created)
            #expect(events.first?.event.metadata.accountID == "primary")

            #expect(try await client.send("/subscriptions/\(instrument)", .delete).status == .ok)
            #expect(try await fixture.waitForStreamEvents(2).last?.event.kind == .removed)
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import SharedInstruments
import SharedPostgres
import Testing
import TestSupport

@testable import TickerService

@Suite("TickerService instrument registry")
struct InstrumentRegistryTests {
    @Test("loads the broker simulator's instrument dump into PostgreSQL and serves GET /instruments/{token}")
    func loadsFromSimulator() async throws {
        // The fixture first: it starts the shared PostgreSQL cluster, whose startup reads a child's pipe to EOF; a
        // simulator spawned meanwhile would inherit that pipe and hold it open (TestSupport's ChildProcess does not
        // close inherited descriptors).
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let port = Ports.freeLoopbackPort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("broker-sim-\(port).log").path
        let simulator = try ChildProcess(
            executable: try BuiltProducts.executable("BrokerSimulator"),
            arguments: ["--port", "\(port)", "--log-level", "warning"],
            outputPath: log
        )
        defer { simulator.stopNow() }
        try await fixture.postgres.execute("DELETE FROM instruments")
        let app = try await fixture.app(feed: RecordingFeed(), brokerURL: "http://127.0.0.1:\(port)")
        try await app.test(.router) { client in
            var cached = 0
            for _ in 0..<300 where cached == 0 {
                let health = try TestJSON.object(try await client.send("/health", .get).body)
                let registry = (health["dependencies"] as? [String: Any])?["instrument_registry"] as? [String: Any]
                cached = registry?["cached_instruments"] as? Int ?? 0
                if cached == 0 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(cached > 1000, "the simulator's universe is loaded")
            let row = try #require(
                try await fixture.postgres.query("SELECT instrument_token, tradingsymbol FROM instruments WHERE segment = 'NFO-OPT' LIMIT 1").first
            )
            let token = try row.decode(Int64.self, "instrument_token")
            let response = try await client.send("/instruments/\(token)", .get)
            #expect(response.status == .ok)
            let body = try TestJSON.object(response.body)
            #expect(body["tradingsymbol"] as? String == (try row.decode(String.self, "tradingsymbol")))
            #expect(body["segment"] as? String == "NFO-OPT")
            #expect(body["exchange"] as? String == "NFO")

            // And it can be subscribed, the event carrying the registry's metadata.
            let created = try await client.post("/subscriptions", json: ["instrument_token": token, "requested_mode": "LTP"])
            #expect(created.status == .created)
            let events = try await fixture.waitForStreamEvents(1)
            #expect(events.first?.event.tradingsymbol == body["tradingsymbol"] as? String)
            #expect(events.first?.event.metadata.segment == "NFO-OPT")
        }
    }

    @Test("an unreachable broker is logged and retried, never fatal; the cache keeps serving")
    func unreachableBroker() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let service = InstrumentRegistryService(
            client: InstrumentDumpClient(brokerURL: "http://127.0.0.1:\(Ports.freeLoopbackPort())", httpClient: .shared, timeout: .seconds(5)),
            repository: PostgresInstrumentRepository(postgres: fixture.postgres),
            refreshInterval: .seconds(60),
            logger: Logger(label: "tests.instruments")
        )
        #expect(await service.loadOnce() == false)
        #expect(try await PostgresInstrumentRepository(postgres: fixture.postgres).count() == SampleInstruments.all.count)
    }

    @Test("storing a dump twice updates rows in place")
    func upsert() async throws {
        let fixture = try await TickerFixture.make()
        defer { Task { await fixture.close() } }
        let repository = PostgresInstrumentRepository(postgres: fixture.postgres)
        var changed = SampleInstruments.reliance
        changed.lotSize = 2
        #expect(try await repository.store([changed, SampleInstruments.niftyIndex]) == 2)
        #expect(try await repository.count() == SampleInstruments.all.count)
        let catalog = PostgresInstrumentCatalog(postgres: fixture.postgres)
        #expect(try await catalog.instrument(token: 738_561)?.lotSize == 2)
        let found = try await catalog.instruments(tokens: [738_561, 256_265, 1])
        #expect(Set(found.keys) == [738_561, 256_265])
    }
}

import AsyncHTTPClient
import BrokerWire
import Foundation
import Logging
import NIOCore
import Shared
import SharedPostgres
import SharedRedis
import Synchronization
import TestSupport

@testable import BackendService

/// Counts fetches, so tests can see coalescing and "backfill ran once".
final class CountingCandleSource: CandleSource {
    let inner: any CandleSource
    let calls = Mutex<[Int64]>([])
    let delay: Duration

    init(inner: any CandleSource, delay: Duration = .zero) {
        self.inner = inner
        self.delay = delay
    }

    func candles(token: Int64, from: Date, to: Date) async throws -> [KiteCandle] {
        calls.withLock { $0.append(token) }
        if delay > .zero { try await Task.sleep(for: delay) }
        return try await inner.candles(token: token, from: from, to: to)
    }

    func count(_ token: Int64) -> Int { calls.withLock { $0.filter { $0 == token }.count } }
}

/// A migrated database, Redis, a running broker simulator (`--session-mode always`) and a unique prefix.
struct EventBackfillFixture: Sendable {
    let postgres: PostgresClient
    let redis: RedisClient
    let redisURL: String
    let channels: EventChannels
    let simulator: ChildProcess
    let simulatorURL: String
    let httpClient: HTTPClient
    /// The simulator's historical API as backfill reads it: one pacer for every use in a test, so together they stay
    /// within the simulator's 3 requests per second.
    let broker: BrokerHistoricalSource

    /// NIFTY 50 index and two more instruments from the simulator's universe.
    static let nifty: Int64 = 256265

    static func make() async throws -> EventBackfillFixture {
        let redisServer = try await RedisServer.shared
        // The database first (its startup reads a child's pipe to EOF; a simulator spawned meanwhile would hold it).
        let databaseURL = try await PostgresCluster.shared.createDatabase()
        let logger = quietLogger
        let postgres = PostgresClient(configuration: PostgresConfiguration(connectionString: databaseURL, poolSize: 6, applicationName: "event-tests"), logger: logger)
        _ = try await Migrator(client: postgres, logger: logger).migrate(try MigrationLoader.load(directory: PlatformMigrations.directory))
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisServer.url), logger: logger)
        let port = Ports.freeLoopbackPort()
        let simulator = try ChildProcess(
            executable: try BuiltProducts.executable("BrokerSimulator"),
            arguments: ["--port", "\(port)", "--session-mode", "always", "--log-level", "warning"],
            outputPath: FileManager.default.temporaryDirectory.appendingPathComponent("event-backfill-sim-\(port).log").path
        )
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let fixture = EventBackfillFixture(
            postgres: postgres, redis: redis, redisURL: redisServer.url, channels: EventChannels(prefix: "evt\(UUID().uuidString.prefix(8))"),
            simulator: simulator, simulatorURL: "http://127.0.0.1:\(port)", httpClient: httpClient,
            broker: BrokerHistoricalSource(
                baseURL: "http://127.0.0.1:\(port)", apiKey: "sim_api_key", accessToken: "sim_access_token", httpClient: httpClient, logger: quietLogger
            )
        )
        try await fixture.waitForSimulator()
        return fixture
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "tests.events")
        logger.logLevel = .warning
        return logger
    }

    func close() async {
        simulator.stopNow()
        await redis.close()
        await postgres.close()
        try? await httpClient.shutdown()
    }

    private func waitForSimulator() async throws {
        for _ in 0..<200 {
            var request = HTTPClientRequest(url: "\(simulatorURL)/health")
            request.method = .GET
            if let response = try? await httpClient.execute(request, timeout: .seconds(1)), response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("broker simulator did not start")
    }

    /// The simulator's next `count` historical calls fail.
    func injectHistoricalFailures(_ count: Int) async throws {
        var request = HTTPClientRequest(url: "\(simulatorURL)/admin/faults/historical")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"count":\#(count)}"#))
        let response = try await httpClient.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw TestFailure("fault injection answered \(response.status)") }
    }

    /// Configuration for tests: `always` session, fast claims, flags as given.
    func configuration(_ overrides: [String: String] = [:], consumer: String = "test-\(UUID().uuidString.prefix(6))") throws -> BackfillConfiguration {
        var environment = [
            "ENVIRONMENT": "test", "REDIS_CHANNEL_PREFIX": channels.prefix, "EVENTS_CONSUMER_NAME": consumer,
            "EVENTS_CLAIM_MIN_IDLE_SECONDS": "1", "BACKFILL_RETRY_BASE_SECONDS": "0.1", "BACKFILL_SUBSCRIPTION_AWARE": "false",
            "TICKER_URL": "http://127.0.0.1:\(Ports.freeLoopbackPort())",
        ]
        environment.merge(overrides) { _, new in new }
        return try BackfillConfiguration(source: ConfigSource(environment: environment, dotEnvPath: nil))
    }

    /// Components using the simulator for candles and an unreachable TickerService for subscriptions.
    func components(_ configuration: BackfillConfiguration, candles: (any CandleSource)? = nil) -> EventBackfillComponents {
        let ticker = TickerClient(baseURL: configuration.tickerURL, apiKey: nil, httpClient: httpClient, logger: Self.quietLogger)
        return EventBackfillComponents(
            configuration: configuration, redis: redis, postgres: postgres, candles: candles ?? broker, subscriptions: ticker,
            tickerLookup: nil, logger: Self.quietLogger
        )
    }

    /// Runs the components' services while `body` runs, then cancels them.
    func running(_ components: EventBackfillComponents, _ body: @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in components.services {
                group.addTask { try await service.run() }
            }
            do {
                try await body()
                group.cancelAll()
                await components.close()
            } catch {
                group.cancelAll()
                await components.close()
                throw error
            }
        }
    }

    /// A seed-000-shaped event JSON.
    static func eventJSON(
        type: String = "subscription_created", token: Int64 = nifty, symbol: String = "NIFTY 50", eventID: String? = UUID().uuidString,
        timestamp: Any = Int64(Date().timeIntervalSince1970)
    ) -> String {
        var object: [String: Any] = [
            "event_type": type, "instrument_token": token, "tradingsymbol": symbol, "timestamp": timestamp,
            "metadata": ["tradingsymbol": symbol, "segment": "INDICES", "requested_mode": "FULL", "account_id": "primary"],
        ]
        if let eventID { object["event_id"] = eventID }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @discardableResult
    func addToStream(_ payload: String) async throws -> String {
        try await redis.xadd(channels.eventsStream, maxLength: nil, fields: [("event", payload)])
    }

    func barCount(_ token: Int64, source: String? = nil) async throws -> Int {
        let rows = try await postgres.query(
            "SELECT count(*) AS n FROM bars_1m WHERE instrument_token = $1 AND ($2::text IS NULL OR source = $2)", [token, source]
        )
        return Int(try rows[0].decode(Int64.self, "n"))
    }

    func processedCount(_ eventID: String) async throws -> Int {
        let rows = try await postgres.query("SELECT count(*) AS n FROM processed_events WHERE event_id = $1", [eventID])
        return Int(try rows[0].decode(Int64.self, "n"))
    }

    func pendingCount(group: String = "backend") async throws -> Int {
        try await redis.xpending(channels.eventsStream, group: group).count
    }

    func deadLetters() async throws -> [[String: String]] {
        let reply = try await redis.send(["XRANGE", channels.eventsDeadLetterStream, "-", "+"])
        return (reply.array ?? []).compactMap { raw -> [String: String]? in
            guard let pair = raw.array, pair.count == 2, let list = pair[1].array else { return nil }
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < list.count {
                fields[list[index].string ?? ""] = list[index + 1].string ?? ""
                index += 2
            }
            return fields
        }
    }

    /// Polls `condition` every 100 ms for up to `seconds`.
    func eventually(_ seconds: Double = 30, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

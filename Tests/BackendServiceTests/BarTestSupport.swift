import Foundation
import Logging
import Shared
import SharedPostgres
import SharedRedis
import TestSupport

@testable import BackendService

/// A migrated database, Redis clients and a unique stream prefix for one bars test.
struct BarFixture: Sendable {
    let postgres: PostgresClient
    let redis: RedisClient
    /// A second client for the consumer's blocking reads.
    let blockingRedis: RedisClient
    let channels: EventChannels
    let databaseURL: String
    let redisURL: String

    static func make() async throws -> BarFixture {
        let redisServer = RedisServer.shared
        let databaseURL = try await PostgresCluster.shared.createDatabase()
        var logger = Logger(label: "tests.bars")
        logger.logLevel = .warning
        let postgres = PostgresClient(configuration: PostgresConfiguration(connectionString: databaseURL, poolSize: 4, applicationName: "bar-tests"), logger: logger)
        let migrations = try MigrationLoader.load(directory: PlatformMigrations.directory)
        _ = try await Migrator(client: postgres, logger: logger).migrate(migrations)
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisServer.url), logger: logger)
        let blocking = RedisClient(configuration: try RedisConfiguration(url: redisServer.url), logger: logger)
        return BarFixture(
            postgres: postgres, redis: redis, blockingRedis: blocking,
            channels: EventChannels(prefix: "test:\(UUID().uuidString.prefix(8))"), databaseURL: databaseURL, redisURL: redisServer.url
        )
    }

    func close() async {
        await redis.close()
        await blockingRedis.close()
        await postgres.close()
    }

    var logger: Logger {
        var logger = Logger(label: "tests.bars")
        logger.logLevel = .warning
        return logger
    }

    func consumer(name: String = "bars-test-\(UUID().uuidString.prefix(6))", claimIdle: Duration = .seconds(30), flush: Duration = .milliseconds(100))
        -> TickBarConsumer
    {
        TickBarConsumer(
            redis: blockingRedis, writer: TickBarWriter(postgres: postgres),
            settings: .init(stream: channels.ticksStream, group: "backend-bars", consumer: name, startID: "0", readCount: 500, flushInterval: flush, claimIdle: claimIdle),
            logger: logger
        )
    }

    /// XADDs one full-mode tick entry exactly as docs/feed.md documents it (field names, decimal strings, epoch units).
    @discardableResult
    func addTick(token: Int64, price: String, volume: Int64?, oi: Int64? = nil, ets: Int64, index: Bool = false) async throws -> String {
        try await redis.xadd(channels.ticksStream, maxLength: nil, fields: Self.fullTickFields(token: token, price: price, volume: volume, oi: oi, ets: ets, index: index))
    }

    static func fullTickFields(token: Int64, price: String, volume: Int64?, oi: Int64?, ets: Int64, index: Bool = false) -> [(String, String)] {
        TickEntryFields.full(token: token, price: price, volume: volume, oi: oi, ets: ets, index: index)
    }

    /// The stored 1-minute bar, nil when absent.
    func bar(_ token: Int64, _ minute: Int64) async throws -> StoredBar? {
        let rows = try await postgres.query(
            "SELECT bucket AS time, open, high, low, close, volume, oi, source FROM bars_1m WHERE instrument_token = $1 AND bucket = $2",
            [token, Date(timeIntervalSince1970: TimeInterval(minute))]
        )
        return try rows.first.map(BarRepository.bar)
    }

    /// Polls (bounded) until `condition` holds.
    func eventually(_ what: String, attempts: Int = 200, every: Duration = .milliseconds(50), _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<attempts {
            if try await condition() { return true }
            try await Task.sleep(for: every)
        }
        return false
    }

    func pendingCount(group: String = "backend-bars") async throws -> Int {
        do {
            return try await redis.xpending(channels.ticksStream, group: group).count
        } catch let error as RedisError where error.serverErrorPrefix == "NOGROUP" {
            // The consumer has not created its group yet: nothing is acknowledged so far.
            return Int.max
        }
    }
}

/// Runs a consumer in the background of `body` and stops it afterwards.
func withConsumer<T: Sendable>(_ consumer: TickBarConsumer, _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await consumer.run() }
        do {
            let value = try await body()
            group.cancelAll()
            try? await group.waitForAll()
            return value
        } catch {
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// A minute aligned to 60 s, some days back (never "now", so tests do not depend on the clock).
let testMinute: Int64 = 1_763_610_300  // 2025-11-20T03:45:00Z = 09:15 IST

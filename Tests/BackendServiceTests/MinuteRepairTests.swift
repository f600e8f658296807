import AsyncHTTPClient
import BrokerWire
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Shared
import SharedPostgres
import Testing
import TestSupport

@testable import BackendService

/// Repair of suspect minutes and the reconciler against the real broker simulator (a child process), PostgreSQL and
/// Redis (issue 15; docs/bars.md, "Suspect minutes and repair").
@Suite("Suspect minutes: repair and reconciliation")
struct MinuteRepairTests {
    static let infy: Int64 = 408_065
    static let nifty: Int64 = 256_265

    func repairConfiguration(_ fixture: EventBackfillFixture, _ overrides: [String: String] = [:]) throws -> RepairConfiguration {
        var environment = [
            "ENVIRONMENT": "test", "REDIS_CHANNEL_PREFIX": fixture.channels.prefix, "REPAIR_INTERVAL": "0.2", "REPAIR_DELAY": "1",
            "RECONCILE_ENABLED": "false", "RECONCILE_SAMPLE": "5",
        ]
        environment.merge(overrides) { _, new in new }
        return try RepairConfiguration(source: ConfigSource(environment: environment, dotEnvPath: nil))
    }

    func components(_ fixture: EventBackfillFixture, _ configuration: RepairConfiguration, candles: any CandleSource) -> RepairComponents {
        RepairComponents(
            configuration: configuration, channels: fixture.channels, redis: fixture.redis, postgres: fixture.postgres, candles: candles,
            backfillDepth: { 0 }, consumerName: "repair-test", logger: EventBackfillFixture.quietLogger
        )
    }

    func running(_ components: RepairComponents, _ body: @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in components.services { group.addTask { try await service.run() } }
            do {
                try await body()
            } catch {
                group.cancelAll()
                await components.close()
                throw error
            }
            group.cancelAll()
            await components.close()
        }
    }

    /// `GET /admin/historical` of the simulator: served requests, in all and for `token`.
    func historicalRequests(_ fixture: EventBackfillFixture, token: Int64) async throws -> (total: Int, token: Int) {
        var request = HTTPClientRequest(url: "\(fixture.simulatorURL)/admin/historical")
        request.method = .GET
        let response = try await fixture.httpClient.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        let byToken = json["by_token"] as? [String: Any] ?? [:]
        return (json["total"] as? Int ?? -1, byToken[String(token)] as? Int ?? 0)
    }

    /// A deliberately wrong tick bar.
    func writeWrongTickBar(_ postgres: PostgresClient, token: Int64, minute: Int64) async throws {
        try await postgres.execute(
            "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source) VALUES ($1, $2, 1, 2, 0.5, 1.5, 7, 0, 'ticks')",
            [token, Date(timeIntervalSince1970: TimeInterval(minute))]
        )
    }

    func storedBar(_ postgres: PostgresClient, token: Int64, minute: Int64) async throws -> (candle: KiteCandle, source: String)? {
        let rows = try await postgres.query(
            "SELECT open, high, low, close, volume, source FROM bars_1m WHERE instrument_token = $1 AND bucket = $2",
            [token, Date(timeIntervalSince1970: TimeInterval(minute))]
        )
        return try rows.first.map { row in
            (
                KiteCandle(
                    timestamp: minute, open: try row.decode(Double.self, "open"), high: try row.decode(Double.self, "high"),
                    low: try row.decode(Double.self, "low"), close: try row.decode(Double.self, "close"), volume: try row.decode(Int64.self, "volume")
                ),
                try row.decode(String.self, "source")
            )
        }
    }

    func suspectCount(_ postgres: PostgresClient) async throws -> Int {
        try await postgres.query("SELECT count(*)::bigint AS n FROM suspect_minutes").first?.decode(Int.self, "n") ?? -1
    }

    static func minuteStart(_ date: Date = Date()) -> Int64 {
        let seconds = Int64(date.timeIntervalSince1970)
        return seconds - seconds % 60
    }

    @Test("without gaps repair asks the broker nothing; a gap's wrong tick minutes become the broker's candles, repaired and final, one request per instrument")
    func gapIsRepaired() async throws {
        let fixture = try await EventBackfillFixture.make()
        do {
            try await gapIsRepaired(fixture)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }

    func gapIsRepaired(_ fixture: EventBackfillFixture) async throws {
        // One source for the repair and the checks below: one pacer, so together they stay within the simulator's 3 req/s.
        let broker = fixture.broker
        let configuration = try repairConfiguration(fixture)
        let repair = components(fixture, configuration, candles: broker)
        let current = Self.minuteStart()
        // Two closed minutes with wrong tick bars; the stall over them also makes the minute after suspect (its volume
        // counts from theirs), closed too, so all three are due at once.
        let minutes = [current - 180, current - 120]
        let following = current - 60
        for token in [Self.infy, Self.nifty] {
            for minute in minutes { try await writeWrongTickBar(fixture.postgres, token: token, minute: minute) }
        }
        let before = try await historicalRequests(fixture, token: Self.infy)
        try await running(repair) {
            // (c) No gap: several looks of the repair pass and the broker is not asked.
            try await Task.sleep(for: .seconds(2))
            let idle = try await historicalRequests(fixture, token: Self.infy)
            #expect(idle.total == before.total, "repair fetched without any suspect minute")

            // (a) A stall in the shared schema over both minutes of both instruments.
            let gap = FeedGap(
                gapID: "stall-\(UUID().uuidString)", reason: .stall, accountID: "primary", connectionID: "primary#0",
                startMillis: minutes[0] * 1000 + 20_000, endMillis: minutes[1] * 1000 + 30_000, instrumentTokens: [Self.infy, Self.nifty]
            )
            let published = ContinuousClock.now
            _ = try await fixture.redis.xadd(fixture.channels.feedGapsStream, maxLength: nil, fields: [(FeedGapCodec.entryField, FeedGapCodec.encode(gap))])
            let repaired = try await fixture.eventually(60) {
                for token in [Self.infy, Self.nifty] {
                    for minute in minutes + [following] where try await storedBar(fixture.postgres, token: token, minute: minute)?.source != "repaired" {
                        return false
                    }
                }
                return try await suspectCount(fixture.postgres) == 0
            }
            #expect(repaired, "suspect minutes were not repaired")
            let elapsed = ContinuousClock.now - published
            let sinceClose = Date().timeIntervalSince1970 - Double(following + 60)
            print("repair: gap published → repaired in \(elapsed); last suspect minute closed \(Int(sinceClose)) s before it was repaired")
            #expect(sinceClose < 120, "a touched minute must be repaired within 2 minutes after it closes")
            // Contiguous minutes of one instrument are one request.
            let after = try await historicalRequests(fixture, token: Self.infy)
            #expect(after.token - before.token == 1)
            #expect(after.total - before.total == 2)

            // The same gap again (a redelivery) marks nothing.
            _ = try await fixture.redis.xadd(fixture.channels.feedGapsStream, maxLength: nil, fields: [(FeedGapCodec.entryField, FeedGapCodec.encode(gap))])
            #expect(try await fixture.eventually(10) { try await fixture.redis.xpending(fixture.channels.feedGapsStream, group: configuration.consumerGroup).count == 0 })
            #expect(try await suspectCount(fixture.postgres) == 0)
        }
        // Every touched minute equals the simulator's own candle.
        for token in [Self.infy, Self.nifty] {
            let candles = try await broker.candles(
                token: token, from: Date(timeIntervalSince1970: TimeInterval(minutes[0])), to: Date(timeIntervalSince1970: TimeInterval(minutes[1] + 59))
            )
            for minute in minutes {
                let stored = try #require(try await storedBar(fixture.postgres, token: token, minute: minute))
                let candle = try #require(candles.first { $0.timestamp == minute })
                #expect(stored.candle == KiteCandle(timestamp: minute, open: candle.open, high: candle.high, low: candle.low, close: candle.close, volume: candle.volume))
            }
        }
        // A late tick for a repaired minute changes nothing.
        _ = try await TickBarWriter(postgres: fixture.postgres).write([
            TickBar(
                StreamedTick(
                    instrumentToken: Self.infy, lastPrice: 9999, cumulativeVolume: 1, openInterest: nil, epochSeconds: minutes[1] + 30,
                    streamMillis: (minutes[1] + 30) * 1000, streamSequence: 0
                )
            ),
        ])
        #expect(try await storedBar(fixture.postgres, token: Self.infy, minute: minutes[1])?.source == "repaired")

        // GET /bars: the repaired minutes are `repaired` and final.
        let router = Router()
        router.addRoutes(
            BarsController<BasicRequestContext>(repository: BarRepository(postgres: fixture.postgres), maxPoints: 1_000, logger: EventBackfillFixture.quietLogger)
                .endpoints
        )
        let from = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(minutes[0])))
        let to = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(minutes[1])))
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/bars?instrument_token=\(Self.infy)&from=\(from)&to=\(to)", method: .get) { response in
                #expect(response.status == .ok)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let bars = try #require(json["bars"] as? [[String: Any]])
                #expect(bars.count == 2)
                #expect(bars.allSatisfy { $0["source"] as? String == "repaired" && $0["final"] as? Bool == true }, "\(bars)")
            }
        }
    }

    @Test("the reconciler finds a tick minute altered in the database, repairs it from the broker, and counts the equal ones")
    func reconcilerRepairsAlteredMinute() async throws {
        let fixture = try await EventBackfillFixture.make()
        do {
            try await reconcilerRepairsAlteredMinute(fixture)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }

    func reconcilerRepairsAlteredMinute(_ fixture: EventBackfillFixture) async throws {
        let broker = fixture.broker
        let configuration = try repairConfiguration(fixture, ["RECONCILE_ENABLED": "true", "RECONCILE_LOOKBACK_MINUTES": "4"])
        let current = Self.minuteStart()
        let minutes = [current - 180, current - 120, current - 60]
        let candles = try await broker.candles(
            token: Self.infy, from: Date(timeIntervalSince1970: TimeInterval(minutes[0])), to: Date(timeIntervalSince1970: TimeInterval(minutes[2] + 59))
        ).filter { minutes.contains($0.timestamp) }
        #expect(candles.count == 3)
        // Tick minutes as the feed built them (equal to the broker's), one of them altered on purpose.
        for candle in candles {
            let high = candle.timestamp == minutes[1] ? candle.high + 1 : candle.high
            try await fixture.postgres.execute(
                "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 'ticks')",
                [Self.infy, Date(timeIntervalSince1970: TimeInterval(candle.timestamp)), candle.open, high, candle.low, candle.close, candle.volume]
            )
        }
        let store = SuspectMinuteStore(postgres: fixture.postgres)
        let reconciler = MinuteReconciler(
            store: store, source: broker, configuration: configuration, backfillDepth: { 0 }, logger: EventBackfillFixture.quietLogger
        )
        let result = await reconciler.cycle()
        #expect(result == MinuteReconciler.CycleResult(equal: 2, repaired: 1, noCandle: 0, deferred: false))
        let altered = try #require(try await storedBar(fixture.postgres, token: Self.infy, minute: minutes[1]))
        let expected = try #require(candles.first { $0.timestamp == minutes[1] })
        #expect(altered.source == "repaired")
        #expect(altered.candle == KiteCandle(timestamp: minutes[1], open: expected.open, high: expected.high, low: expected.low, close: expected.close, volume: expected.volume))
        #expect(try await storedBar(fixture.postgres, token: Self.infy, minute: minutes[0])?.source == "ticks")

        // While repair has due work the reconciler leaves the broker budget to it.
        _ = try await fixture.postgres.execute(
            "INSERT INTO suspect_minutes (instrument_token, bucket, reasons, next_attempt_at) VALUES ($1, $2, ARRAY['drop'], now() - interval '1 second')",
            [Self.nifty, Date(timeIntervalSince1970: TimeInterval(minutes[0]))]
        )
        #expect(await reconciler.cycle().deferred)
    }
}

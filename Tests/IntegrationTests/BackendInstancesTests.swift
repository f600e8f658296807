import BrokerWire
import Foundation
import Shared
import SharedPostgres
import SharedRedis
import Testing
import TestSupport

/// Several BackendService processes on one Redis and one database, as a deployment that outgrew one process runs them:
/// the events group, the tick-bar group and the periodic backfill shared between them, one of them killed mid-burst.
@Suite("BackendService: several instances", .serialized)
struct BackendInstancesTests {
    /// One stored 1-minute bar, every column a user reads.
    struct Bar: Hashable, CustomStringConvertible {
        var token: Int64
        var minute: Date
        var open, high, low, close: Double
        var volume, oi: Int64
        var source: String
        var description: String { "\(token)@\(Int(minute.timeIntervalSince1970)) \(open)/\(high)/\(low)/\(close) v\(volume) oi\(oi) \(source)" }
    }

    static func bars(_ platform: Platform, tokens: [Int64]) async throws -> [Bar] {
        try await platform.postgres.query(
            """
            SELECT instrument_token, bucket, open, high, low, close, volume, oi, source FROM bars_1m
            WHERE instrument_token = ANY($1::bigint[]) ORDER BY instrument_token, bucket
            """,
            [PostgresArrayLiteral.bigints(tokens)]
        ).map {
            Bar(
                token: try $0.decode(Int64.self, "instrument_token"), minute: try $0.decode(Date.self, "bucket"),
                open: try $0.decode(Double.self, "open"), high: try $0.decode(Double.self, "high"), low: try $0.decode(Double.self, "low"),
                close: try $0.decode(Double.self, "close"), volume: try $0.decode(Int64.self, "volume"), oi: try $0.decode(Int64.self, "oi"),
                source: try $0.decode(String.self, "source")
            )
        }
    }

    /// Four minutes of full ticks for each token, one every 6 s, interleaved across tokens the way a feed delivers them;
    /// prices wander deterministically and the cumulative volume grows.
    static func ticks(tokens: [Int64], from start: Int64) -> [[(String, String)]] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var prices = Dictionary(uniqueKeysWithValues: tokens.map { ($0, 10_000 + Int64(next() % 10_000)) })  // paise
        var volumes = Dictionary(uniqueKeysWithValues: tokens.map { ($0, Int64(next() % 100_000)) })
        var entries: [[(String, String)]] = []
        for step in 0..<40 {
            for token in tokens {
                prices[token]! += Int64(next() % 41) - 20
                volumes[token]! += Int64(next() % 500)
                let price = prices[token]!
                entries.append(
                    TickEntryFields.full(
                        token: token, price: String(format: "%lld.%02lld", price / 100, price % 100), volume: volumes[token]!,
                        oi: Int64(step) * 10, ets: start + Int64(step) * 6
                    )
                )
            }
        }
        return entries
    }

    /// Waits until the tick-bar group has read every entry of the ticks stream and acknowledged it: every tick is folded
    /// into a committed bar.
    static func waitForTicksFolded(_ platform: Platform, _ redis: RedisClient, timeout: Duration = .seconds(120)) async throws {
        try await waitUntil("every tick entry is read and acknowledged by the tick-bar group", timeout: timeout, every: .milliseconds(200)) {
            guard let group = try await redis.xinfoGroups(platform.channels.ticksStream).first(where: { $0.name == "backend-bars" }) else { return false }
            return group.lag == 0 && group.pending == 0
        }
    }

    static func subscriptionEvent(token: Int64, sequence: Int) -> SubscriptionEvent {
        SubscriptionEvent(
            eventID: UUID().uuidString.lowercased(), kind: .created, instrumentToken: token, tradingsymbol: nil,
            metadata: .init(requestedMode: .quote, accountID: "primary"), timestamp: Date().timeIntervalSince1970, sequence: Int64(sequence)
        )
    }

    @Test("three instances share 1,000 subscription events and live ticks; one killed mid-burst: each event's work done once, nothing pending, the bars a single instance makes")
    func threeInstancesOneKilled() async throws {
        // The same ticks through one instance first: the bars every deployment must agree with.
        let minute = (Int64(Date().timeIntervalSince1970) / 60 - 90) * 60
        let settings = [
            "BACKFILL_SUBSCRIPTION_AWARE": "false", "EVENTS_CLAIM_MIN_IDLE_SECONDS": "3", "TICK_BARS_CLAIM_IDLE": "3",
            "BACKFILL_LOOKBACK_MINUTES": "30",
        ]
        let (eventTokens, tickTokens) = try await Platform.with([.simulator]) { platform in
            let options = try await platform.instruments(exchange: "NFO").map { Int64($0.instrumentToken) }
            return (Array(options.prefix(1000)), Array(options.dropFirst(1000).prefix(100)))
        }
        let ticks = Self.ticks(tokens: tickTokens, from: minute + 1)
        let reference = try await Platform.with([.backend], environment: [.backend: settings]) { platform in
            let redis = try platform.redisClient()
            for fields in ticks { _ = try await redis.xadd(platform.channels.ticksStream, maxLength: nil, fields: fields) }
            try await Self.waitForTicksFolded(platform, redis)
            return try await Self.bars(platform, tokens: tickTokens)
        }
        #expect(reference.count == tickTokens.count * 4, "four minutes of bars for each ticked instrument")

        // A thousand backfills at Kite's 3 requests a second would take six minutes: this broker allows more.
        try await Platform.with(
            environment: [.backend: settings, .ticker: ["HISTORY_REQUESTS_PER_SECOND": "100"]],
            arguments: [.simulator: ["--historical-requests-per-second", "150"]]
        ) { platform in
            let redis = try platform.redisClient()
            let second = try await platform.startReplica(.backend, name: "b", environment: settings)
            _ = try await platform.startReplica(.backend, name: "c", environment: settings)
            var ids: [String] = []
            let ticksPerEvent = ticks.count / eventTokens.count
            for (index, token) in eventTokens.enumerated() {
                let event = Self.subscriptionEvent(token: token, sequence: index + 1)
                ids.append(event.eventID)
                _ = try await redis.xadd(platform.channels.eventsStream, maxLength: 100_000, fields: [("event", SubscriptionEventCodec.encode(event))])
                for fields in ticks[index * ticksPerEvent..<(index + 1) * ticksPerEvent] {
                    _ = try await redis.xadd(platform.channels.ticksStream, maxLength: nil, fields: fields)
                }
                if index == 400 { await platform.stopReplica(second, crash: true) }
            }

            try await waitUntil("every event is processed", timeout: .seconds(180), every: .milliseconds(500)) {
                try await BackendEndToEndTests.processedEvents(platform).count >= ids.count
            }
            #expect(Set(try await BackendEndToEndTests.processedEvents(platform)) == Set(ids), "each event processed exactly once")
            let processors = try await platform.postgres.query("SELECT DISTINCT processed_by FROM processed_events").map { try $0.decode(String.self, "processed_by") }
            #expect(processors.contains { $0.hasSuffix("-\(second.pid)") }, "the killed instance had done work before it died: \(processors)")
            #expect(processors.count == 3, "all three instances took part: \(processors)")
            // Redis 7.0 lists a consumer once it has been given an entry: each instance folded some of the ticks.
            let barConsumers = try await redis.xinfoGroups(platform.channels.ticksStream).first { $0.name == "backend-bars" }?.consumers
            #expect(barConsumers == 3, "tick entries went to \(barConsumers ?? 0) of the three instances")

            // One job per instrument, each finished: the killed instance's open jobs are adopted by the survivors.
            let duplicated = try await platform.postgres.query(
                "SELECT instrument_token FROM backfill_jobs GROUP BY instrument_token HAVING count(*) > 1"
            )
            #expect(duplicated.isEmpty, "\(duplicated.count) instruments have more than one backfill job")
            try await waitUntil("every backfill job is done", timeout: .seconds(240), every: .milliseconds(500)) {
                let rows = try await platform.postgres.query("SELECT count(*) FILTER (WHERE status = 'done') AS done, count(*) AS total FROM backfill_jobs")
                return try rows[0].decode(Int.self, "done") == eventTokens.count && rows[0].decode(Int.self, "total") == eventTokens.count
            }
            let backfilled = try await platform.postgres.query(
                "SELECT count(DISTINCT instrument_token) AS n FROM bars_1m WHERE instrument_token = ANY($1::bigint[]) AND source = 'backfill'",
                [PostgresArrayLiteral.bigints(eventTokens)]
            )
            #expect(try backfilled[0].decode(Int.self, "n") == eventTokens.count, "every subscribed instrument has its backfilled candles")

            // Nothing stays pending: what the dead consumer held is claimed by a survivor and acknowledged.
            try await waitUntil("no event entry is left pending", timeout: .seconds(60)) {
                try await redis.xpending(platform.channels.eventsStream, group: "backend").count == 0
            }
            try await Self.waitForTicksFolded(platform, redis, timeout: .seconds(60))
            let bars = try await Self.bars(platform, tokens: tickTokens)
            let (expected, got) = (Set(reference), Set(bars))
            #expect(
                bars == reference,
                "bars differ from the single instance's: missing \(expected.subtracting(got).sorted { $0.description < $1.description }.prefix(5)), unexpected \(got.subtracting(expected).sorted { $0.description < $1.description }.prefix(5))"
            )
        }
    }

    @Test("the periodic backfill runs once per cycle across three instances, not once per instance")
    func periodicOncePerCycle() async throws {
        let settings = ["BACKFILL_SUBSCRIPTION_AWARE": "true", "BACKFILL_INTERVAL_SECONDS": "2", "BACKFILL_GAP_LOOKBACK_HOURS": "1"]
        try await Platform.with([.simulator, .ticker, .backend], environment: [.backend: settings]) { platform in
            _ = try await platform.startReplica(.backend, name: "b", environment: settings)
            _ = try await platform.startReplica(.backend, name: "c", environment: settings)
            try await Task.sleep(for: .seconds(3))
            let from = Date()
            try await Task.sleep(for: .seconds(12))
            let to = Date()
            let rows = try await platform.postgres.query(
                "SELECT count(*) AS n FROM backfill_runs WHERE started_at >= $1 AND started_at < $2", [from, to]
            )
            let runs = try rows[0].decode(Int.self, "n")
            // Six slots of 2 s in 12 s (seven when the window straddles one more boundary): at most one run each. A busy
            // machine can make every instance late for a slot, so fewer is fine. Once per instance would be 18 or more
            // (30 when tried).
            #expect((1...7).contains(runs), "\(runs) cycles ran in 12 s at one per 2 s slot across three instances")
            let claimers = try await platform.postgres.query("SELECT count(DISTINCT claimed_by) AS n FROM backfill_cycle_claims")
            #expect(try claimers[0].decode(Int.self, "n") >= 1)
        }
    }
}

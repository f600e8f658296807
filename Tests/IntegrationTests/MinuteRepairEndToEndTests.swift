import BrokerWire
import Foundation
import Shared
import SharedPostgres
import SharedRedis
import Testing
import TestSupport

/// Issue 15 end to end: the simulator, TickerService, BackendService, Redis and PostgreSQL as real processes. After a
/// stall, a drop, a Redis restart and a subscription starting mid-minute, every stored minute of the instruments equals
/// the simulator's historical candle within the time docs/bars.md states (2 minutes after the minute closes), and
/// without faults the broker is asked nothing more.
@Suite("Minute repair end to end", .serialized)
struct MinuteRepairEndToEndTests {
    @Test("stall, drop, Redis restart and a mid-minute subscription: every stored minute equals the broker's candle; no fault, no request")
    func touchedMinutesEqualTheBroker() async throws {
        // AOF on: the consumer groups survive the restart, as they do in production.
        let redisServer = try await RedisServer.start(appendOnly: true)
        defer { redisServer.stop() }
        let environment: [Platform.Component: [String: String]] = [
            .ticker: ["FEED_STALE_SECONDS": "2"],
            // Short repair timings keep the test short; the 2-minute bound is asserted all the same. The reconciler
            // samples on its own schedule, so it is off here (its own test is MinuteRepairTests).
            // The periodic backfill cycle starts at epoch-aligned slots and may fall in the quiet minute below: off, as
            // its own tests cover it.
            .backend: ["REPAIR_DELAY": "2", "REPAIR_INTERVAL": "1", "RECONCILE_ENABLED": "false", "BACKFILL_SUBSCRIPTION_AWARE": "false"],
        ]
        try await Platform.with([.simulator, .ticker, .backend], redis: redisServer, environment: environment) { platform in
            let equities = try await platform.instruments(exchange: "NSE").filter { $0.instrumentType == "EQ" && $0.segment == "NSE" }
            try #require(equities.count >= 11)
            let tokens = equities.prefix(10).map { Int64($0.instrumentToken) }
            let late = Int64(equities[10].instrumentToken)
            let firstMinute = Self.minuteStart(Date())
            try await Self.subscribe(platform, tokens)
            try await waitUntil("the simulator streams all ten") { try await platform.simulatorSubscriptions().count == 10 }

            // Faults, one after the other, while ticks flow.
            _ = try await platform.post(.simulator, "/admin/faults/drop", json: #"{"all":true}"#)
            try await Task.sleep(for: .seconds(2))  // let ticks flow between the faults
            _ = try await platform.post(.simulator, "/admin/faults/stall", json: #"{"all":true}"#)
            try await waitUntil("the watchdog replaced the stalled connections") {
                try await Self.gapReasons(platform).filter { $0 == .stall }.count == 3
            }
            _ = try await platform.post(.simulator, "/admin/faults/reset", json: "{}")
            redisServer.kill()
            try await Task.sleep(for: .seconds(2))  // ticks are lost meanwhile: that is the fault
            try await redisServer.restart()
            try await waitUntil("the buffer overflow reached the stream") { try await Self.gapReasons(platform).contains(.bufferOverflow) }
            // A subscription starting mid-minute.
            let now = Date().timeIntervalSince1970
            let second = now.truncatingRemainder(dividingBy: 60)
            if second < 15 || second > 45 { try await Task.sleep(for: .seconds(second < 15 ? 15 - second : 75 - second)) }
            try await Self.subscribe(platform, [late])
            let lastTouched = Self.minuteStart(Date())

            // Repaired within the stated time after the last touched minute closed.
            let closesAt = Double(lastTouched + 60)
            try await waitUntil("every suspect minute is repaired", timeout: .seconds(240), every: .seconds(1)) {
                guard Date().timeIntervalSince1970 > closesAt + 2 else { return false }
                let suspect = try await Self.count(platform.postgres, "SELECT count(*)::bigint AS n FROM suspect_minutes")
                let processed = try await Self.count(platform.postgres, "SELECT count(*)::bigint AS n FROM processed_feed_gaps")
                return suspect == 0 && processed >= 1
            }
            let repairedAfter = Date().timeIntervalSince1970 - closesAt
            print("minute repair: last touched minute repaired \(Int(repairedAfter)) s after it closed")
            #expect(repairedAfter < 120)

            // Without faults the broker is asked nothing more (a minute closes meanwhile).
            let before = try await Self.historicalTotal(platform)
            let gapsBefore = try await Self.gapReasons(platform).count
            try await Task.sleep(for: .seconds(65))
            let after = try await Self.historicalTotal(platform)
            let newGaps = try await Self.gapReasons(platform).dropFirst(gapsBefore)
            #expect(
                after == before,
                "requests grew without a fault: \(before) → \(after); feed gaps recorded meanwhile: \(newGaps.map(\.rawValue)); ticker log: \(platform.log(.ticker).suffix(1500))"
            )

            // Every stored minute from the first subscription to the last closed minute equals the broker's candle.
            let lastClosed = Self.minuteStart(Date()) - 60
            var compared = 0
            for token in tokens + [late] {
                let candles = try await Self.candles(platform, token: token, from: firstMinute, to: lastClosed)
                let byMinute = Dictionary(candles.map { ($0.timestamp, $0) }, uniquingKeysWith: { first, _ in first })
                let rows = try await platform.postgres.query(
                    "SELECT extract(epoch FROM bucket)::bigint AS t, open, high, low, close, volume, source FROM bars_1m "
                        + "WHERE instrument_token = $1 AND bucket >= $2 AND bucket <= $3 ORDER BY bucket",
                    [token, Date(timeIntervalSince1970: TimeInterval(firstMinute)), Date(timeIntervalSince1970: TimeInterval(lastClosed))]
                )
                for row in rows {
                    let minute = try row.decode(Int64.self, "t")
                    let stored = [try row.decode(Double.self, "open"), try row.decode(Double.self, "high"), try row.decode(Double.self, "low"), try row.decode(Double.self, "close")]
                    let source = try row.decode(String.self, "source")
                    guard let candle = byMinute[minute] else {
                        Issue.record("token \(token) minute \(minute) (\(source)) has no broker candle")
                        continue
                    }
                    let broker = [candle.open, candle.high, candle.low, candle.close]
                    #expect(zip(stored, broker).allSatisfy { abs($0 - $1) < 0.005 }, "token \(token) minute \(minute) (\(source)): \(stored) vs \(broker)")
                    #expect(try row.decode(Int64.self, "volume") == candle.volume, "token \(token) minute \(minute) (\(source)) volume")
                    compared += 1
                }
            }
            print("minute repair: \(compared) stored minutes compared with the broker's candles")
            #expect(compared >= 11)
        }
    }

    static func minuteStart(_ date: Date) -> Int64 {
        let seconds = Int64(date.timeIntervalSince1970)
        return seconds - seconds % 60
    }

    static func subscribe(_ platform: Platform, _ tokens: [Int64]) async throws {
        let list = tokens.map { #"{"instrument_token": \#($0), "requested_mode": "FULL"}"# }.joined(separator: ",")
        let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instruments": [\#(list)]}"#)
        #expect(reply.statusCode == 201, "\(reply.text)")
    }

    static func gapReasons(_ platform: Platform) async throws -> [FeedGap.Reason] {
        let redis = try platform.redisClient()
        let reply = try await redis.send(["XRANGE", platform.channels.feedGapsStream, "-", "+"])
        await redis.close()
        return try (reply.array ?? []).compactMap { entry in
            guard let fields = entry.array?.last?.array, fields.count >= 2, let json = fields[1].string else { return nil }
            return try FeedGapCodec.decode(json).reason
        }
    }

    static func count(_ postgres: PostgresClient, _ sql: String) async throws -> Int {
        try await postgres.query(sql).first?.decode(Int.self, "n") ?? -1
    }

    static func historicalTotal(_ platform: Platform) async throws -> Int {
        try await platform.get(.simulator, "/admin/historical").json()["total"] as? Int ?? -1
    }

    /// The simulator's 1-minute candles of `[from, to]` (epoch seconds of minute starts).
    static func candles(_ platform: Platform, token: Int64, from: Int64, to: Int64) async throws -> [KiteCandle] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Kolkata")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let query = "from=\(formatter.string(from: Date(timeIntervalSince1970: TimeInterval(from))))&to=\(formatter.string(from: Date(timeIntervalSince1970: TimeInterval(to + 59))))"
            .replacingOccurrences(of: " ", with: "+")
        var reply = try await platform.get(.simulator, "/instruments/historical/\(token)/minute?\(query)&api_key=sim_api_key&access_token=sim_access_token")
        // The simulator allows 3 requests/s per key, shared with the services: wait for a slot.
        var attempts = 0
        while reply.statusCode == 429, attempts < 20 {
            attempts += 1
            try await Task.sleep(for: .milliseconds(500))
            reply = try await platform.get(.simulator, "/instruments/historical/\(token)/minute?\(query)&api_key=sim_api_key&access_token=sim_access_token")
        }
        guard reply.statusCode == 200 else { throw PlatformError("historical \(token): \(reply.statusCode) \(reply.text)") }
        return try KiteHistoricalJSON.parse(reply.text)
    }
}

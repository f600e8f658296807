import Foundation
import Shared
import SharedRedis
import Testing
import TestSupport

/// Issue 15, ticker side: every span in which ticks may be missing reaches `{prefix}:feed-gaps` as a ``FeedGap``.
/// One run of the real TickerService binary against the simulator and a redis-server of its own, with each fault in
/// turn (a real-process scenario costs seconds, so they share one platform).
@Suite("Feed gaps end to end", .serialized)
struct FeedGapsEndToEndTests {
    @Test("a subscribe, a drop, a stall, a restart and a Redis outage each leave their gap on the feed-gaps stream")
    func everyFaultLeavesItsGap() async throws {
        let redisServer = try await RedisServer.start()
        defer { redisServer.stop() }
        // A 2 s watchdog keeps the stall short; six equities land two per connection (least-loaded placement).
        try await Platform.with([.simulator, .ticker], redis: redisServer, environment: [.ticker: ["FEED_STALE_SECONDS": "2"]]) { platform in
            let redis = try platform.redisClient()
            let equities = try await platform.instruments(exchange: "NSE").filter { $0.instrumentType == "EQ" && $0.segment == "NSE" }.prefix(6)
            let tokens = equities.map { Int64($0.instrumentToken) }.sorted()
            try #require(tokens.count == 6)

            // Subscribe: one `subscribed` gap for the batch, at the moment of the call.
            let beforeSubscribe = Self.nowMillis()
            let list = tokens.map { #"{"instrument_token": \#($0), "requested_mode": "FULL"}"# }.joined(separator: ",")
            let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instruments": [\#(list)]}"#)
            #expect(reply.statusCode == 201, "\(reply.text)")
            let afterSubscribe = Self.nowMillis()
            try await waitUntil("the batch's subscribed gap is on the stream") { try await Self.gaps(redis, platform, .subscribed).count == 1 }
            let subscribed = try #require(try await Self.gaps(redis, platform, .subscribed).first)
            #expect(subscribed.instrumentTokens == tokens)
            #expect(subscribed.startMillis == subscribed.endMillis)
            #expect((beforeSubscribe...afterSubscribe).contains(subscribed.startMillis))
            try await waitUntil("the simulator streams all six in full mode") {
                try await platform.simulatorSubscriptions() == Dictionary(uniqueKeysWithValues: tokens.map { (UInt32($0), "full") })
            }
            try await waitUntil("the connections that opened for them have said so (reconnect gaps)") {
                Set(try await Self.gaps(redis, platform, .reconnect).flatMap(\.instrumentTokens)) == Set(tokens)
            }
            let carried = try await Self.tokensByConnection(platform)
            #expect(carried.count == 3, "\(carried)")

            // Drop: every connection gets a `drop` gap with its instruments, from its last message to streaming again.
            let beforeDrop = Self.nowMillis()
            let dropped = try await platform.post(.simulator, "/admin/faults/drop", json: #"{"all":true}"#)
            #expect(dropped.statusCode == 200)
            try await waitUntil("a drop gap per connection is on the stream") { try await Self.gaps(redis, platform, .drop).count == 3 }
            let drops = try await Self.gaps(redis, platform, .drop)
            #expect(Set(drops.map { Set($0.instrumentTokens) }) == carried)
            #expect(Set(drops.compactMap(\.connectionID)) == ["primary#1", "primary#2", "primary#3"])
            for gap in drops {
                #expect(gap.accountID == "primary")
                #expect(gap.startMillis <= Self.nowMillis() && gap.endMillis >= beforeDrop, "\(gap)")
            }
            try await waitUntil("everything streams again after the drop") { try await Self.tokensByConnection(platform) == carried }

            // Stall: silent connections; the watchdog (2 s) reconnects them; each gap covers the silence.
            let stalled = try await platform.post(.simulator, "/admin/faults/stall", json: #"{"all":true}"#)
            let stallAnswered = Self.nowMillis()
            #expect(stalled.statusCode == 200)
            try await waitUntil("a stall gap per connection is on the stream") { try await Self.gaps(redis, platform, .stall).count == 3 }
            let stalls = try await Self.gaps(redis, platform, .stall)
            #expect(Set(stalls.map { Set($0.instrumentTokens) }) == carried)
            for gap in stalls {
                // It starts at the last message before the silence (a frame already in flight may land just after the
                // answer) and lasts at least as long as the watchdog waited.
                #expect(gap.startMillis <= stallAnswered + 1_000, "\(gap)")
                #expect(gap.endMillis - gap.startMillis >= 2_000, "\(gap)")
                #expect(gap.endMillis >= stallAnswered, "\(gap)")
            }
            _ = try await platform.post(.simulator, "/admin/faults/reset", json: "{}")

            // Restart: the restored subscriptions' reconnect gaps start at the last tick the previous run published.
            let reconnectsBefore = try await Self.gaps(redis, platform, .reconnect).count
            await platform.stop(.ticker)
            let stopped = Self.nowMillis()
            let lastTick = try await Self.lastTickMillis(redis, platform)
            try await platform.start(.ticker)
            try await waitUntil("the restarted service's reconnect gaps cover all six") {
                let fresh = try await Self.gaps(redis, platform, .reconnect).dropFirst(reconnectsBefore)
                return Set(fresh.flatMap(\.instrumentTokens)) == Set(tokens)
            }
            for gap in try await Self.gaps(redis, platform, .reconnect).dropFirst(reconnectsBefore) {
                #expect(gap.startMillis == lastTick, "\(gap), last tick at \(lastTick)")
                #expect(gap.endMillis > stopped, "\(gap)")
            }

            // Redis outage while ticks flow: the ticks that could not be written give one buffer_overflow gap, which
            // reaches the stream once Redis is back (the restarted server is empty: no AOF).
            try await waitUntil("ticks flow again after the restart") { try await Self.lastTickMillis(redis, platform) > stopped }
            let killed = Self.nowMillis()
            redisServer.kill()
            try await waitUntil("the ticker has dropped ticks") { try await Self.droppedTicks(platform) > 0 }
            try await redisServer.restart()
            try await waitUntil("the buffer_overflow gap reaches the stream after Redis is back") {
                try await !Self.gaps(redis, platform, .bufferOverflow).isEmpty
            }
            let overflows = try await Self.gaps(redis, platform, .bufferOverflow)
            #expect(overflows.count == 1, "\(overflows)")
            let overflow = try #require(overflows.first)
            #expect(Set(overflow.instrumentTokens).isSubset(of: Set(tokens)) && !overflow.instrumentTokens.isEmpty)
            #expect(overflow.startMillis >= killed - 1_000, "\(overflow)")
            #expect(overflow.endMillis <= Self.nowMillis(), "\(overflow)")
            let metrics = try await platform.get(.ticker, "/metrics").text
            #expect(metrics.contains(#"ticker_feed_gaps_total{reason="buffer_overflow"}"#))
        }
    }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The gaps of one reason on the platform's feed-gaps stream, oldest first.
    static func gaps(_ redis: RedisClient, _ platform: Platform, _ reason: FeedGap.Reason) async throws -> [FeedGap] {
        let reply = try await redis.send(["XRANGE", platform.channels.feedGapsStream, "-", "+"])
        return try (reply.array ?? []).compactMap { entry -> FeedGap? in
            guard let fields = entry.array?.last?.array else { throw PlatformError("bad XRANGE entry") }
            var values: [String: String] = [:]
            for index in stride(from: 0, to: fields.count - 1, by: 2) { values[fields[index].string ?? ""] = fields[index + 1].string }
            guard let json = values[FeedGapCodec.entryField] else { throw PlatformError("feed gap entry without a gap field: \(values)") }
            let gap = try FeedGapCodec.decode(json)
            return gap.reason == reason ? gap : nil
        }
    }

    /// The instruments of each open simulator connection.
    static func tokensByConnection(_ platform: Platform) async throws -> Set<Set<Int64>> {
        let json = try await platform.get(.simulator, "/admin/connections").json()
        var result: Set<Set<Int64>> = []
        for connection in json["connections"] as? [[String: Any]] ?? [] {
            guard let id = connection["id"] else { continue }
            let detail = try await platform.get(.simulator, "/admin/connections/\(id)").json()
            let tokens = (detail["subscriptions"] as? [String: [Int]] ?? [:]).values.flatMap { $0 }.map(Int64.init)
            if !tokens.isEmpty { result.insert(Set(tokens)) }
        }
        return result
    }

    /// The time (stream id ms) of the last entry on the ticks stream, 0 without one.
    static func lastTickMillis(_ redis: RedisClient, _ platform: Platform) async throws -> Int64 {
        let reply = try await redis.send(["XREVRANGE", platform.channels.ticksStream, "+", "-", "COUNT", "1"])
        guard let id = reply.array?.first?.array?.first?.string, let millis = id.split(separator: "-").first.flatMap({ Int64($0) }) else { return 0 }
        return millis
    }

    /// `ticker_ticks_dropped_total`, all reasons.
    static func droppedTicks(_ platform: Platform) async throws -> Double {
        let text = try await platform.get(.ticker, "/metrics").text
        return text.split(separator: "\n").filter { $0.hasPrefix("ticker_ticks_dropped_total") }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }
}

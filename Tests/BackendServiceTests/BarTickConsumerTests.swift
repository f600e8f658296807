import Foundation
import Shared
import SharedPostgres
import SharedRedis
import Testing
import TestSupport

@testable import BackendService

@Suite("Bars from live ticks")
struct BarTickConsumerTests {
    let token: Int64 = 408_065
    let index: Int64 = 256_265
    let m = testMinute

    @Test("tick entries in docs/feed.md's format become 1-minute bars (OHLC by exchange time, volume from cumulative volume, OI) and are acked")
    func ticksToBars() async throws {
        let fixture = try await BarFixture.make()
        let consumer = fixture.consumer()
        let (m, token, index) = (m, token, index)
        try await withConsumer(consumer) {
            try await fixture.addTick(token: token, price: "1523.45", volume: 120_000, oi: 5_000, ets: m + 1)
            try await fixture.addTick(token: token, price: "1530.00", volume: 120_100, oi: 5_010, ets: m + 10)
            try await fixture.addTick(token: token, price: "1519.80", volume: 120_250, oi: 5_020, ets: m + 20)
            try await fixture.addTick(token: token, price: "1525.10", volume: 120_300, oi: 5_030, ets: m + 59)
            // Arrives later in the stream but happened earlier: it is neither the open nor the close.
            try await fixture.addTick(token: token, price: "1510.00", volume: 120_050, oi: 5_005, ets: m + 5)
            try await fixture.addTick(token: index, price: "24510.35", volume: nil, ets: m + 3, index: true)
            try await fixture.addTick(token: index, price: "24500.05", volume: nil, ets: m + 30, index: true)
            try await fixture.addTick(token: token, price: "1526.00", volume: 120_400, oi: 5_040, ets: m + 61)
            try await fixture.addTick(token: token, price: "1527.50", volume: 120_450, oi: 5_050, ets: m + 100)

            let done = try await fixture.eventually("bars written and entries acked") {
                let close = try await fixture.bar(token, m + 60)?.close
                let pending = try await fixture.pendingCount()
                return close == 1527.5 && pending == 0
            }
            #expect(done)
        }
        let first = try #require(try await fixture.bar(token, m))
        #expect(first == StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m)), open: 1523.45, high: 1530, low: 1510, close: 1525.10,
                                   volume: 300, oi: 5_030, source: "ticks"))
        let second = try #require(try await fixture.bar(token, m + 60))
        // Volume of the second minute counts from the first minute's last cumulative volume (120,300).
        #expect(second == StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m + 60)), open: 1526, high: 1527.5, low: 1526, close: 1527.5,
                                    volume: 150, oi: 5_050, source: "ticks"))
        let indexBar = try #require(try await fixture.bar(index, m))
        #expect(indexBar.open == 24510.35 && indexBar.close == 24500.05 && indexBar.high == 24510.35 && indexBar.low == 24500.05)
        #expect(indexBar.volume == 0 && indexBar.oi == 0)
        await fixture.close()
    }

    @Test("a backfilled candle wins: tick bars never overwrite it, and backfill overwrites a tick bar")
    func backfillWins() async throws {
        let fixture = try await BarFixture.make()
        let (m, token) = (m, token)
        try await fixture.postgres.execute(
            "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source) VALUES ($1, $2, 100, 110, 90, 105, 999, 1, 'backfill')",
            [token, Date(timeIntervalSince1970: TimeInterval(m))]
        )
        try await withConsumer(fixture.consumer()) {
            try await fixture.addTick(token: token, price: "200.00", volume: 10, oi: 7, ets: m + 5)
            try await fixture.addTick(token: token, price: "201.00", volume: 20, oi: 7, ets: m + 65)
            #expect(try await fixture.eventually("tick bar written") {
                let bar = try await fixture.bar(token, m + 60)
                let pending = try await fixture.pendingCount()
                return bar != nil && pending == 0
            })
            #expect(try await fixture.bar(token, m) == StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m)), open: 100, high: 110, low: 90, close: 105,
                                                                 volume: 999, oi: 1, source: "backfill"))
            #expect(try await fixture.bar(token, m + 60)?.source == "ticks")

            // The events engineer's backfill write: unconditional upsert with source 'backfill'.
            try await fixture.postgres.execute(
                """
                INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source, updated_at)
                VALUES ($1, $2, 300, 310, 290, 305, 5000, 9, 'backfill', now())
                ON CONFLICT (instrument_token, bucket) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                    close = EXCLUDED.close, volume = EXCLUDED.volume, oi = EXCLUDED.oi, source = 'backfill', updated_at = now()
                """,
                [token, Date(timeIntervalSince1970: TimeInterval(m + 60))]
            )
            // A late tick for that minute changes nothing any more.
            try await fixture.addTick(token: token, price: "999.00", volume: 30, oi: 8, ets: m + 70)
            #expect(try await fixture.eventually("late tick consumed") { try await fixture.pendingCount() == 0 })
        }
        #expect(try await fixture.bar(token, m + 60) == StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m + 60)), open: 300, high: 310, low: 290,
                                                                  close: 305, volume: 5000, oi: 9, source: "backfill"))
        await fixture.close()
    }

    @Test("after a crash between commit and ack, a new consumer claims the entries and rebuilds the same bars (no double count)")
    func redeliveryGivesSameBar() async throws {
        let fixture = try await BarFixture.make()
        let (m, token) = (m, token)
        let prices = ["101.00", "104.50", "99.25", "102.75", "100.10", "103.30"]
        for (offset, price) in prices.enumerated() {
            try await fixture.addTick(token: token, price: price, volume: 1_000 + Int64(offset) * 25, oi: 40 + Int64(offset), ets: m + Int64(offset) * 9)
        }
        try await fixture.addTick(token: token, price: "105.00", volume: 1_200, oi: 50, ets: m + 61)
        try await fixture.addTick(token: token, price: "106.00", volume: 1_260, oi: 51, ets: m + 90)

        // The crashed consumer read everything, committed bars built from the first half, and never acked.
        let stream = fixture.channels.ticksStream
        try await fixture.redis.xgroupCreate(stream, group: "backend-bars", startID: "0")
        let entries = try await fixture.redis.xreadgroup(group: "backend-bars", consumer: "crashed", streams: [stream], count: 100, block: nil)
        #expect(entries.count == 8)
        var partial = MinuteBarBuilder()
        for entry in entries.prefix(4) { partial.add(try StreamedTick(id: entry.id, fields: entry.fields)) }
        _ = try await TickBarWriter(postgres: fixture.postgres).write(partial.dirtyBars())
        #expect(try await fixture.pendingCount() == 8)

        try await withConsumer(fixture.consumer(name: "restarted", claimIdle: .milliseconds(100))) {
            let acked = try await fixture.eventually("claimed and acked") { try await fixture.pendingCount() == 0 }
            #expect(acked)
        }
        let expectedFirst = StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m)), open: 101, high: 104.5, low: 99.25, close: 103.3,
                                      volume: 125, oi: 45, source: "ticks")
        let expectedSecond = StoredBar(time: Date(timeIntervalSince1970: TimeInterval(m + 60)), open: 105, high: 106, low: 105, close: 106,
                                       volume: 135, oi: 51, source: "ticks")
        #expect(try await fixture.bar(token, m) == expectedFirst)
        #expect(try await fixture.bar(token, m + 60) == expectedSecond)

        // Rebuilding everything once more from the same entries (a second redelivery) still gives the same bars.
        var full = MinuteBarBuilder()
        for entry in entries { full.add(try StreamedTick(id: entry.id, fields: entry.fields)) }
        _ = try await TickBarWriter(postgres: fixture.postgres).write(full.dirtyBars())
        var reversed = MinuteBarBuilder()
        for entry in entries.reversed() { reversed.add(try StreamedTick(id: entry.id, fields: entry.fields)) }
        _ = try await TickBarWriter(postgres: fixture.postgres).write(reversed.dirtyBars())
        #expect(try await fixture.bar(token, m) == expectedFirst)
        #expect(try await fixture.bar(token, m + 60) == expectedSecond)
        await fixture.close()
    }

    @Test("malformed entries are skipped and acked; the good ones still make bars")
    func malformedEntries() async throws {
        let fixture = try await BarFixture.make()
        let (m, token) = (m, token)
        try await withConsumer(fixture.consumer()) {
            _ = try await fixture.redis.xadd(fixture.channels.ticksStream, maxLength: nil, fields: [("tk", "abc"), ("lp", "1.00")])
            _ = try await fixture.redis.xadd(fixture.channels.ticksStream, maxLength: nil, fields: [("tk", "12"), ("m", "ltp")])
            _ = try await fixture.redis.xadd(fixture.channels.ticksStream, maxLength: nil, fields: [("tk", "12"), ("lp", "1.00"), ("v", "many")])
            try await fixture.addTick(token: token, price: "50.00", volume: 5, ets: m + 1)
            #expect(try await fixture.eventually("good tick written, all acked") {
                let bar = try await fixture.bar(token, m)
                let pending = try await fixture.pendingCount()
                return bar != nil && pending == 0
            })
        }
        #expect(try await fixture.bar(token, m)?.close == 50)
        await fixture.close()
    }

    @Test("StreamedTick decodes docs/feed.md's example entry and the ltp form")
    func decodesDocumentedEntry() throws {
        let documented = """
            tk 408065 m full lp 1523.45 rt 1732262400123 ltq 12 atp 1519.80 v 120034 tbq 5100 tsq 4800 o 1510.00 \
            h 1530.00 l 1505.10 c 1508.00 ltt 1732262399 oi 0 oih 0 oil 0 ets 1732262400 d {"b":[[1523.40,100,3]],"s":[]}
            """
        let parts = documented.split(separator: " ").map(String.init)
        var fields: [String: String] = [:]
        var position = 0
        while position + 1 < parts.count {
            fields[parts[position]] = parts[position + 1]
            position += 2
        }
        let entry = try StreamedTick(id: "1732262400124-3", fields: fields)
        #expect(entry.instrumentToken == 408_065)
        #expect(entry.lastPrice == 1523.45)
        #expect(entry.cumulativeVolume == 120_034)
        #expect(entry.openInterest == 0)
        #expect(entry.epochSeconds == 1_732_262_400)
        #expect(entry.minuteStart == 1_732_262_400)
        #expect(entry.streamMillis == 1_732_262_400_124 && entry.streamSequence == 3)

        let ltp = try StreamedTick(id: "1732262461000-0", fields: ["tk": "256265", "m": "ltp", "lp": "24510.35", "rt": "1732262460999"])
        #expect(ltp.cumulativeVolume == nil && ltp.openInterest == nil)
        #expect(ltp.epochSeconds == 1_732_262_460)

        #expect(throws: StreamedTick.Malformed.self) { try StreamedTick(id: "1-0", fields: ["tk": "1"]) }
        #expect(throws: StreamedTick.Malformed.self) { try StreamedTick(id: "1-0", fields: ["tk": "-4", "lp": "1"]) }
        #expect(throws: StreamedTick.Malformed.self) { try StreamedTick(id: "nope", fields: ["tk": "1", "lp": "1"]) }
    }

    @Test("the bar builder's order keys sort like the ticks")
    func orderKeys() {
        let a = TickBar.Order(seconds: 1_732_262_400, millis: 1_732_262_400_999, sequence: 12)
        let b = TickBar.Order(seconds: 1_732_262_400, millis: 1_732_262_401_000, sequence: 0)
        let c = TickBar.Order(seconds: 1_732_262_401, millis: 1_732_262_300_000, sequence: 0)
        #expect(a < b && b < c)
        #expect(a.key < b.key && b.key < c.key)
    }

    @Test("ticks the stream trimmed before the group read them are not lost silently: the minutes they spanned are marked suspect for the instruments that were ticking")
    func trimmedTicksMarkMinutesSuspect() async throws {
        let fixture = try await BarFixture.make()
        let (m, token) = (m, token)
        let stream = fixture.channels.ticksStream
        func add(_ id: String, ets: Int64, volume: Int64, maxLength: Int? = nil) async throws {
            let fields = BarFixture.fullTickFields(token: token, price: "1500.00", volume: volume, oi: nil, ets: ets)
            let trim = maxLength.map { ["MAXLEN", String($0)] } ?? []
            try await fixture.redis.send(["XADD", stream] + trim + [id] + fields.flatMap { [$0.0, $0.1] })
        }
        func trimmedMarks() async throws -> Set<Int64> {
            Set(try await fixture.postgres.query(
                "SELECT extract(epoch FROM bucket)::bigint AS minute FROM suspect_minutes WHERE instrument_token = $1 AND 'ticks_trimmed' = ANY(reasons)", [token]
            ).map { try $0.decode(Int64.self, "minute") })
        }
        // Stream ids carry the ticks' own times, as when TickerService writes them as they arrive.
        let consumerName = "bars-trim-test"
        try await withConsumer(fixture.consumer(name: consumerName)) {
            for second in 1...10 { try await add("\((m + Int64(second)) * 1000)-0", ets: m + Int64(second), volume: 1_000 + Int64(second)) }
            let folded = try await fixture.eventually("the first minute is folded and acked") {
                let bar = try await fixture.bar(token, m)
                let pending = try await fixture.pendingCount()
                return bar != nil && pending == 0
            }
            #expect(folded)
        }
        #expect(try await trimmedMarks().isEmpty, "a consumer that keeps up marks nothing")

        // While the consumer is away, 2,000 more ticks arrive and the stream keeps only the last 300: 1,700 are gone
        // before anyone read them.
        for index in 0..<2_000 {
            try await add("\((m + 60) * 1000)-\(index)", ets: m + 60 + Int64(index / 100), volume: 2_000 + Int64(index), maxLength: 300)
        }
        try await withConsumer(fixture.consumer(name: consumerName)) {
            let marked = try await fixture.eventually("the trimmed minutes are marked suspect") { try await trimmedMarks() == [m, m + 60] }
            let found = try await trimmedMarks().sorted()
            #expect(marked, "marked: \(found)")
        }
        await fixture.close()
    }
}

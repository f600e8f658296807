import Foundation
import Logging
import Shared
import SharedPostgres
import SharedRedis
import Testing
import TestSupport

@testable import BackendService

/// Marking suspect minutes from feed gaps and skipped ticks, and what `GET /bars` says about them; real Redis and
/// PostgreSQL (issue 15).
@Suite("Suspect minutes: marking and final bars")
struct SuspectMarkingTests {
    let m = testMinute

    func gapConsumer(_ fixture: BarFixture, maxGapMinutes: Int = 10) -> FeedGapConsumer {
        let deadLetters = DeadLetterWriter.feedGaps(redis: fixture.redis, channels: fixture.channels, consumer: "test", logger: fixture.logger)
        return FeedGapConsumer(
            redis: fixture.blockingRedis, store: SuspectMinuteStore(postgres: fixture.postgres), deadLetters: deadLetters,
            stream: fixture.channels.feedGapsStream, group: "backend-repair", consumer: "repair-test", maxGapMinutes: maxGapMinutes,
            delay: .seconds(10), logger: fixture.logger
        )
    }

    func suspects(_ postgres: PostgresClient) async throws -> [String] {
        try await postgres.query(
            """
            SELECT instrument_token, extract(epoch FROM bucket)::bigint AS minute, array_to_string(reasons, ',') AS reasons,
                   extract(epoch FROM next_attempt_at - bucket)::bigint AS due_after FROM suspect_minutes ORDER BY 1, 2
            """
        ).map { row in
            "\(try row.decode(Int64.self, "instrument_token"))@\(try row.decode(Int64.self, "minute") - m):\(try row.decode(String.self, "reasons")):\(try row.decode(Int64.self, "due_after"))"
        }
    }

    func addGap(_ fixture: BarFixture, _ gap: FeedGap) async throws {
        _ = try await fixture.redis.xadd(fixture.channels.feedGapsStream, maxLength: nil, fields: [(FeedGapCodec.entryField, FeedGapCodec.encode(gap))])
    }

    func pending(_ fixture: BarFixture) async throws -> Int {
        do {
            return try await fixture.redis.xpending(fixture.channels.feedGapsStream, group: "backend-repair").count
        } catch {
            return Int.max
        }
    }

    @Test("a gap marks every touched minute of every instrument once; a long one only its ends and tick minutes; malformed entries are dead-lettered")
    func feedGapsMarkMinutes() async throws {
        let fixture = try await BarFixture.make()
        let m = m
        // Tick bars inside the long gap (instrument 3): minute 4 only.
        try await fixture.postgres.execute(
            "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source) VALUES (3, $1, 1, 1, 1, 1, 0, 0, 'ticks')",
            [Date(timeIntervalSince1970: TimeInterval(m + 240))]
        )
        let short = FeedGap(gapID: "g1", reason: .drop, startMillis: m * 1000 + 50_000, endMillis: (m + 60) * 1000 + 10_000, instrumentTokens: [1, 2])
        let long = FeedGap(gapID: "g2", reason: .reconnect, startMillis: m * 1000, endMillis: (m + 1200) * 1000, instrumentTokens: [3])
        let overlapping = FeedGap(gapID: "g3", reason: .subscribed, startMillis: (m + 60) * 1000, endMillis: (m + 60) * 1000, instrumentTokens: [2])
        try await addGap(fixture, short)
        try await addGap(fixture, long)
        try await addGap(fixture, short)  // redelivered / published twice
        try await addGap(fixture, overlapping)
        _ = try await fixture.redis.xadd(fixture.channels.feedGapsStream, maxLength: nil, fields: [("gap", "{not json")])
        _ = try await fixture.redis.xadd(fixture.channels.feedGapsStream, maxLength: nil, fields: [("payload", "x")])
        let consumer = gapConsumer(fixture)
        let acked = try await withThrowingTaskGroup(of: Void.self, returning: Bool.self) { group in
            group.addTask { try await consumer.run() }
            // Pending 0 alone could be seen between the group's creation and its first read: wait for the work too.
            let acked = try await fixture.eventually("all entries handled and acknowledged") {
                let processed = try await fixture.postgres.query("SELECT 1 FROM processed_feed_gaps").count
                let dead = try await fixture.redis.send(["XLEN", "\(fixture.channels.feedGapsStream):dead"]).int
                let pending = try await pending(fixture)
                return processed == 3 && dead == 2 && pending == 0
            }
            group.cancelAll()
            return acked
        }
        #expect(acked)
        // Due 60 s (close) + 10 s (REPAIR_DELAY) after each minute's start.
        #expect(try await suspects(fixture.postgres) == [
            // The minute after a gap that may have lost ticks too (its volume counts from the gap's last minute); not after
            // a subscription.
            "1@0:drop:70", "1@60:drop:70", "1@120:drop:70", "2@0:drop:70", "2@60:drop,subscribed:70", "2@120:drop:70",
            "3@0:reconnect:70", "3@240:reconnect:70", "3@1200:reconnect:70", "3@1260:reconnect:70",
        ])
        let processed = try await fixture.postgres.query("SELECT count(*)::bigint AS n FROM processed_feed_gaps").first?.decode(Int.self, "n")
        #expect(processed == 3)
        let dead = try await fixture.redis.send(["XLEN", "\(fixture.channels.feedGapsStream):dead"])
        #expect(dead.int == 2)
        await fixture.close()
    }

    @Test("a tick entry skipped as malformed marks its instrument's minute and the next suspect (ticks_skipped) in the flush's transaction")
    func skippedTickMarksMinute() async throws {
        let fixture = try await BarFixture.make()
        let m = m
        try await withConsumer(fixture.consumer()) {
            try await fixture.addTick(token: 408_065, price: "100.00", volume: 10, ets: m + 5)
            _ = try await fixture.redis.xadd(fixture.channels.ticksStream, maxLength: nil, fields: [("tk", "408065"), ("lp", "not-a-price")])
            _ = try await fixture.redis.xadd(fixture.channels.ticksStream, maxLength: nil, fields: [("lp", "1.00")])
            // Pending 0 alone could be seen before the consumer read the later entries: wait for the mark too.
            #expect(try await fixture.eventually("minute marked, entries acknowledged") {
                let marked = try await fixture.postgres.query("SELECT 1 FROM suspect_minutes").count
                let pending = try await fixture.pendingCount()
                return marked > 0 && pending == 0
            })
        }
        let rows = try await fixture.postgres.query(
            "SELECT instrument_token, extract(epoch FROM bucket)::bigint AS minute, array_to_string(reasons, ',') AS reasons FROM suspect_minutes ORDER BY bucket"
        )
        // The tick's minute, and the next one (its volume counts from this minute's last cumulative volume).
        let minutes = try rows.map { try $0.decode(Int64.self, "minute") }
        #expect(minutes.count == 2 && minutes.last == minutes.first.map { $0 + 60 }, "suspect minutes: \(minutes)")
        #expect(try rows.allSatisfy { try $0.decode(Int64.self, "instrument_token") == 408_065 })
        #expect(try rows.allSatisfy { try $0.decode(String.self, "reasons") == "ticks_skipped" })
        await fixture.close()
    }

    @Test("GET /bars' final: backfill and repaired minutes, old unmarked tick minutes; not suspect or recent tick minutes; derived bars when all are")
    func finalBars() async throws {
        let fixture = try await BarFixture.make()
        let m = m
        let sources = ["backfill", "repaired", "ticks", "ticks", "ticks", "repaired", "repaired", "repaired", "repaired", "repaired"]
        for (i, source) in sources.enumerated() {
            try await fixture.postgres.execute(
                "INSERT INTO bars_1m (instrument_token, bucket, open, high, low, close, volume, oi, source) VALUES (9, $1, 1, 1, 1, 1, 0, 0, $2)",
                [Date(timeIntervalSince1970: TimeInterval(m + Int64(i) * 60)), source]
            )
        }
        try await fixture.postgres.execute(
            "INSERT INTO suspect_minutes (instrument_token, bucket, reasons, next_attempt_at) VALUES (9, $1, ARRAY['stall'], now())",
            [Date(timeIntervalSince1970: TimeInterval(m + 120))]
        )
        // Minute 3 closed 160 s ago, minute 4 100 s ago.
        let repository = BarRepository(postgres: fixture.postgres, repairWindow: .seconds(120), now: { Date(timeIntervalSince1970: TimeInterval(m + 400)) })
        let from = Date(timeIntervalSince1970: TimeInterval(m))
        let to = Date(timeIntervalSince1970: TimeInterval(m + 540))
        let minutes = try await repository.bars(token: 9, from: from, to: to, timeframe: .oneMinute)
        #expect(minutes.map(\.final) == [true, true, false, true, false, true, true, true, true, true])
        let five = try await repository.bars(token: 9, from: from, to: to, timeframe: .fiveMinutes)
        #expect(five.map(\.source) == ["mixed", "repaired"])
        #expect(five.map(\.final) == [false, true])
        await fixture.close()
    }

    @Test("the repair takes the instruments with the oldest due minutes and all their due minutes (capped), as RepairPlan.take; taken ones are leased")
    func takeDueGroupsByInstrument() async throws {
        let fixture = try await BarFixture.make()
        let m = m
        // (token, minute offset, seconds from now it became due; positive: not due yet)
        let rows: [(Int64, Int64, Int)] = [
            (1, 0, -100), (1, 1, -99), (1, 2, -98), (1, 3, -97), (2, 0, -50), (2, 5, -45), (3, 10, -200), (3, 11, 1_000), (4, 0, -10),
        ]
        for (token, offset, due) in rows {
            try await fixture.postgres.execute(
                "INSERT INTO suspect_minutes (instrument_token, bucket, reasons, next_attempt_at) VALUES ($1, $2, ARRAY['drop'], now() + make_interval(secs => $3::float8))",
                [token, Date(timeIntervalSince1970: TimeInterval(m + offset * 60)), Double(due)]
            )
        }
        func expected(leased: Set<String>, instruments: Int, perInstrument: Int) -> [String] {
            let due = rows.filter { $0.2 <= 0 && !leased.contains("\($0.0)@\($0.1)") }.map { row in
                (minute: SuspectMinute(instrumentToken: row.0, minute: m + row.1 * 60, reasons: ["drop"], attempts: 0), dueAt: Int64(row.2))
            }
            return RepairPlan.take(due: due, instruments: instruments, perInstrument: perInstrument).map { "\($0.instrumentToken)@\(($0.minute - m) / 60)" }
        }
        let store = SuspectMinuteStore(postgres: fixture.postgres)
        func take(instruments: Int, perInstrument: Int) async throws -> [String] {
            try await store.takeDue(instruments: instruments, perInstrument: perInstrument, lease: .seconds(90))
                .sorted { ($0.instrumentToken, $0.minute) < ($1.instrumentToken, $1.minute) }.map { "\($0.instrumentToken)@\(($0.minute - m) / 60)" }
        }
        // Oldest due: instrument 3 (-200 s), then 1 (-100 s); 1 capped at 3 minutes, 3's minute 11 is not due.
        let first = try await take(instruments: 2, perInstrument: 3)
        #expect(first == ["1@0", "1@1", "1@2", "3@10"])
        #expect(first == expected(leased: [], instruments: 2, perInstrument: 3))
        // Leased minutes are skipped: the rest of 1, then 2 with both its minutes; 4 waits.
        let second = try await take(instruments: 2, perInstrument: 3)
        #expect(second == ["1@3", "2@0", "2@5"])
        #expect(second == expected(leased: Set(first), instruments: 2, perInstrument: 3))
        #expect(try await take(instruments: 10, perInstrument: 10) == ["4@0"])
        #expect(try await take(instruments: 10, perInstrument: 10).isEmpty)
        let leased = try await fixture.postgres.query("SELECT count(*)::bigint AS n FROM suspect_minutes WHERE next_attempt_at > now() + interval '60 seconds' AND next_attempt_at <= now() + interval '90 seconds'")
        #expect(try leased.first?.decode(Int.self, "n") == 8)  // every taken minute holds the 90 s lease; 3@11 keeps its own time
        await fixture.close()
    }
}

import Foundation
import Shared
import SharedRedis
import Synchronization
import Testing
import TestSupport

/// SIGTERM in the middle of real work, as an orchestrator sends it (Docker allows 10 s before it kills): the services
/// stop promptly and cleanly, and what they had not finished is done by the next start, once.
@Suite("Graceful shutdown under load", .serialized)
struct ShutdownTests {
    @Test("TickerService stops within 5 s on SIGTERM during a burst of subscription changes and live ticks; after a restart every committed change has its event on the stream once")
    func tickerStopsDuringBurst() async throws {
        try await Platform.with([.simulator, .ticker], environment: [.ticker: ["LOG_FORMAT": "json"]]) { platform in
            let redis = try platform.redisClient()
            let tokens = try await platform.instruments(exchange: "NFO").filter { $0.name == "NIFTY" }.prefix(800).map(\.instrumentToken)
            try #require(tokens.count == 800)
            let changes = ChangeCounter()
            let stop = try await withThrowingTaskGroup(of: Platform.GracefulStop?.self) { group in
                // Four clients subscribe batches of 25 and remove a few of each again, round after round (the removed ones
                // come back in the next round), until the service stops answering; bounded, in case it never does.
                for worker in 0..<4 {
                    let mine = Array(tokens[(worker * 200)..<((worker + 1) * 200)])
                    group.addTask {
                        for _ in 0..<100 {
                            for start in stride(from: 0, to: mine.count, by: 25) {
                                let batch = mine[start..<(start + 25)]
                                let items = batch.map { #"{"instrument_token":\#($0),"requested_mode":"FULL"}"# }.joined(separator: ",")
                                guard let reply = try? await platform.post(.ticker, "/subscriptions", json: #"{"instruments":[\#(items)]}"#),
                                      (200..<300).contains(reply.statusCode) else { return nil }
                                changes.count.add(1, ordering: .relaxed)
                                for token in batch.prefix(5) {
                                    guard (try? await platform.delete(.ticker, "/subscriptions/\(token)")) != nil else { return nil }
                                    changes.count.add(1, ordering: .relaxed)
                                }
                            }
                        }
                        changes.outlived.add(1, ordering: .relaxed)
                        return nil
                    }
                }
                group.addTask {
                    try await waitUntil("ticks flow while subscriptions change", timeout: .seconds(60)) {
                        let ticks = try await redis.send(["XLEN", platform.channels.ticksStream]).int ?? 0
                        return ticks > 0 && changes.count.load(ordering: .relaxed) >= 40
                    }
                    return await platform.terminate(.ticker, within: .seconds(5))
                }
                var stop: Platform.GracefulStop?
                for try await result in group { stop = stop ?? result }
                return try #require(stop)
            }
            print("TickerService exited \(stop.status.map(String.init) ?? "-") \(stop.elapsed) after SIGTERM, \(changes.count.load(ordering: .relaxed)) changes made")
            #expect(stop.exited, "TickerService did not exit within 5 s of SIGTERM")
            #expect(stop.status == 0)
            #expect(changes.outlived.load(ordering: .relaxed) == 0, "a client finished its burst before the SIGTERM: nothing was tested")
            let log = platform.log(.ticker)
            let complaints = log.split(separator: "\n").filter {
                $0.contains(#""level":"error""#) || $0.contains(#""level":"critical""#) || $0.contains("client is closed") || $0.contains("was closed")
                    || $0.contains(" is closed")
            }
            #expect(complaints.isEmpty, "TickerService complained while stopping:\n\(complaints.prefix(10).joined(separator: "\n"))")

            // The next start publishes whatever was committed and not yet sent; nothing twice.
            try await platform.start(.ticker)
            try await waitUntil("the restarted relay has published the whole outbox", timeout: .seconds(60)) {
                let rows = try await platform.postgres.query("SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL")
                return try rows[0].decode(Int64.self, "n") == 0
            }
            let outbox = try await platform.postgres.query("SELECT event_id::text AS id, instrument_token, event_type FROM event_outbox ORDER BY id")
            let committed = try outbox.map { try $0.decode(String.self, "id") }
            let stream = try await platform.streamEvents(redis)
            var copies: [String: Int] = [:]
            for event in stream { copies[event.eventID, default: 0] += 1 }
            #expect(!committed.isEmpty)
            #expect(copies.filter { $0.value > 1 }.isEmpty, "events on the stream more than once: \(copies.filter { $0.value > 1 }.prefix(5))")
            #expect(Set(copies.keys) == Set(committed), "stream and outbox differ: \(Set(committed).symmetricDifference(copies.keys).prefix(5))")
            // The last event of every instrument says what the database says.
            var last: [Int64: SubscriptionEvent.Kind] = [:]
            for event in stream { last[event.instrumentToken] = event.kind }
            let rows = try await platform.postgres.query("SELECT instrument_token, status FROM instrument_subscriptions")
            for row in rows {
                let token = try row.decode(Int64.self, "instrument_token")
                let status = try row.decode(String.self, "status")
                #expect(last[token] == (status == "active" ? .created : .removed), "token \(token) is \(status) but its last event is \(String(describing: last[token]))")
            }
        }
    }

    @Test("BackendService stops within 5 s on SIGTERM in the middle of a large backfill cycle and a burst of events; after a restart every job finishes and every event's work is done once")
    func backendStopsMidBackfill() async throws {
        let backend = [
            "LOG_FORMAT": "json", "BACKFILL_INTERVAL_SECONDS": "2", "BACKFILL_GAP_LOOKBACK_HOURS": "2", "EVENTS_CLAIM_MIN_IDLE_SECONDS": "3",
        ]
        try await Platform.with([.simulator, .ticker], environment: [.backend: backend]) { platform in
            let redis = try platform.redisClient()
            // Subscribed while the backend is down: 200 events wait on the stream, 200 instruments have no history. 100 more
            // events are published while it stops (as a second publisher would), so the SIGTERM lands in a burst.
            let all = try await platform.instruments(exchange: "NFO").filter { $0.name == "BANKNIFTY" }.prefix(300).map(\.instrumentToken)
            try #require(all.count == 300)
            let tokens = Array(all.prefix(200))
            let late = Array(all.suffix(100))
            for start in stride(from: 0, to: tokens.count, by: 100) {
                let items = tokens[start..<(start + 100)].map { #"{"instrument_token":\#($0),"requested_mode":"QUOTE"}"# }.joined(separator: ",")
                let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instruments":[\#(items)]}"#)
                #expect(reply.statusCode == 201, "\(reply.text)")
            }
            try await waitUntil("the 200 events are on the stream") { try await platform.streamEvents(redis).count == 200 }
            #expect(Set(try await platform.streamEvents(redis).map(\.instrumentToken)) == Set(tokens.map(Int64.init)))

            try await platform.start(.backend)
            try await waitUntil("the burst is being consumed and backfilled while a periodic cycle runs", timeout: .seconds(60)) {
                let status = try await platform.get(.backend, "/internal/backfill/status").json()
                let jobs = try await Self.jobCounts(platform)
                return status["current_cycle"] is [String: Any] && jobs["done", default: 0] >= 5 && jobs["done", default: 0] < 150
            }
            let stop = try await withThrowingTaskGroup(of: Platform.GracefulStop?.self) { group in
                group.addTask {
                    for (index, token) in late.enumerated() {
                        let event = SubscriptionEvent(
                            eventID: UUID().uuidString.lowercased(), kind: .created, instrumentToken: Int64(token), tradingsymbol: nil,
                            metadata: .init(segment: "NFO-OPT", requestedMode: .quote, accountID: "primary"), timestamp: Date().timeIntervalSince1970,
                            sequence: Int64(10_000 + index)
                        )
                        _ = try await redis.xadd(platform.channels.eventsStream, maxLength: 100_000, fields: [("event", SubscriptionEventCodec.encode(event))])
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(300))
                    return await platform.terminate(.backend, within: .seconds(5))
                }
                var stop: Platform.GracefulStop?
                for try await result in group { stop = stop ?? result }
                return try #require(stop)
            }
            print("BackendService exited \(stop.status.map(String.init) ?? "-") \(stop.elapsed) after SIGTERM")
            #expect(stop.exited, "BackendService did not exit within 5 s of SIGTERM")
            #expect(stop.status == 0)
            let left = try await Self.jobCounts(platform)
            #expect(left["pending", default: 0] + left["running", default: 0] > 0, "nothing was left to resume: the test stopped too late (\(left))")
            #expect(left["failed", default: 0] == 0, "shutdown marked jobs failed: \(left)")
            let log = platform.log(.backend)
            let complaints = log.split(separator: "\n").filter { $0.contains(#""level":"error""#) || $0.contains(#""level":"critical""#) }
            #expect(complaints.isEmpty, "BackendService complained while stopping:\n\(complaints.prefix(10).joined(separator: "\n"))")

            try await platform.start(.backend)
            try await waitUntil("every backfill job is done after the restart", timeout: .seconds(240)) {
                let jobs = try await Self.jobCounts(platform)
                return jobs.keys.allSatisfy { $0 == "done" } && jobs["done", default: 0] >= 300
            }
            let processed = try await platform.postgres.query("SELECT event_id FROM processed_events WHERE event_type = 'subscription_created'")
            let streamIDs = Set(try await platform.streamEvents(redis).map(\.eventID))
            #expect(Set(try processed.map { try $0.decode(String.self, "event_id") }) == streamIDs)
            let perEvent = try await platform.postgres.query(
                "SELECT event_id, count(*) AS n FROM backfill_jobs WHERE event_id IS NOT NULL GROUP BY event_id HAVING count(*) <> 1"
            )
            #expect(perEvent.isEmpty, "events with other than one backfill job: \(perEvent.count)")
            let jobEvents = try await platform.postgres.query("SELECT count(DISTINCT event_id) AS n FROM backfill_jobs")
            #expect(try jobEvents[0].decode(Int64.self, "n") == 300)
            let withBars = try await platform.postgres.query(
                "SELECT count(DISTINCT instrument_token) AS n FROM bars_1m WHERE instrument_token = ANY($1::bigint[]) AND source = 'backfill'",
                ["{" + all.map(String.init).joined(separator: ",") + "}"]
            )
            #expect(try withBars[0].decode(Int64.self, "n") == 300)
            try await waitUntil("no event is left pending in the consumer group", timeout: .seconds(60)) {
                try await redis.xpending(platform.channels.eventsStream, group: "backend").count == 0
            }
        }
    }

    /// `backfill_jobs` rows by status.
    static func jobCounts(_ platform: Platform) async throws -> [String: Int] {
        let rows = try await platform.postgres.query("SELECT status, count(*) AS n FROM backfill_jobs GROUP BY status")
        var counts: [String: Int] = [:]
        for row in rows { counts[try row.decode(String.self, "status")] = Int(try row.decode(Int64.self, "n")) }
        return counts
    }
}

/// Subscription changes the burst's clients made, shared between them, and how many clients ran out of work before
/// the service stopped.
private final class ChangeCounter: Sendable {
    let count = Atomic<Int>(0)
    let outlived = Atomic<Int>(0)
}

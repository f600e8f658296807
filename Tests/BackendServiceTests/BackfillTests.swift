import Foundation
import Shared
import Testing
import TestSupport

@testable import BackendService

@Suite("BackendService backfill", .serialized)
struct BackfillTests {
    @Test("the periodic cycle finds a hole in the middle and fills it; with TickerService unreachable it uses the known subscriptions")
    func gapInTheMiddleWithTickerDown() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let components = fixture.components(try fixture.configuration(["BACKFILL_GAP_LOOKBACK_HOURS": "1"]))
        let token = EventBackfillFixture.nifty
        try await fixture.running(components) {
            // Known from an event (TickerService is unreachable in this fixture).
            _ = try await components.handler.handle(try SubscriptionEventCodec.decode(EventBackfillFixture.eventJSON()), source: "stream")
            #expect(try await fixture.eventually { try await fixture.barCount(token) >= 118 })
            #expect(try await fixture.eventually { components.queue.depth == 0 })
            let now = Int64(Date().timeIntervalSince1970) / 60 * 60
            let holeStart = Date(timeIntervalSince1970: TimeInterval(now - 40 * 60))
            let holeEnd = Date(timeIntervalSince1970: TimeInterval(now - 30 * 60))
            let deleted = try await fixture.postgres.execute(
                "DELETE FROM bars_1m WHERE instrument_token = $1 AND bucket >= $2 AND bucket < $3", [token, holeStart, holeEnd]
            )
            #expect(deleted == 10)
            let gaps = try await components.store.gaps(
                tokens: [token], from: Date(timeIntervalSince1970: TimeInterval(now - 3600)), to: Date(timeIntervalSince1970: TimeInterval(now)),
                mode: .always
            )
            #expect(gaps.contains { $0.start == Int64(holeStart.timeIntervalSince1970) && $0.minutes == 10 }, "gaps: \(gaps)")

            let progress = await components.periodic.runCycle()
            #expect(progress.tokenSource == "known")
            #expect(progress.gapsFound >= 1)
            #expect(progress.failures == 0)
            let refilled = try await fixture.postgres.query(
                "SELECT count(*) AS n FROM bars_1m WHERE instrument_token = $1 AND bucket >= $2 AND bucket < $3 AND source = 'backfill'",
                [token, holeStart, holeEnd]
            )
            #expect(try refilled[0].decode(Int64.self, "n") == 10)
            let runs = try await fixture.postgres.query("SELECT token_source, finished_at FROM backfill_runs")
            #expect(runs.count == 1)
            #expect(runs.first?["token_source"] == "known")
            #expect(runs.first?["finished_at"] != nil)
            #expect(components.board.last?.gapsFound == progress.gapsFound)
        }
    }

    @Test("concurrent immediate backfills of one instrument coalesce into one fetch")
    func concurrentRequestsCoalesce() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let counting = CountingCandleSource(inner: fixture.broker, delay: .milliseconds(500))
        let components = fixture.components(try fixture.configuration(), candles: counting)
        let token = EventBackfillFixture.nifty
        try await fixture.running(components) {
            let outcomes = await withTaskGroup(of: BackfillOutcome.self, returning: [BackfillOutcome].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        await components.queue.enqueueAndWait(BackfillRequest(token: token, reason: .subscription, wantsTail: true))
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.count == 8)
            #expect(outcomes.allSatisfy { if case .success = $0 { true } else { false } }, "\(outcomes)")
            #expect(counting.count(token) == 1)
            #expect(components.queue.snapshot.coalesced == 7)
        }
        #expect(try await fixture.barCount(token) >= 118)
    }

    @Test("a broker source paced faster than the broker allows gets 429s and still returns every instrument's candles")
    func rateLimitedRequestsAreRetried() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        // Ten starts a second against the simulator's three: most requests are refused at first.
        let eager = BrokerHistoricalSource(
            baseURL: fixture.simulatorURL, apiKey: "sim_api_key", accessToken: "sim_access_token", httpClient: fixture.httpClient,
            requestsPerSecond: 10, logger: EventBackfillFixture.quietLogger
        )
        let now = Date()
        @Sendable func fetchSix(_ source: BrokerHistoricalSource) async -> [Result<Int, any Error>] {
            await withTaskGroup(of: Result<Int, any Error>.self, returning: [Result<Int, any Error>].self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        do {
                            return .success(try await source.candles(token: EventBackfillFixture.nifty, from: now.addingTimeInterval(-600), to: now).count)
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        // Without retries the broker's refusals reach the caller: the case below is real.
        var once = eager
        once.rateLimitedAttempts = 1
        let refused = await fetchSix(once).filter { result in
            if case .failure(let error as TickerClientError) = result { return error.status == 429 }
            return false
        }
        #expect(!refused.isEmpty, "the simulator refused nothing at 10 requests a second")
        try await Task.sleep(for: .seconds(1.1))

        let results = await fetchSix(eager)
        let counts = results.compactMap { try? $0.get() }
        #expect(counts.count == 6, "results: \(results)")
        #expect(counts.allSatisfy { $0 >= 9 }, "candles per request: \(counts)")
    }

    @Test("a failing history source is retried with backoff and recorded as a failure without stopping the workers")
    func failuresRetryAndAreRecorded() async throws {
        let fixture = try await EventBackfillFixture.make()
        defer { Task { await fixture.close() } }
        let components = fixture.components(try fixture.configuration(["BACKFILL_MAX_ATTEMPTS": "3"]))
        try await fixture.running(components) {
            // Two injected failures, then success: retried.
            try await fixture.injectHistoricalFailures(2)
            let recovered = await components.queue.enqueueAndWait(BackfillRequest(token: EventBackfillFixture.nifty, reason: .manual, wantsTail: true))
            #expect({ if case .success = recovered { true } else { false } }(), "\(recovered)")
            // An instrument the broker does not know: fails (no endless retry), the worker goes on.
            let failed = await components.queue.enqueueAndWait(BackfillRequest(token: 4_000_000_001, reason: .manual, wantsTail: true))
            #expect({ if case .failed = failed { true } else { false } }(), "\(failed)")
            #expect(components.queue.snapshot.failed == 1)
        }
    }

    @Test("session calendar: exchange hours in IST, weekends closed, MCX evenings")
    func sessionCalendar() {
        let exchange = SessionCalendar(mode: .exchange)
        // 2025-11-20 (Thursday) 09:15 IST = 03:45 UTC.
        let open = Int64(1_763_610_300)
        #expect(exchange.isTradingMinute(open, exchange: "NFO"))
        #expect(!exchange.isTradingMinute(open - 60, exchange: "NFO"))
        #expect(exchange.isTradingMinute(open - 15 * 60, exchange: "MCX"))
        #expect(!exchange.isTradingMinute(open + 2 * 86_400, exchange: "NSE"), "Saturday")
        let closeNSE = open + 375 * 60  // 15:30 IST
        #expect(!exchange.isTradingMinute(closeNSE, exchange: "NSE"))
        #expect(exchange.isTradingMinute(closeNSE - 60, exchange: "NSE"))
        #expect(exchange.isTradingMinute(closeNSE, exchange: "MCX"))
        // The last 120 session minutes before Saturday noon end at Friday's close.
        let saturdayNoon = open + 2 * 86_400 + 3 * 3600
        let start = exchange.startOfLastTradingMinutes(120, before: saturdayNoon, exchange: "NFO", limit: 4 * 86_400)
        #expect(start == closeNSE + 86_400 - 120 * 60)
        #expect(SessionCalendar(mode: .always).startOfLastTradingMinutes(120, before: saturdayNoon, exchange: "NFO", limit: 86_400) == saturdayNoon - 7200)
    }
}

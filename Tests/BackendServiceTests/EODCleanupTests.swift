import AsyncHTTPClient
import Foundation
import Logging
import Shared
import SharedPostgres
import Testing
import TestSupport

@testable import BackendService

@Suite("Tiers: end-of-day cleanup", .serialized)
struct EODCleanupTests {
    /// 2026-12-02 (a Wednesday) at `hour:minute` IST.
    static func wednesday(_ hour: Int, _ minute: Int) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = EODCleanupService.ist
        return calendar.date(from: DateComponents(year: 2026, month: 12, day: 2, hour: hour, minute: minute))!
    }

    static func service(_ cleanup: EODCleanup, at date: Date) -> EODCleanupService {
        var service = EODCleanupService(cleanup: cleanup, cleanupMinute: 15 * 60 + 30, now: { date }, logger: Logger(label: "eod-test"))
        service.checkInterval = .milliseconds(20)
        return service
    }

    @Test("the cleanup is due from 15:30 IST on weekdays only")
    func dueDays() {
        let cleanup = EODCleanup(
            tiers: TierManager(
                store: TierStore(postgres: PostgresClient(configuration: .init(connectionString: "postgresql://127.0.0.1:1/x"), logger: Logger(label: "x"))),
                ticker: TickerClient(baseURL: "http://127.0.0.1:1", apiKey: nil, httpClient: HTTPClient.shared, logger: Logger(label: "x")),
                configuredCap: 1, logger: Logger(label: "x")
            ),
            watchlists: WatchlistStore(postgres: PostgresClient(configuration: .init(connectionString: "postgresql://127.0.0.1:1/x"), logger: Logger(label: "x"))),
            runs: EODRunStore(postgres: PostgresClient(configuration: .init(connectionString: "postgresql://127.0.0.1:1/x"), logger: Logger(label: "x"))),
            clearWatchlists: true, logger: Logger(label: "x")
        )
        let service = Self.service(cleanup, at: Date())
        #expect(service.dueDay(at: Self.wednesday(15, 29)) == nil)
        #expect(service.dueDay(at: Self.wednesday(15, 30)) == "2026-12-02")
        #expect(service.dueDay(at: Self.wednesday(23, 59)) == "2026-12-02")
        #expect(service.dueDay(at: Self.wednesday(15, 30).addingTimeInterval(3 * 86_400)) == nil)  // Saturday
        #expect(service.dueDay(at: Self.wednesday(9, 0).addingTimeInterval(86_400)) == nil)  // Thursday morning
    }

    @Test("at 15:30 IST every Tier A holder is released and the watchlists cleared, Tier B kept; it runs once a day across a restart")
    func releasesTierAOnceADay() async throws {
        try await Platform.with([.simulator, .ticker]) { platform in
            let tokens = try await TierCapTests.equities(platform, 6)
            let tiers = TierCapTests.tiers(platform, cap: 100)
            let watchlists = WatchlistStore(postgres: platform.postgres)
            let cleanup = EODCleanup(tiers: tiers, watchlists: watchlists, runs: EODRunStore(postgres: platform.postgres), clearWatchlists: true, logger: Logger(label: "eod"))
            _ = try await tiers.hold(Array(tokens[0..<2]), holder: TierHolder.alwaysOn, source: "tier-b:test", tier: .b, userID: nil, mode: .quote, actor: "tier-b", reason: "test")
            let entry = WatchlistEntry(userID: "u1", kind: .instrument, symbol: "X", instrumentToken: tokens[2])
            _ = try await tiers.hold(
                [tokens[2]], holder: "user:u1", source: entry.source, tier: .a, userID: "u1", mode: .full, actor: "user:u1", reason: "test",
                alsoInTransaction: { connection in try await watchlists.upsert(entry, on: connection) }
            )
            _ = try await tiers.hold([tokens[3]], holder: TierHolder.onDemand(nil), source: TierSource.onDemand, tier: .a, userID: nil, mode: .full, actor: "api", reason: "test")
            try #require(try await TierCapTests.streamed(platform) == Set(tokens[0..<4]))

            // Before the time nothing happens.
            try await Self.runBriefly(Self.service(cleanup, at: Self.wednesday(15, 29)))
            #expect(try await TierCapTests.streamed(platform) == Set(tokens[0..<4]))

            let runs = EODRunStore(postgres: platform.postgres)
            try await Self.run(Self.service(cleanup, at: Self.wednesday(15, 31)), until: { try await runs.finished(day: "2026-12-02") })
            try await waitUntil("Tier A left the broker, Tier B stayed") { try await TierCapTests.streamed(platform) == Set(tokens[0..<2]) }
            #expect(try await watchlists.entries(userID: "u1").isEmpty)
            #expect(try await tiers.store.tierCounts() == (a: 0, b: 2))
            let log = try await tiers.store.logEntries(token: tokens[3], since: nil, beforeID: nil, limit: 5)
            #expect(log.first?.action == .eodRelease && log.first?.actor == "eod")

            // A restart later that day (a new service, same database) does not run it again: what was held since stays.
            _ = try await tiers.hold([tokens[4]], holder: TierHolder.onDemand(nil), source: TierSource.onDemand, tier: .a, userID: nil, mode: .full, actor: "api", reason: "test")
            try await Self.runBriefly(Self.service(cleanup, at: Self.wednesday(16, 45)))
            #expect(try await TierCapTests.streamed(platform) == Set(tokens[0..<2] + [tokens[4]]))
            #expect(try await EODRunStore(postgres: platform.postgres).finished(day: "2026-12-02"))

            // The admin endpoint's forced run does it again.
            let forced = try await cleanup.run(day: "2026-12-02", trigger: "api", force: true)
            #expect(forced.ran && forced.released == 1)
            try await waitUntil("the forced run released the later hold") { try await TierCapTests.streamed(platform) == Set(tokens[0..<2]) }
        }
    }

    /// Runs the service for a few of its check intervals.
    static func runBriefly(_ service: EODCleanupService) async throws {
        try await run(service) {
            try await Task.sleep(for: .milliseconds(300))
            return true
        }
    }

    /// Runs the service until `condition` holds.
    static func run(_ service: EODCleanupService, until condition: @escaping @Sendable () async throws -> Bool) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            try await waitUntil("the service did its work", timeout: .seconds(30)) { try await condition() }
            group.cancelAll()
        }
    }
}

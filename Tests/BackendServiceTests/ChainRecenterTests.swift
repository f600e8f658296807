import AsyncHTTPClient
import Foundation
import Logging
import Shared
import SharedInstruments
import SharedPostgres
import SharedRedis
import Testing
import TestSupport

@testable import BackendService

/// A watchlist chain whose centre the price has left is re-centred make-before-break, through the real TickerService
/// and simulator: the new strikes are held (and streamed) before the far ones are let go.
@Suite("Watchlist chains re-centre", .serialized)
struct ChainRecenterTests {
    @Test("a chain centred 3 strikes away is re-centred: new strikes subscribed before far ones released; one within the threshold is left alone")
    func recentreMakeBeforeBreak() async throws {
        try await Platform.with([.simulator, .ticker]) { platform in
            _ = try await TierCapTests.equities(platform, 1)
            let logger = Logger(label: "recentre-test")
            let registry = InstrumentRegistry(catalog: PostgresInstrumentCatalog(postgres: platform.postgres))
            try await waitUntil("the registry loads the dump") { try await registry.reload() > 100_000 }
            let redis = RedisClient(configuration: try RedisConfiguration(url: platform.redisURL), logger: logger)
            defer { Task { await redis.close() } }
            let quotes = LiveQuotes(redis: redis, channels: EventChannels(prefix: platform.prefix))
            let settings = try TierConfiguration(source: ConfigSource(environment: ["ENVIRONMENT": "test", "WATCHLIST_CHAIN_STRIKES": "5"], dotEnvPath: nil))
            let atm = ATMEngine(registry: registry, quotes: quotes, fallback: nil, recenterStrikes: settings.atmRecenterStrikes, logger: logger)
            let tiers = TierCapTests.tiers(platform, cap: 25_000)
            let store = WatchlistStore(postgres: platform.postgres)
            let watchlists = WatchlistService(
                store: store, tiers: tiers, registry: registry, atm: atm, atmCache: ATMCacheStore(postgres: platform.postgres, logger: logger),
                settings: settings, logger: logger
            )
            // RELIANCE's live price first (the ATM engine waits for ticks only here).
            let reliance: Int64 = 738_561
            let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token": \#(reliance), "requested_mode": "QUOTE"}"#)
            #expect(reply.statusCode == 201, "\(reply.text)")
            try await waitUntil("RELIANCE's live price") { try await quotes.quote(reliance) != nil }

            // The entry as it was when the price stood 3 strikes lower: its window centred there is held.
            let now = try await atm.window(symbol: "RELIANCE", expiry: nil, underlyingLTP: nil, strikes: 5)
            let old = try await atm.window(symbol: "RELIANCE", expiry: now.expiry, underlyingLTP: now.atmStrike - 3 * now.strikeStep, strikes: 5)
            var entry = WatchlistEntry(userID: "u1", kind: .underlying, symbol: "RELIANCE", instrumentToken: 0)
            entry.expiry = old.expiry
            entry.atmStrike = old.atmStrike
            entry.strikes = 5
            let stored = entry
            _ = try await tiers.hold(
                old.optionTokens + [reliance], holder: TierHolder.user("u1"), source: entry.source, tier: .a, userID: "u1", mode: .quote,
                actor: "test", reason: "old centre", alsoInTransaction: { connection in try await store.upsert(stored, on: connection) }
            )
            try await waitUntil("the old window streams") { try await TierCapTests.streamed(platform).isSuperset(of: Set(old.optionTokens)) }
            let firstNewLog = try await tiers.store.logEntries(token: nil, since: nil, beforeID: nil, limit: 1).first?.id ?? 0

            // Re-centre: the current window is held and streamed, the far strikes are let go, in that order.
            let service = ChainRecenterService(watchlists: watchlists, logger: logger)
            await service.pass()
            let recentred = try #require(try await store.entries(userID: "u1").first)
            #expect(recentred.atmStrike == now.atmStrike, "\(recentred)")
            let held = Set(try await tiers.store.tokens(holder: TierHolder.user("u1"), source: entry.source))
            #expect(held == Set(now.optionTokens + [reliance]))
            let far = Set(old.optionTokens).subtracting(now.optionTokens)
            try #require(!far.isEmpty)
            try await waitUntil("the broker streams the new window and not the far strikes") {
                let streamed = try await TierCapTests.streamed(platform)
                return streamed.isSuperset(of: Set(now.optionTokens)) && streamed.isDisjoint(with: far)
            }
            let log = try await tiers.store.logEntries(token: nil, since: nil, beforeID: nil, limit: 200).filter { $0.id > firstNewLog }
            let lastSubscribe = try #require(log.filter { $0.action == .subscribe }.map(\.id).max())
            let firstUnsubscribe = try #require(log.filter { $0.action == .unsubscribe }.map(\.id).min())
            #expect(lastSubscribe < firstUnsubscribe, "make-before-break: every subscribe is logged before the first unsubscribe")
            #expect(Set(log.filter { $0.action == .unsubscribe }.compactMap(\.instrumentToken)) == far)

            // Within the threshold (the price is at the centre now): nothing moves.
            #expect(try await watchlists.recenter(recentred) == false)
        }
    }
}

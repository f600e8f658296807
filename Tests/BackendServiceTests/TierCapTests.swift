import AsyncHTTPClient
import Foundation
import Logging
import ServiceRuntime
import Shared
import SharedPostgres
import Testing
import TestSupport

@testable import BackendService

/// The cap and its LRU eviction through the real TickerService and simulator: what the broker streams is checked at the
/// simulator's `/admin/connections`, not at the tiers' own tables.
@Suite("Tiers: cap, LRU eviction, shared holders", .serialized)
struct TierCapTests {
    static func tiers(_ platform: Platform, cap: Int) -> TierManager {
        let logger = Logger(label: "tier-test")
        let ticker = TickerClient(baseURL: platform.url(.ticker), apiKey: nil, httpClient: HTTPClient.shared, logger: logger)
        return TierManager(store: TierStore(postgres: platform.postgres), ticker: ticker, configuredCap: cap, logger: logger)
    }

    /// Waits until TickerService has the instrument dump, and returns `count` NSE equities.
    static func equities(_ platform: Platform, _ count: Int) async throws -> [Int64] {
        try await waitUntil("TickerService has the instrument dump") {
            let health = try await platform.get(.ticker, "/health").json()
            let registry = (health["dependencies"] as? [String: Any])?["instrument_registry"] as? [String: Any]
            return (registry?["cached_instruments"] as? Int ?? 0) > 0
        }
        let equities = try await platform.instruments(exchange: "NSE").filter { $0.instrumentType == "EQ" && $0.segment == "NSE" }
        try #require(equities.count >= count)
        return equities.prefix(count).map { Int64($0.instrumentToken) }
    }

    static func streamed(_ platform: Platform) async throws -> Set<Int64> {
        Set(try await platform.simulatorSubscriptions().keys.map(Int64.init))
    }

    @Test("passing the cap evicts the least recently used Tier A instruments, never Tier B; the evicted user is told; with nothing evictable it is 409")
    func capEvictsLeastRecentlyUsed() async throws {
        try await Platform.with([.simulator, .ticker]) { platform in
            let tokens = try await Self.equities(platform, 14)
            let tiers = Self.tiers(platform, cap: 10)
            let tierB = Array(tokens[0..<4]), user1 = Array(tokens[4..<8]), user2 = Array(tokens[8..<12])
            _ = try await tiers.hold(tierB, holder: TierHolder.alwaysOn, source: "tier-b:test", tier: .b, userID: nil, mode: .quote, actor: "tier-b", reason: "test")
            _ = try await tiers.hold(user1, holder: "user:u1", source: "watchlist:X", tier: .a, userID: "u1", mode: .full, actor: "user:u1", reason: "test")
            // user1's last two are used later than its first two, and Tier B is the oldest of all.
            try await Task.sleep(for: .milliseconds(20))
            await tiers.touch(Array(user1[2...]))
            try #require(try await Self.streamed(platform) == Set(tierB + user1))

            let result = try await tiers.hold(user2, holder: "user:u2", source: "watchlist:Y", tier: .a, userID: "u2", mode: .full, actor: "user:u2", reason: "test")
            #expect(Set(result.evicted) == Set(user1[0..<2]))
            try await waitUntil("the simulator streams Tier B, user1's recent two and user2's four") {
                try await Self.streamed(platform) == Set(tierB + user1[2...] + user2)
            }
            let counts = try await tiers.store.tierCounts()
            #expect(counts.a == 6 && counts.b == 4)
            let notices = try await tiers.store.evictions(userID: "u1")
            #expect(Set(notices.map(\.instrumentToken)) == Set(user1[0..<2]) && notices.allSatisfy { $0.reason.contains("cap 10") })
            let log = try await tiers.store.logEntries(token: user1[0], since: nil, beforeID: nil, limit: 10)
            #expect(log.map(\.action) == [.evict, .subscribe] && log[0].actor == "user:u2" && log[0].holder == "user:u1")

            // Only Tier B and the request's own instruments are left to evict: refused, nothing changes.
            let bOnly = Self.tiers(platform, cap: 4)
            await #expect(throws: APIError.self) {
                _ = try await bOnly.hold([tokens[12]], holder: "user:u3", source: "on-demand", tier: .a, userID: "u3", mode: .full, actor: "user:u3", reason: "test")
            }
            do {
                _ = try await Self.tiers(platform, cap: 10).hold(
                    Array(tokens[12..<14]) + tierB, holder: TierHolder.alwaysOn, source: "tier-b:more", tier: .b, userID: nil, mode: .quote, actor: "tier-b", reason: "test"
                )
                Issue.record("Tier B past the cap was accepted")
            } catch let error as APIError {
                #expect(error.status == .conflict && error.code.name == "cap_reached", "\(error)")
            }
            #expect(try await Self.streamed(platform) == Set(tierB + user1[2...] + user2))
            #expect(try await tiers.store.tierCounts() == (a: 6, b: 4))
        }
    }

    @Test("two holders of one instrument make one broker subscription; one letting go never drops the other's")
    func sharedHolders() async throws {
        try await Platform.with([.simulator, .ticker]) { platform in
            let tokens = try await Self.equities(platform, 3)
            let tiers = Self.tiers(platform, cap: 100)
            _ = try await tiers.hold(tokens, holder: "user:a", source: "watchlist:S", tier: .a, userID: "a", mode: .full, actor: "user:a", reason: "test")
            _ = try await tiers.hold([tokens[1]], holder: "user:b", source: "watchlist:token", tier: .a, userID: "b", mode: .full, actor: "user:b", reason: "test")
            // user a holds tokens[1] twice too (its chain and the single instrument): removing the chain keeps it.
            _ = try await tiers.hold([tokens[1]], holder: "user:a", source: "watchlist:token", tier: .a, userID: "a", mode: .full, actor: "user:a", reason: "test")
            let released = try await tiers.release(holder: "user:a", source: "watchlist:S", actor: "user:a", reason: "test")
            #expect(Set(released) == Set(tokens))
            try await waitUntil("only the shared instrument streams") { try await Self.streamed(platform) == [tokens[1]] }
            try await tiers.release(holder: "user:b", source: "watchlist:token", actor: "user:b", reason: "test")
            try await tiers.release(holder: "user:a", source: "watchlist:token", actor: "user:a", reason: "test")
            try await waitUntil("nothing streams once the last holder let go") { try await Self.streamed(platform).isEmpty }
            let subscription = try await platform.get(.ticker, "/subscriptions/\(tokens[1])").json()
            #expect(subscription["status"] as? String == "inactive")
        }
    }
}

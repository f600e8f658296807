import BrokerWire
import Foundation
import Logging
import Testing
import TestSupport

@testable import TickerService

/// Even spread and make-before-break rebalance against the simulator over real WebSockets: what the broker streams is
/// read at the simulator, the ticks at Redis.
@Suite("Feed rebalance")
struct FeedRebalanceTests {
    static let tickInterval = 500

    @Test("removals unbalance the connections; a rebalance evens them make-before-break: modes kept, no moved instrument's ticks stop for more than two tick intervals; the automatic check does it too")
    func rebalanceEvensMakeBeforeBreak() async throws {
        let simulator = try await SimulatorProcess(tickIntervalMs: Self.tickInterval)
        let tokens = try await simulator.equityTokens(150)
        try #require(tokens.count == 150)
        try await withFeed(testConfiguration([testAccount(simulator, connections: 3, perConnection: 100)])) { fixture in
            let feed = fixture.feed
            _ = try await feed.subscribe(tokens.enumerated().map { FeedSubscription(token: $1, mode: $0 < 20 ? .full : .quote) })
            var expected = Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($1, $0 < 20 ? "full" : "quote") })
            let all = expected
            try await waitUntil("the simulator streams all 150 in their modes") { try await simulator.subscribed() == all }
            #expect(feed.currentLoads() == [50, 50, 50])

            // Removals from the first connection leave it nearly empty: 5 / 50 / 50.
            let onFirst = tokens.filter { feed.placement(of: $0)?.connectionID == 1 }
            await feed.unsubscribe(Array(onFirst.prefix(45)))
            for token in onFirst.prefix(45) { expected.removeValue(forKey: token) }
            let modesBefore = expected
            try await waitUntil("the simulator streams the other 105") { try await simulator.subscribed() == modesBefore }
            #expect(feed.spread() == 0.45)

            let mark = try await fixture.lastID()
            let result = try #require(await feed.rebalance(overlap: .milliseconds(Self.tickInterval + 100)))
            #expect(result.moved == 30 && result.loadsAfter == [35, 35, 35] && result.spreadAfter == 0, "\(result)")
            #expect(Set(result.moves.map(\.to.connectionID)) == [1] && Set(result.moves.map(\.from.connectionID)) == [2, 3])
            try await waitUntil("the simulator's connections carry 35 each, in the modes they had") {
                let counts = try await simulator.connections().map(\.subscribed).sorted()
                let modes = try await simulator.subscribed()
                return counts == [35, 35, 35] && modes == modesBefore
            }

            // Ticks of every moved instrument kept coming: never two tick intervals without one.
            try await Task.sleep(for: .seconds(2))
            let entries = try await fixture.entries(after: mark, count: 100_000)
            var received: [UInt32: [Int64]] = [:]
            for entry in entries {
                if let token = entry.fields["tk"].flatMap(UInt32.init), let at = entry.fields["rt"].flatMap(Int64.init) { received[token, default: []].append(at) }
            }
            for move in result.moves {
                let times = try #require(received[move.instrumentToken], "no ticks of moved \(move.instrumentToken)")
                let worst = zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? 0
                #expect(worst <= Int64(2 * Self.tickInterval), "moved \(move.instrumentToken) went \(worst) ms without a tick")
            }

            // The automatic check: a new imbalance is evened without anyone asking.
            let onSecond = tokens.filter { feed.placement(of: $0)?.connectionID == 2 }
            await feed.unsubscribe(Array(onSecond.prefix(30)))
            #expect(feed.currentLoads() == [35, 5, 35])
            let rebalancer = FeedRebalancer(
                feed: feed, interval: .milliseconds(200), threshold: 0.01, overlap: .milliseconds(Self.tickInterval + 100), logger: Logger(label: "test")
            )
            let task = Task { try await rebalancer.run() }
            defer { task.cancel() }
            try await waitUntil("the automatic check evens the loads") { feed.currentLoads() == [25, 25, 25] }
            try await waitUntil("and the simulator agrees") { try await simulator.connections().map(\.subscribed).sorted() == [25, 25, 25] }
        }
    }
}

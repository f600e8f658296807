import BrokerWire
import Foundation
import Testing

@testable import TickerService

/// Placement across brokers, without sockets: a `FeedManager` that is not running still places (connections open
/// only when run).
@Suite("Feed placement across Kite and Dhan accounts")
struct FeedPlacementTests {
    static func account(_ id: String, _ broker: Broker, connections: Int? = nil) -> BrokerAccount {
        BrokerAccount(
            id: id, broker: broker, webSocketURL: "ws://127.0.0.1:9", restURL: "http://127.0.0.1:9",
            maxConnections: connections ?? broker.maxConnections, instrumentsPerConnection: broker.instrumentsPerConnection,
            credentialSource: .fixed(BrokerCredentials(apiKey: id, accessToken: "t"))
        )
    }

    static func manager(_ accounts: [BrokerAccount], placement: FeedConfiguration.Placement = .leastLoaded) -> FeedManager {
        var configuration = FeedConfiguration(accounts: accounts)
        configuration.placement = placement
        return FeedManager(configuration: configuration, sink: TickSink(capacity: 1), logger: feedTestLogger("test.placement"))
    }

    static func equities(_ range: ClosedRange<UInt32>) -> [FeedSubscription] {
        range.map { FeedSubscription(token: KiteSegment.token(exchangeToken: $0, segment: .nse), mode: .ltp) }
    }

    @Test("a mixed pool fills every connection to the same share of its capacity, Kite's 3,000 and Dhan's 5,000 alike")
    func evenAcrossBrokers() async throws {
        let feed = Self.manager([Self.account("kite", .kite), Self.account("dhan", .dhan)])
        for start in stride(from: UInt32(1), through: 17_000, by: 1000) {
            _ = try await feed.subscribe(Self.equities(start...(start + 999)))
        }
        let status = await feed.status()
        #expect(status.subscribedInstruments == 17_000)
        #expect(status.connections.count == 8)
        let shares = status.connections.map { Double($0.instruments) / Double($0.capacity) }
        // 17,000 of 34,000 slots: every connection half full, within one instrument of each other.
        #expect((shares.max()! - shares.min()!) <= 1.0 / 3000 + 1e-9, "shares \(shares)")
        #expect(status.connections.filter { $0.broker == "dhan" }.map(\.instruments).allSatisfy { (2499...2501).contains($0) })
        #expect(status.connections.filter { $0.broker == "kite" }.map(\.instruments).allSatisfy { (1499...1501).contains($0) })
    }

    @Test("FEED_PLACEMENT=ordered fills the first account before the next")
    func ordered() async throws {
        let feed = Self.manager([Self.account("dhan", .dhan, connections: 2), Self.account("kite", .kite)], placement: .ordered)
        _ = try await feed.subscribe(Self.equities(1...10_500))
        let byAccount = Dictionary(grouping: await feed.status().connections, by: \.accountID).mapValues { $0.reduce(0) { $0 + $1.instruments } }
        #expect(byAccount == ["dhan": 10_000, "kite": 500])
        let dhan = await feed.status().connections.filter { $0.accountID == "dhan" }
        #expect(dhan.map(\.instruments) == [5000, 5000])
    }

    @Test("a pinned instrument goes to its account or nowhere: full, unknown and unmappable pins are refused")
    func pinned() async throws {
        let feed = Self.manager([Self.account("kite", .kite), Self.account("dhan", .dhan, connections: 1)])
        var pinned = Self.equities(1...10)
        for index in pinned.indices { pinned[index].requiredAccountID = "dhan" }
        let placed = try await feed.subscribe(pinned)
        #expect(Set(placed.map(\.accountID)) == ["dhan"])

        var unknown = Self.equities(11...11)
        unknown[0].requiredAccountID = "nope"
        await #expect(throws: FeedError.self) { _ = try await feed.subscribe(unknown) }
        do {
            _ = try await feed.subscribe(unknown)
        } catch {
            #expect(error.code == .unknownAccount)
        }

        // An index without a Dhan id: fine on Kite, refused when pinned to Dhan, with the reason.
        let niftyIT = KiteSegment.token(exchangeToken: 1015, segment: .indices)
        do {
            _ = try await feed.subscribe([FeedSubscription(token: niftyIT, mode: .quote, requiredAccountID: "dhan")])
            Issue.record("an unmappable instrument was placed on Dhan")
        } catch {
            #expect(error.code == .accountUnavailable)
            #expect(error.message.contains("IDX_I"))
        }
        let free = try await feed.subscribe([FeedSubscription(token: niftyIT, mode: .quote)])
        #expect(free.map(\.accountID) == ["kite"], "placement skips brokers that cannot address the instrument")

        // Full: the Dhan account has one connection of 5,000.
        var fill = Self.equities(100...5089)
        for index in fill.indices { fill[index].requiredAccountID = "dhan" }
        _ = try await feed.subscribe(fill)
        var more = Self.equities(6000...6000)
        more[0].requiredAccountID = "dhan"
        do {
            _ = try await feed.subscribe(more)
            Issue.record("a full account took another instrument")
        } catch {
            #expect(error.code == .accountUnavailable)
            #expect(error.message.contains("full"))
        }
        #expect(await feed.status().subscribedInstruments == 5001, "nothing of a refused call is placed")
    }

    @Test("a Dhan-only deployment refuses an instrument Dhan cannot address, with the reason")
    func dhanOnlyUnplaceable() async throws {
        let feed = Self.manager([Self.account("dhan", .dhan)])
        do {
            _ = try await feed.subscribe([FeedSubscription(token: KiteSegment.token(exchangeToken: 3, segment: .nco), mode: .full)])
            Issue.record("placed an NCDEX instrument on Dhan")
        } catch {
            #expect(error.code == .unplaceable)
            #expect(error.message.contains("Dhan does not stream"))
        }
        #expect(await feed.status().subscribedInstruments == 0)
    }
}

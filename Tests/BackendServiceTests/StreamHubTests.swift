import Foundation
import Testing

@testable import BackendService

/// The quote stream's per-client queues: the latest quote per instrument only, so a client that does not read holds
/// at most one quote per instrument it streams, however many ticks arrive; other clients are not held up.
@Suite("Quote stream hub")
struct StreamHubTests {
    static func quote(_ token: Int64, _ ltp: Double) -> QuoteBody {
        QuoteBody(instrumentToken: token, ltp: ltp, bid: nil, ask: nil, volume: nil, oi: nil, close: nil, change: nil, changePercent: nil, timestamp: nil, broker: nil)
    }

    @Test("a slow client's queue keeps the latest quote per instrument; the conflated ones are counted; a fast one gets every tick")
    func conflation() throws {
        let hub = StreamHub(maxClients: 10, maxTokensPerClient: 100)
        let slow = try #require(hub.register()).id
        let fast = try #require(hub.register()).id
        _ = hub.subscribe(slow, tokens: [1, 2])
        _ = hub.subscribe(fast, tokens: [1])
        var fastSeen: [Double] = []
        for tick in 1...1_000 {
            hub.publish([Self.quote(1, Double(tick)), Self.quote(2, Double(tick)), Self.quote(3, Double(tick))], ticksRead: 3)
            fastSeen += try #require(hub.take(fast, maxQuotes: 500)).quotes.map(\.ltp)
        }
        #expect(fastSeen == (1...1_000).map(Double.init))
        let queued = try #require(hub.take(slow, maxQuotes: 500))
        #expect(queued.quotes.count == 2 && Set(queued.quotes.map(\.ltp)) == [1_000])
        #expect(hub.stats.updatesConflated == 2 * 999 && hub.stats.ticksRead == 3_000)
    }

    @Test("the client and token limits refuse without changing anything; unsubscribe drops queued quotes")
    func limits() throws {
        let hub = StreamHub(maxClients: 1, maxTokensPerClient: 2)
        let id = try #require(hub.register()).id
        #expect(hub.register() == nil && hub.stats.clientsRefused == 1)
        #expect(hub.subscribe(id, tokens: [1, 2, 3]) == nil)
        #expect(hub.subscribe(id, tokens: [1, 2])?.total == 2)
        hub.publish([Self.quote(1, 10), Self.quote(2, 20)], ticksRead: 2)
        #expect(hub.unsubscribe(id, tokens: [1, 9]).removed == [1])
        #expect(try #require(hub.take(id, maxQuotes: 10)).quotes.map(\.instrumentToken) == [2])
        hub.unregister(id)
        #expect(hub.register() != nil)
    }
}

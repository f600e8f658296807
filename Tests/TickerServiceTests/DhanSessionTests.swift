import BrokerWire
import Foundation
import Shared
import Testing
import TestSupport

@testable import TickerService

/// Dhan accounts streamed by the same connection type as Kite's, against the simulator's Dhan v2 feed over a real
/// WebSocket, ticks into a real Redis.
@Suite("Dhan sessions", .serialized)
struct DhanSessionTests {
    /// Every instrument of the simulator's universe Dhan can address, in dump order.
    static func dhanTokens(_ simulator: SimulatorProcess, _ count: Int) async throws -> [UInt32] {
        let csv = try await SimulatorProcess.get("\(simulator.httpURL)/instruments").body
        let instruments = try KiteInstrumentCSV.parse(Array(csv.utf8))
        let tokens = instruments.map(\.instrumentToken).filter { if case .success = DhanInstrumentMap.dhanInstrument(forKiteToken: $0) { true } else { false } }
        try #require(tokens.count >= count, "the universe has only \(tokens.count) Dhan-addressable instruments")
        return Array(tokens.prefix(count))
    }

    @Test("a Dhan account streams an index, an equity and an option in ltp, quote and full into the tick stream, with broker dhan")
    func ticksInEveryMode() async throws {
        let simulator = try await SimulatorProcess()
        let equity = try #require(try await simulator.equityTokens(1).first)
        let option = try #require(try await Self.dhanTokens(simulator, 100_000).first { KiteSegment(token: $0) == .nfo })
        let nifty: UInt32 = 256_265
        try await withFeed(testConfiguration([testDhanAccount(simulator, connections: 1)])) { fixture in
            _ = try await fixture.feed.subscribe([
                FeedSubscription(token: nifty, mode: .quote), FeedSubscription(token: equity, mode: .full), FeedSubscription(token: option, mode: .ltp),
            ])
            let expected: [UInt32: String] = [nifty: "quote", equity: "full", option: "ltp"]
            try await waitUntil("the simulator's Dhan feed streams all three in their modes") { try await simulator.subscribed(feed: "dhan") == expected }
            try await waitUntil("ticks of all three reach the stream") {
                let seen = try await fixture.entries().reduce(into: [String: String]()) { $0[$1.fields["tk"] ?? ""] = $1.fields["m"] }
                return seen[String(nifty)] == "quote" && seen[String(equity)] == "full" && seen[String(option)] == "ltp"
            }
            let entries = try await fixture.entries()
            #expect(entries.allSatisfy { $0.fields["br"] == "dhan" })
            let full = try #require(entries.last { $0.fields["tk"] == String(equity) })
            for field in ["lp", "ltq", "atp", "v", "tbq", "tsq", "o", "h", "l", "c", "ltt", "oi", "oih", "oil", "d", "rt"] {
                #expect(full.fields[field] != nil, "full-mode Dhan entry lacks \(field)")
            }
            let depth = try #require(full.fields["d"].flatMap(TickDepth.init(json:)))
            #expect(depth.buy.count == 5 && depth.sell.count == 5)
            #expect(depth.buy[0].price.doubleValue < depth.sell[0].price.doubleValue, "best bid below best ask")
            let index = try #require(entries.last { $0.fields["tk"] == String(nifty) })
            #expect(index.fields["ch"] != nil && index.fields["v"] == nil && index.fields["d"] == nil, "an index carries change, no quantities or depth")
            let ltp = try #require(entries.last { $0.fields["tk"] == String(option) })
            #expect(Set(ltp.fields.keys).isSubset(of: ["tk", "m", "lp", "rt", "ltt", "br"]))
            let status = await fixture.feed.status()
            #expect(status.connections.map(\.broker) == ["dhan"])
            #expect(status.connections.map(\.state) == ["streaming"])

            // Incremental: unsubscribing one and changing another's mode leaves the third alone.
            let untouched = try #require(try await simulator.connections(feed: "dhan").first?.id)
            await fixture.feed.unsubscribe([option])
            await fixture.feed.setMode(.ltp, tokens: [equity])
            try await waitUntil("the change reached the broker") { try await simulator.subscribed(feed: "dhan") == [nifty: "quote", equity: "ltp"] }
            #expect(try await simulator.connections(feed: "dhan").map(\.id) == [untouched], "no reconnect for a change")
        }
    }

    @Test("a Dhan drop and a stall are detected within FEED_STALE_SECONDS and every instrument comes back in its mode")
    func dropAndStall() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(4)
        var configuration = testConfiguration([testDhanAccount(simulator, connections: 2)])
        configuration.staleAfter = .seconds(2)
        try await withFeed(configuration) { fixture in
            let modes: [KiteMode] = [.ltp, .quote, .full, .full]
            _ = try await fixture.feed.subscribe(zip(tokens, modes).map { FeedSubscription(token: $0, mode: $1) })
            let expected = Dictionary(uniqueKeysWithValues: zip(tokens, modes.map(\.rawValue)))
            try await waitUntil("streaming") { try await simulator.subscribed(feed: "dhan") == expected }

            let before = try await simulator.connections(feed: "dhan").map(\.id)
            try await simulator.admin("faults/drop", #"{"all":true,"feed":"dhan"}"#)
            try await waitUntil("new Dhan connections carry every instrument in its mode") {
                let now = try await simulator.connections(feed: "dhan").map(\.id)
                let subscribed = try await simulator.subscribed(feed: "dhan")
                return Set(now).isDisjoint(with: before) && now.count == 2 && subscribed == expected
            }

            let stalled = try await simulator.connections(feed: "dhan").map(\.id)
            let stalledAt = ContinuousClock.now
            try await simulator.admin("faults/stall", #"{"all":true,"feed":"dhan"}"#)
            try await waitUntil("the watchdog replaced the stalled connections with every instrument", timeout: .seconds(20)) {
                let now = try await simulator.connections(feed: "dhan").map(\.id)
                let subscribed = try await simulator.subscribed(feed: "dhan")
                return Set(now).isDisjoint(with: stalled) && now.count == 2 && subscribed == expected
            }
            let detected = ContinuousClock.now - stalledAt
            print("dhan stall: replaced \(detected) after the stall (FEED_STALE_SECONDS 2)")
            #expect(detected < .seconds(2) + .seconds(4), "stale detection took \(detected)")
            let mark = try await fixture.lastID()
            try await waitUntil("ticks flow again") { try await fixture.entries(after: mark).count >= 4 }
        }
    }

    @Test("Dhan's 808 stops retries until the token file changes, then the account streams")
    func credentialsRejected() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(1)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dhan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token").path
        let accountsFile = directory.appendingPathComponent("accounts.json").path
        try "expired".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try #"[{"id":"dhan","broker":"dhan","client_id":"sim_api_key","access_token_file":"\#(tokenFile)","ws_url":"\#(simulator.wsURL)/dhan","rest_url":"\#(simulator.httpURL)","max_connections":1}]"#
            .write(toFile: accountsFile, atomically: true, encoding: .utf8)
        let accounts = try AccountsFile.accounts(path: accountsFile, defaultWebSocketURL: "ws://unused", defaultRestURL: "http://unused")
        #expect(accounts.map(\.broker) == [.dhan] && accounts[0].maxConnections == 1 && accounts[0].instrumentsPerConnection == 5000)

        try await withFeed(testConfiguration(accounts)) { fixture in
            _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[0], mode: .quote)])
            try await waitUntil("the account is shown with Dhan's 808") {
                let connection = await fixture.feed.status().connections[0]
                return connection.state == "credentials_rejected" && connection.reason == "dhan_808"
            }
            let refused = try await simulator.rejections(reason: "bad_credentials")
            try await Task.sleep(for: .seconds(1))  // five re-reads of the unchanged file (every 200 ms): no attempt
            #expect(try await simulator.rejections(reason: "bad_credentials") == refused, "retried with the same token")
            #expect(refused <= 1, "one attempt, got \(refused)")

            try "sim_access_token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            try await waitUntil("the account streams with the new token") {
                let phases = await fixture.phases()
                return try await simulator.subscribed(feed: "dhan") == [tokens[0]: "quote"] && phases == ["streaming"]
            }
        }
    }

    @Test("Dhan's 804 (too many instruments) moves the excess to other connections; every instrument streams")
    func instrumentLimit() async throws {
        let simulator = try await SimulatorProcess(extraArguments: ["--dhan-max-instruments-per-connection", "100"])
        let tokens = try await Self.dhanTokens(simulator, 250)
        // The account believes Dhan's 5,000; the broker allows 100 per connection on this day.
        var configuration = testConfiguration([testDhanAccount(simulator, connections: 2), testAccount(simulator, id: "kite", connections: 1)])
        configuration.placement = .ordered
        try await withFeed(configuration) { fixture in
            _ = try await fixture.feed.subscribe(tokens.map { FeedSubscription(token: $0, mode: .ltp) })
            try await waitUntil("all 250 stream: 100 on each Dhan connection, the rest on Kite", timeout: .seconds(30)) {
                let dhan = try await simulator.subscribed(feed: "dhan")
                let kite = try await simulator.subscribed(feed: "kite")
                let counts = try await simulator.connections(feed: "dhan").map(\.subscribed).sorted()
                return Set(dhan.keys).union(kite.keys) == Set(tokens) && dhan.count == 200 && kite.count == 50 && counts == [100, 100]
            }
            let status = await fixture.feed.status()
            #expect(status.subscribedInstruments == 250)
            #expect(status.connections.filter { $0.broker == "dhan" }.map(\.capacity) == [100, 100], "the broker's limit is remembered")
        }
    }

    @Test("25,000 instruments over 5 Dhan connections of one client id")
    func twentyFiveThousand() async throws {
        // One packet per instrument every 5 s is 5,000 WebSocket messages a second from a debug simulator into a debug
        // decoder on two cores; faster starved the simulator's admin API on CI. The load itself is `make bench`'s.
        let simulator = try await SimulatorProcess(tickIntervalMs: 5000)
        let tokens = try await Self.dhanTokens(simulator, 25_000)
        var configuration = testConfiguration([testDhanAccount(simulator)])
        configuration.ticksBufferFrames = 4096
        // Each connection hears from the broker once per 5 s interval and Dhan's pings are invisible, so the suite's 2 s
        // staleness would replace every connection between two looks at the simulator (CI saw the sets differ).
        configuration.staleAfter = .seconds(30)
        try await withFeed(configuration) { fixture in
            for batch in tokens.chunked(5000) { _ = try await fixture.feed.subscribe(batch.map { FeedSubscription(token: $0, mode: .ltp) }) }
            try await waitUntil("the simulator streams 5 × 5,000", timeout: .seconds(60)) {
                try await simulator.connections(feed: "dhan").map(\.subscribed) == [5000, 5000, 5000, 5000, 5000]
            }
            #expect(Set(try await simulator.subscribed(feed: "dhan").keys) == Set(tokens))
            // Every instrument ticks into the stream.
            var seen = Set<UInt32>()
            var cursor = "-"
            try await waitUntil("every one of the 25,000 has a tick in the stream", timeout: .seconds(90), every: .milliseconds(500)) {
                while true {
                    let page = try await fixture.entries(after: cursor, count: 20_000)
                    guard let last = page.last else { break }
                    cursor = last.id
                    for entry in page { if let token = entry.fields["tk"].flatMap(UInt32.init) { seen.insert(token) } }
                }
                return seen.isSuperset(of: tokens)
            }
            let status = await fixture.feed.status()
            #expect(status.connections.map(\.instruments) == [5000, 5000, 5000, 5000, 5000])
            print("dhan 25,000: published \(fixture.publisher.ticksPublished) ticks, dropped \(fixture.publisher.sink.ticksDropped) in the buffer")
        }
    }
}

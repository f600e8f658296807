import BrokerWire
import Foundation
import Shared
import Synchronization
import Testing
import TestSupport

@testable import TickerService

@Suite("Feed: broker sessions against the simulator")
struct FeedTests {
    @Test("subscribe in three modes, ticks reach Redis, unsubscribe and mode change are incremental")
    func subscribeStreamUnsubscribeMode() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(3)
        try #require(tokens.count == 3)
        let (ltp, quote, full) = (tokens[0], tokens[1], tokens[2])
        try await withFeed(testConfiguration([testAccount(simulator)])) { fixture in
            let placements = try await fixture.feed.subscribe([
                FeedSubscription(token: ltp, mode: .ltp), FeedSubscription(token: quote, mode: .quote), FeedSubscription(token: full, mode: .full),
            ])
            #expect(placements.map(\.token) == [ltp, quote, full])
            #expect(Set(placements.map(\.accountID)) == ["primary"])
            // Least-loaded: three instruments land on three connections.
            #expect(Set(placements.map(\.connectionID)).count == 3)

            try await waitUntil("the simulator streams the three tokens in their modes") {
                try await simulator.subscribed() == [ltp: "ltp", quote: "quote", full: "full"]
            }
            try await waitUntil("ticks of all three reach the stream") {
                let seen = try await fixture.entries().reduce(into: [String: String]()) { $0[$1.fields["tk"] ?? ""] = $1.fields["m"] }
                return seen[String(ltp)] == "ltp" && seen[String(quote)] == "quote" && seen[String(full)] == "full"
            }
            let fullEntry = try #require(try await fixture.entries().last { $0.fields["tk"] == String(full) })
            for field in ["lp", "ltq", "atp", "v", "tbq", "tsq", "o", "h", "l", "c", "ltt", "oi", "ets", "d", "rt"] {
                #expect(fullEntry.fields[field] != nil, "full-mode entry lacks \(field)")
            }
            #expect(fullEntry.fields["lp"]?.contains(".") == true)
            // The broker's first frame after a subscribe is in its default mode (quote), before the mode message lands.
            let ltpEntry = try #require(try await fixture.entries().last { $0.fields["tk"] == String(ltp) && $0.fields["m"] == "ltp" })
            #expect(Set(ltpEntry.fields.keys) == ["tk", "m", "lp", "rt", "br"])
            let snapshot = try await fixture.quote(full)
            #expect(snapshot["m"] == "full")
            #expect(snapshot["d"]?.hasPrefix("{\"b\":[[") == true)

            // Unsubscribe one: gone from the simulator; the others keep streaming on their connections.
            let sessionsBefore = fixture.feed.connections.map(\.sessionCount)
            await fixture.feed.unsubscribe([quote])
            try await waitUntil("the simulator no longer streams the removed token") {
                try await simulator.subscribed() == [ltp: "ltp", full: "full"]
            }
            // Frames already in flight may still carry the removed token; move the mark past them until they drain.
            let mark = Mutex(try await fixture.lastID())
            try await waitUntil("the remaining tokens keep streaming") {
                let after = try await fixture.entries(after: mark.withLock { $0 })
                let tokensAfter = after.compactMap { $0.fields["tk"] }
                if tokensAfter.contains(String(quote)), let last = after.last?.id {
                    mark.withLock { $0 = last }
                    return false
                }
                return tokensAfter.contains(String(ltp)) && tokensAfter.contains(String(full))
            }

            // Mode change: ltp → full, without reconnecting anything.
            await fixture.feed.setMode(.full, tokens: [ltp])
            try await waitUntil("the simulator streams the token in its new mode") {
                try await simulator.subscribed() == [ltp: "full", full: "full"]
            }
            try await waitUntil("full-mode ticks of the token arrive") {
                let snapshot = try await fixture.quote(ltp)
                return snapshot["m"] == "full" && snapshot["d"] != nil
            }
            #expect(fixture.feed.connections.map(\.sessionCount) == sessionsBefore, "an incremental change reconnected a connection")
            let status = await fixture.feed.status()
            #expect(status.running)
            #expect(status.subscribedInstruments == 2)
            #expect(status.capacity == 9000)
        }
    }

    @Test("placement spreads over two accounts (least-loaded) and refuses, all-or-nothing, when full")
    func placementAndCapacity() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(6)
        try #require(tokens.count == 6)
        let accounts = [
            testAccount(simulator, id: "a", connections: 1, perConnection: 2),
            testAccount(simulator, id: "b", apiKey: "sim_api_key_2", accessToken: "sim_access_token_2", connections: 1, perConnection: 2),
        ]
        try await withFeed(testConfiguration(accounts)) { fixture in
            let first = try await fixture.feed.subscribe([FeedSubscription(token: tokens[0], mode: .quote), FeedSubscription(token: tokens[1], mode: .quote)])
            #expect(Set(first.map(\.accountID)) == ["a", "b"])
            let third = try await fixture.feed.subscribe([FeedSubscription(token: tokens[2], mode: .ltp)])
            #expect(third.count == 1)

            // One slot left, two asked: nothing is placed.
            await #expect(throws: FeedError.self) {
                try await fixture.feed.subscribe([FeedSubscription(token: tokens[3], mode: .ltp), FeedSubscription(token: tokens[4], mode: .ltp)])
            }
            do throws(FeedError) {
                _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[3], mode: .ltp), FeedSubscription(token: tokens[4], mode: .ltp)])
            } catch {
                #expect(error.code == .capacityExhausted)
                #expect(error.message.contains("3 of 4"), "\(error.message)")
            }
            #expect(await fixture.feed.status().subscribedInstruments == 3)
            #expect(fixture.feed.placement(of: tokens[3]) == nil)

            // The last slot, and an existing token changing mode while full.
            _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[3], mode: .full), FeedSubscription(token: tokens[0], mode: .full)])
            await #expect(throws: FeedError.self) { try await fixture.feed.subscribe([FeedSubscription(token: tokens[5], mode: .ltp)]) }
            try await waitUntil("the simulator streams four tokens over the two keys") {
                let subscribed = try await simulator.subscribed()
                let keys = Set(try await simulator.connections().filter { $0.subscribed > 0 }.map(\.apiKey))
                return subscribed.count == 4 && subscribed[tokens[0]] == "full" && keys == ["sim_api_key", "sim_api_key_2"]
            }
            let status = await fixture.feed.status()
            #expect(status.connections.map(\.instruments) == [2, 2])
        }
    }

    @Test("a dropped connection reconnects and every instrument comes back in its mode")
    func reconnectAfterDrop() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(4)
        try await withFeed(testConfiguration([testAccount(simulator, connections: 2)])) { fixture in
            let modes: [KiteMode] = [.ltp, .quote, .full, .full]
            _ = try await fixture.feed.subscribe(zip(tokens, modes).map { FeedSubscription(token: $0, mode: $1) })
            let expected = Dictionary(uniqueKeysWithValues: zip(tokens, modes.map(\.rawValue)))
            try await waitUntil("streaming") { try await simulator.subscribed() == expected }
            let before = try await simulator.connections().map(\.id)

            try await simulator.admin("faults/drop", #"{"all":true}"#)
            try await waitUntil("new connections carry every instrument in its mode") {
                let now = try await simulator.connections().map(\.id)
                let subscribed = try await simulator.subscribed()
                return Set(now).isDisjoint(with: before) && now.count == 2 && subscribed == expected
            }
            #expect(fixture.feed.connections.filter { $0.sessionCount >= 2 }.count == 2)
            let mark = try await fixture.lastID()
            try await waitUntil("ticks flow again") { try await fixture.entries(after: mark).count >= 4 }
        }
    }

    @Test("the watchdog reconnects a stalled connection")
    func watchdogReconnectsStall() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(2)
        try await withFeed(testConfiguration([testAccount(simulator, connections: 1)])) { fixture in
            _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[0], mode: .full), FeedSubscription(token: tokens[1], mode: .ltp)])
            let expected: [UInt32: String] = [tokens[0]: "full", tokens[1]: "ltp"]
            try await waitUntil("streaming") { try await simulator.subscribed() == expected }
            let stalledID = try #require(try await simulator.connections().first?.id)

            try await simulator.admin("faults/stall", #"{"all":true}"#)
            try await waitUntil("a new connection replaces the stalled one with every instrument") {
                let connections = try await simulator.connections()
                let subscribed = try await simulator.subscribed()
                return connections.count == 1 && connections[0].id != stalledID && subscribed == expected
            }
            #expect(fixture.feed.connections[0].sessionCount >= 2)
            try await waitUntil("streaming again") { await fixture.phases() == ["streaming"] }
        }
    }

    @Test(
        "a broker that never answers the upgrade: each attempt is abandoned after the handshake timeout and retried, and shutdown does not wait for one",
        .timeLimit(.minutes(2))
    )
    func silentBrokerHandshake() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let account = BrokerAccount(
            id: "silent", webSocketURL: "ws://127.0.0.1:\(silent.port)", restURL: "http://127.0.0.1:\(silent.port)", maxConnections: 1,
            instrumentsPerConnection: 3000, credentialSource: .fixed(BrokerCredentials(apiKey: "sim_api_key", accessToken: "sim_access_token"))
        )
        var configuration = testConfiguration([account])
        configuration.handshakeTimeout = .milliseconds(300)
        try await withFeed(configuration) { fixture in
            _ = try await fixture.feed.subscribe([FeedSubscription(token: 256_265, mode: .ltp)])
            try await waitUntil("three attempts, each abandoned and retried") { silent.connectionCount >= 3 }
            #expect(fixture.feed.connections[0].sessionCount == 0, "no attempt may count as an open socket")
        }

        // A handshake far from its timeout still ends when the service shuts down (the time limit fails a hang).
        configuration.handshakeTimeout = .seconds(600)
        let before = silent.connectionCount
        try await withFeed(configuration) { fixture in
            _ = try await fixture.feed.subscribe([FeedSubscription(token: 256_265, mode: .ltp)])
            try await waitUntil("an attempt hangs in the upgrade") { silent.connectionCount > before }
            try await Task.sleep(for: .milliseconds(200))
            #expect(await fixture.phases() == ["connecting"])
        }
    }

    @Test("bad credentials mark the account forbidden without a retry storm; a new token in the accounts file recovers")
    func forbiddenAndTokenRotation() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(2)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).json").path
        @Sendable func write(token: String) throws {
            let json = #"[{"id":"rotating","api_key":"sim_api_key","access_token":"\#(token)","ws_url":"\#(simulator.wsURL)","rest_url":"\#(simulator.httpURL)","max_connections":1}]"#
            try json.write(toFile: file, atomically: true, encoding: .utf8)
        }
        try write(token: "expired_token")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let accounts = try AccountsFile.accounts(path: file, defaultWebSocketURL: "ws://unused", defaultRestURL: "http://unused")
        #expect(accounts.map(\.id) == ["rotating"])
        #expect(accounts[0].webSocketURL == simulator.wsURL)

        try await withFeed(testConfiguration(accounts)) { fixture in
            _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[0], mode: .quote)])
            try await waitUntil("the account is shown forbidden") {
                await fixture.feed.status().forbiddenAccounts == ["rotating"]
            }
            // With a 50 ms base delay a storm would make dozens of attempts here; the forbidden account makes none.
            let rejected = try await simulator.rejections(reason: "bad_credentials")
            for _ in 0..<20 {
                try await Task.sleep(for: .milliseconds(50))
                _ = await fixture.feed.status()
            }
            #expect(try await simulator.rejections(reason: "bad_credentials") == rejected)
            #expect(rejected <= 2, "an upgrade and one status probe at most, got \(rejected)")
            do throws(FeedError) {
                _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[1], mode: .quote)])
                Issue.record("a forbidden account took a new instrument")
            } catch {
                #expect(error.code == .noUsableAccount)
            }

            // The daily token arrives in the file: no restart needed.
            try write(token: "sim_access_token")
            try await waitUntil("the account streams with the new token") {
                let subscribed = try await simulator.subscribed()
                let phases = await fixture.phases()
                return subscribed == [tokens[0]: "quote"] && phases == ["streaming"]
            }
        }
    }

    @Test("429 at the upgrade backs off and recovers")
    func rateLimitedThenRecovers() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(1)
        try await withFeed(testConfiguration([testAccount(simulator, connections: 1)])) { fixture in
            // Refuse until the test lifts it, so a slow machine cannot miss the refusal window.
            try await simulator.admin("faults/refuse", #"{"seconds":120}"#)
            _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[0], mode: .ltp)])
            try await waitUntil("the connection is refused and backs off") {
                let refused = try await simulator.rejections(reason: "refuse_fault")
                let phases = await fixture.phases()
                return refused >= 1 && phases == ["backoff"]
            }
            // The test's 300 ms floor after a 429 (each attempt is refused twice: the upgrade and the status probe)
            // allows at most about 2 × (2 s / 300 ms + 1) refusals in 2 s: a steady back-off, not a storm.
            let before = try await simulator.rejections(reason: "refuse_fault")
            try await Task.sleep(for: .seconds(2))
            let during = try await simulator.rejections(reason: "refuse_fault") - before
            #expect(during <= 16, "\(during) refused attempts in 2 s")
            try await simulator.admin("faults/reset", "{}")
            try await waitUntil("it connects once the refusal ends") {
                (try await simulator.subscribed()) == [tokens[0]: "ltp"]
            }
        }
    }

    @Test("account configuration: accounts file and environment")
    func accountConfiguration() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-\(UUID().uuidString).json").path
        let tokenFile = file + ".token"
        try "  tok_from_file\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try #"{"accounts":[{"id":"a","api_key":"k1","access_token":"t1"},{"id":"b","api_key":"k2","access_token_file":"\#(tokenFile)","instruments_per_connection":100}]}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: tokenFile)
        }
        let source = try ConfigSourceFixture.make(["ACCOUNTS_FILE": file, "BROKER_WS_URL": "ws://h:1", "FEED_STALE_SECONDS": "3", "FEED_HANDSHAKE_TIMEOUT_SECONDS": "4.5"])
        let configuration = try FeedConfiguration(source: source)
        #expect(configuration.accounts.map(\.id) == ["a", "b"])
        #expect(configuration.accounts[1].instrumentsPerConnection == 100)
        #expect(configuration.accounts[0].webSocketURL == "ws://h:1")
        #expect(try configuration.accounts[1].loadCredentials().accessToken == "tok_from_file")
        #expect(configuration.staleAfter == .seconds(3))
        #expect(configuration.handshakeTimeout == .milliseconds(4500))
        #expect(FeedConfiguration(accounts: []).handshakeTimeout == .seconds(10))
        #expect(throws: ConfigError.self) { try FeedConfiguration(source: try ConfigSourceFixture.make(["FEED_HANDSHAKE_TIMEOUT_SECONDS": "0"])) }
        #expect(!"\(try configuration.accounts[0].loadCredentials())".contains("t1"))
        #expect(!(source.printableValues(declared: FeedConfiguration.declaredKeys).map(\.value) + [configuration.accountsSummary]).joined().contains("k1"))

        let dev = try FeedConfiguration(source: try ConfigSourceFixture.make([:]))
        #expect(dev.accounts.map(\.id) == ["primary"])
        #expect(try dev.accounts[0].loadCredentials() == FeedConfiguration.simulatorCredentials)
        #expect(throws: (any Error).self) { try FeedConfiguration(source: try ConfigSourceFixture.make(["ENVIRONMENT": "production"])) }
    }
}

enum ConfigSourceFixture {
    static func make(_ environment: [String: String]) throws -> Shared.ConfigSource {
        try Shared.ConfigSource(environment: environment, dotEnvPath: nil)
    }
}

import Foundation
import BrokerWire
import ServiceRuntime
import Shared
import TickerAPIModel
import Testing
import TestSupport

@testable import TickerService

/// A store that only answers how many subscriptions are active (the feed tests have no database).
struct ActiveCountStore: SubscriptionStore {
    var active: Int
    func subscription(token: Int64) async throws -> SubscriptionRecord? { nil }
    func subscriptions(tokens: [Int64]) async throws -> [Int64: SubscriptionRecord] { [:] }
    func list(activeOnly: Bool, after: Int64?, limit: Int?) async throws -> [SubscriptionRecord] { [] }
    func activeCount() async throws -> Int { active }
    func apply(_ writes: [SubscriptionWrite], events: [OutboxEventDraft]) async throws -> [Int64: SubscriptionRecord] { [:] }
    func recordPlacements(_ placements: [(token: Int64, accountID: String, connectionID: Int)]) async throws {}
}

struct EmptyInstruments: InstrumentRepository {
    func count() async throws -> Int { 0 }
    func store(_ instruments: [KiteInstrument]) async throws -> Int { 0 }
}

/// Defect 5 of issue 9: `/health` said `streaming` and `ok` during a broker stall until the watchdog fired, and `ok`
/// with every connection in 429 backoff.
@Suite("TickerService feed health", .serialized)
struct FeedHealthTests {
    /// `/health`'s JSON for a real feed (no dependency checks, so only the feed decides the status).
    static func health(_ feed: FeedManager, active: Int) async throws -> (status: String, connections: [[String: Any]]) {
        let health = TickerHealth(environment: .test, checks: [], feed: feed, subscriptions: ActiveCountStore(active: active), instruments: EmptyInstruments())
        let body = await health.report().body
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(body)) as? [String: Any])
        let ticker = try #require(json["ticker"] as? [String: Any])
        return (json["status"] as? String ?? "", ticker["connections"] as? [[String: Any]] ?? [])
    }

    @Test("a silent connection shows stale (with its silence) before the watchdog fires, and the service degraded")
    func staleBeforeWatchdog() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(1)
        var configuration = testConfiguration([testAccount(simulator, connections: 1)])
        configuration.staleAfter = .seconds(8)  // stale shows at 2 s, the watchdog fires at 8 s
        try await withFeed(configuration) { fixture in
            _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[0], mode: .ltp)])
            try await waitUntil("streaming and ok") {
                let report = try await Self.health(fixture.feed, active: 1)
                return report.status == "ok" && report.connections.first?["state"] as? String == "streaming"
            }
            let streaming = try await Self.health(fixture.feed, active: 1).connections[0]
            let age = try #require(streaming["last_message_age_ms"] as? Int)
            #expect(age < 2_000)

            try await simulator.admin("faults/stall", #"{"all":true,"seconds":30}"#)
            var stale: [String: Any] = [:]
            var status = ""
            // Before the fix the state stayed `streaming` until the watchdog replaced the connection: never `stale`.
            try await waitUntil("the connection shows stale") {
                let report = try await Self.health(fixture.feed, active: 1)
                stale = report.connections.first ?? [:]
                status = report.status
                return stale["state"] as? String == "stale"
            }
            #expect((stale["last_message_age_ms"] as? Int ?? 0) >= 2_000)
            #expect(status == "degraded")
        }
    }

    @Test("429 on the upgrade shows backoff with reason http_429 and the next attempt; the service is degraded")
    func rateLimitedBackoff() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(1)
        var configuration = testConfiguration([testAccount(simulator, connections: 1)])
        configuration.rateLimitedMinDelay = .seconds(3)
        try await withFeed(configuration) { fixture in
            try await simulator.admin("faults/refuse", #"{"seconds":120}"#)
            _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[0], mode: .ltp)])
            var connection: [String: Any] = [:]
            var status = ""
            try await waitUntil("the connection backs off") {
                let report = try await Self.health(fixture.feed, active: 1)
                connection = report.connections.first ?? [:]
                status = report.status
                return connection["state"] as? String == "backoff"
            }
            #expect(connection["reason"] as? String == "http_429")
            let next = try #require(connection["next_attempt_at"] as? Double)
            #expect(next > Date().timeIntervalSince1970)
            #expect((connection["next_attempt_in_ms"] as? Int ?? 0) > 0)
            #expect(status == "degraded")
            try await simulator.admin("faults/reset", "{}")
            try await waitUntil("streaming and ok again", timeout: .seconds(20)) {
                let report = try await Self.health(fixture.feed, active: 1)
                return report.status == "ok" && report.connections.first?["state"] as? String == "streaming"
            }
        }
    }

    @Test("403 on the upgrade shows credentials_rejected and the service degraded")
    func credentialsRejected() async throws {
        let simulator = try await SimulatorProcess()
        let tokens = try await simulator.equityTokens(1)
        try await withFeed(testConfiguration([testAccount(simulator, accessToken: "expired_token", connections: 1)])) { fixture in
            _ = try await fixture.feed.subscribe([FeedSubscription(token: tokens[0], mode: .ltp)])
            var connection: [String: Any] = [:]
            var status = ""
            try await waitUntil("the connection shows credentials_rejected") {
                let report = try await Self.health(fixture.feed, active: 1)
                connection = report.connections.first ?? [:]
                status = report.status
                return connection["state"] as? String == "credentials_rejected"
            }
            #expect(connection["reason"] as? String == "http_403")
            #expect(status == "degraded")
        }
    }

    @Test("no subscriptions and idle connections are ok; subscriptions that no connection carries are degraded")
    func degradedRule() {
        let idle = FeedConnectionStatus(accountID: "a", connectionID: 1, state: "idle", instruments: 0, capacity: 3000, lastMessageAt: nil)
        #expect(TickerHealth.feedDelivering(FeedStatus(running: true, connections: [idle], subscribedInstruments: 0, capacity: 3000), activeSubscriptions: 0))
        #expect(!TickerHealth.feedDelivering(FeedStatus(running: true, connections: [idle], subscribedInstruments: 0, capacity: 3000), activeSubscriptions: 5))
        var streaming = idle
        streaming.state = "streaming"
        streaming.instruments = 5
        var backoff = streaming
        backoff.connectionID = 2
        backoff.state = "backoff"
        let mixed = FeedStatus(running: true, connections: [streaming, backoff, idle], subscribedInstruments: 10, capacity: 9000)
        #expect(!TickerHealth.feedDelivering(mixed, activeSubscriptions: 10))
        #expect(TickerHealth.feedDelivering(FeedStatus(running: true, connections: [streaming, idle], subscribedInstruments: 5, capacity: 6000), activeSubscriptions: 5))
    }

    @Test("ENVIRONMENT=production with API_KEY_ENABLED=false logs a warning at startup (both services)")
    func productionWithoutKeysWarns() throws {
        let warning = "API_KEY_ENABLED is false in production"
        var environment = ServiceEnvironment.unreachable()
        environment["ENVIRONMENT"] = "production"
        environment["KITE_API_KEY"] = "sim_api_key"
        environment["KITE_ACCESS_TOKEN"] = "sim_access_token"
        for executable in ["TickerService", "BackendService"] {
            environment["API_KEY_ENABLED"] = "false"
            let open = try CommandRun.outputOf(executable, arguments: [], environment: environment)
            #expect(open.output.contains(warning), "\(executable) did not warn: \(open.output)")
            environment["API_KEY_ENABLED"] = "true"
            environment["API_KEY"] = "some_key"
            let closed = try CommandRun.outputOf(executable, arguments: [], environment: environment)
            #expect(!closed.output.contains(warning), "\(executable) warned with keys on: \(closed.output)")
            #expect(closed.output.contains("redis"), "\(executable) should have stopped at Redis: \(closed.output)")
        }
    }
}

import ServiceRuntime
import BrokerWire
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Shared
import SharedPostgres
import SharedRedis
import Testing
import TestSupport

@testable import TickerService

/// An in-memory broker feed for unit-level tests: records every call and places instruments on
/// `connectionsPerAccount` connections of the accounts given, `perConnection` instruments each.
actor RecordingFeed: FeedControlling {
    struct ModeCall: Sendable, Equatable {
        var mode: KiteMode
        var tokens: [UInt32]
    }

    let accounts: [String]
    let connectionsPerAccount: Int
    let perConnection: Int
    private(set) var subscribeCalls: [[FeedSubscription]] = []
    private(set) var modeCalls: [ModeCall] = []
    private(set) var unsubscribeCalls: [[UInt32]] = []
    private(set) var placed: [UInt32: FeedPlacement] = [:]
    private(set) var modes: [UInt32: KiteMode] = [:]

    init(accounts: [String] = ["primary"], connectionsPerAccount: Int = 3, perConnection: Int = 3000) {
        self.accounts = accounts
        self.connectionsPerAccount = connectionsPerAccount
        self.perConnection = perConnection
    }

    var capacity: Int { accounts.count * connectionsPerAccount * perConnection }

    func subscribe(_ subscriptions: [FeedSubscription]) async throws(FeedError) -> [FeedPlacement] {
        subscribeCalls.append(subscriptions)
        let new = subscriptions.filter { placed[$0.token] == nil }
        guard placed.count + new.count <= capacity else {
            throw FeedError(code: .capacityExhausted, message: "no room for \(new.count) instruments (\(placed.count)/\(capacity))")
        }
        var result: [FeedPlacement] = []
        for subscription in subscriptions {
            if let existing = placed[subscription.token] {
                result.append(existing)
            } else {
                let index = placed.count
                let account = subscription.preferredAccountID ?? accounts[(index / perConnection) / connectionsPerAccount % accounts.count]
                let connection = subscription.preferredConnectionID ?? (index / perConnection) % connectionsPerAccount + 1
                let placement = FeedPlacement(token: subscription.token, accountID: account, connectionID: connection)
                placed[subscription.token] = placement
                result.append(placement)
            }
            modes[subscription.token] = subscription.mode
        }
        return result
    }

    func setMode(_ mode: KiteMode, tokens: [UInt32]) async {
        modeCalls.append(ModeCall(mode: mode, tokens: tokens))
        for token in tokens where placed[token] != nil { modes[token] = mode }
    }

    func unsubscribe(_ tokens: [UInt32]) async {
        unsubscribeCalls.append(tokens)
        for token in tokens {
            placed[token] = nil
            modes[token] = nil
        }
    }

    func status() async -> FeedStatus {
        var connections: [FeedConnectionStatus] = []
        for account in accounts {
            for connection in 1...connectionsPerAccount {
                let count = placed.values.filter { $0.accountID == account && $0.connectionID == connection }.count
                connections.append(
                    FeedConnectionStatus(accountID: account, connectionID: connection, state: "streaming", instruments: count, capacity: perConnection, lastMessageAt: nil)
                )
            }
        }
        return FeedStatus(running: true, connections: connections, subscribedInstruments: placed.count, capacity: capacity)
    }
}

/// Instruments every subscription test can use (seed 003's token first).
enum SampleInstruments {
    static let niftyCall = KiteInstrument(
        instrumentToken: 13_660_418, exchangeToken: 53_361, tradingsymbol: "NIFTY25NOV24500CE", name: "NIFTY",
        expiry: KiteCalendarDate(year: 2025, month: 11, day: 25), strike: 24_500, tickSize: 0.05, lotSize: 75,
        instrumentType: "CE", segment: "NFO-OPT", exchange: "NFO"
    )
    static let niftyIndex = KiteInstrument(
        instrumentToken: 256_265, exchangeToken: 1001, tradingsymbol: "NIFTY 50", name: "NIFTY 50", expiry: nil, strike: 0,
        tickSize: 0, lotSize: 0, instrumentType: "EQ", segment: "INDICES", exchange: "NSE"
    )
    static let reliance = KiteInstrument(
        instrumentToken: 738_561, exchangeToken: 2885, tradingsymbol: "RELIANCE", name: "RELIANCE INDUSTRIES", expiry: nil, strike: 0,
        tickSize: 0.05, lotSize: 1, instrumentType: "EQ", segment: "NSE", exchange: "NSE"
    )
    static let crude = KiteInstrument(
        instrumentToken: 60_417_287, exchangeToken: 236_005, tradingsymbol: "CRUDEOIL25DECFUT", name: "CRUDEOIL",
        expiry: KiteCalendarDate(year: 2025, month: 12, day: 18), strike: 0, tickSize: 1, lotSize: 100,
        instrumentType: "FUT", segment: "MCX-FUT", exchange: "MCX"
    )
    static let all = [niftyCall, niftyIndex, reliance, crude]
}

/// Waits until the shared PostgreSQL cluster is up. Call it before spawning any child process (Redis, the simulator):
/// the cluster's startup reads `pg_config`'s output through a pipe until EOF, and a child spawned meanwhile inherits the
/// pipe's write end (TestSupport's `ChildProcess` does not close inherited descriptors), so the read never ends and
/// every test waiting for the cluster hangs.
func awaitSharedPostgres() async throws {
    _ = try await PostgresCluster.shared
}

/// One test's world: a fresh database, a Redis prefix of its own, instruments loaded, and a way to build the app.
struct TickerFixture {
    let redisURL: String
    let database: String
    let prefix: String
    let postgres: PostgresClient
    let redis: RedisClient
    var apiKey: String?

    var channels: EventChannels { EventChannels(prefix: prefix) }

    static func make(redis server: RedisServer? = nil, apiKey: String? = nil) async throws -> TickerFixture {
        try await awaitSharedPostgres()
        let redisServer: RedisServer
        if let server { redisServer = server } else { redisServer = try await RedisServer.shared }
        let database = try await PostgresCluster.shared.createDatabase()
        let postgres = PostgresClient(configuration: PostgresConfiguration(connectionString: database, poolSize: 2, applicationName: "ticker-tests"), logger: Logger(label: "tests.postgres"))
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisServer.url), logger: Logger(label: "tests.redis"))
        let fixture = TickerFixture(
            redisURL: redisServer.url, database: database, prefix: "test-\(UUID().uuidString.prefix(8))", postgres: postgres, redis: redis, apiKey: apiKey
        )
        // Apply migrations and load instruments before the app runs (what the registry would do from the broker).
        try await StoreConnections.migrate(postgres, logger: Logger(label: "tests.migrate"))
        _ = try await PostgresInstrumentRepository(postgres: postgres).store(SampleInstruments.all)
        return fixture
    }

    func close() async {
        await redis.close()
        await postgres.close()
    }

    /// Builds TickerService against this world with the given feed.
    /// The service over `feed`. `restore: false` leaves out the startup restore, for tests that count the feed's calls.
    func app(feed: RecordingFeed, relay: Bool = true, restore: Bool = true, brokerURL: String? = nil) async throws -> some ApplicationProtocol {
        var configuration = ServiceEnvironment.unreachable(except: ["REDIS_URL", "DATABASE_URL"])
        configuration[ConfigKey.redisChannelPrefix.name] = prefix
        configuration[ConfigKey.outboxPollInterval.name] = "0.2"
        if let brokerURL { configuration[ConfigKey.brokerURL.name] = brokerURL }
        if let apiKey {
            configuration[ConfigKey.apiKeyEnabled.name] = "true"
            configuration[ConfigKey.apiKey.name] = apiKey
        } else {
            configuration[ConfigKey.apiKeyEnabled.name] = "false"
        }
        return try await buildApplication(
            TestArguments(redisURL: redisURL, databaseURL: database),
            overrides: TickerOverrides(feed: feed, configuration: configuration, runOutboxRelay: relay, runRestorer: restore)
        )
    }

    /// Every entry of the events stream, decoded, in stream order.
    func streamEvents() async throws -> [(fields: [String: String], event: SubscriptionEvent)] {
        let reply = try await redis.send(["XRANGE", channels.eventsStream, "-", "+"])
        var result: [(fields: [String: String], event: SubscriptionEvent)] = []
        for entry in reply.array ?? [] {
            guard let pair = entry.array, pair.count == 2, let list = pair[1].array else { continue }
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < list.count {
                if let key = list[index].string, let value = list[index + 1].string { fields[key] = value }
                index += 2
            }
            result.append((fields, try SubscriptionEventCodec.decode(fields["event"] ?? "")))
        }
        return result
    }

    /// Polls the stream until it holds at least `count` events (bounded: about 20 s).
    func waitForStreamEvents(_ count: Int) async throws -> [(fields: [String: String], event: SubscriptionEvent)] {
        for _ in 0..<200 {
            let events = try await streamEvents()
            if events.count >= count { return events }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await streamEvents()
    }

    /// Rows of the outbox not yet published.
    func unpublishedCount() async throws -> Int {
        try await postgres.query("SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL").first?.decode(Int.self, "n") ?? 0
    }

    func outboxCount() async throws -> Int {
        try await postgres.query("SELECT count(*) AS n FROM event_outbox").first?.decode(Int.self, "n") ?? 0
    }
}

/// JSON helpers for responses.
enum TestJSON {
    static func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    static func body(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }
}

extension TestClientProtocol {
    /// POSTs a JSON body and returns the response.
    func post(_ uri: String, json: [String: Any], headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await executeRequest(uri: uri, method: .post, headers: headers, body: TestJSON.body(json))
    }

    /// Sends a request without a body and returns the response.
    func send(_ uri: String, _ method: HTTPRequest.Method, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await executeRequest(uri: uri, method: method, headers: headers, body: nil)
    }
}

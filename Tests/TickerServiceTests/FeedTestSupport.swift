import AsyncHTTPClient
import BrokerWire
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Shared
import SharedRedis
import Testing
import TestSupport

@testable import TickerService

/// The real `BrokerSimulator` binary on a free loopback port, for the feed and history tests.
final class SimulatorProcess: Sendable {
    let port: Int
    let process: ChildProcess

    var wsURL: String { "ws://127.0.0.1:\(port)" }
    var httpURL: String { "http://127.0.0.1:\(port)" }

    /// Starts it and waits until `GET /health` answers.
    init(tickIntervalMs: Int = 200, maxInstrumentsPerConnection: Int = 3000, sessionMode: String = "always", extraArguments: [String] = []) async throws {
        port = Ports.freeLoopbackPort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("feed-sim-\(port).log").path
        process = try ChildProcess(
            executable: try BuiltProducts.executable("BrokerSimulator"),
            arguments: [
                "--port", String(port), "--tick-interval-ms", String(tickIntervalMs), "--max-instruments-per-connection",
                String(maxInstrumentsPerConnection), "--session-mode", sessionMode, "--log-level", "warning",
            ] + extraArguments,
            outputPath: log
        )
        let url = httpURL
        try await waitUntil("the simulator answers /health", timeout: .seconds(60)) {
            (try? await Self.get("\(url)/health"))?.status == 200
        }
    }

    deinit { process.stopNow(grace: .seconds(2)) }

    struct HTTPAnswer: Sendable {
        var status: Int
        var body: String
    }

    static func get(_ url: String) async throws -> HTTPAnswer {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 512 << 20)
        return HTTPAnswer(status: Int(response.status.code), body: String(buffer: body))
    }

    static func post(_ url: String, json: String) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return HTTPAnswer(status: Int(response.status.code), body: String(buffer: body))
    }

    @discardableResult
    func admin(_ path: String, _ json: String = "{}") async throws -> String {
        let answer = try await Self.post("\(httpURL)/admin/\(path)", json: json)
        #expect(answer.status == 200, "POST /admin/\(path) -> \(answer.status): \(answer.body)")
        return answer.body
    }

    /// What the simulator streams, merged over all its connections of one feed (`kite` or `dhan`): token → mode.
    func subscribed(feed: String = "kite") async throws -> [UInt32: String] {
        let list = try JSONSerialization.jsonObject(with: Data(try await Self.get("\(httpURL)/admin/connections?feed=\(feed)").body.utf8)) as? [String: Any]
        var result: [UInt32: String] = [:]
        for connection in list?["connections"] as? [[String: Any]] ?? [] {
            guard let id = connection["id"] as? Int else { continue }
            let detail = try await Self.get("\(httpURL)/admin/connections/\(id)")
            guard detail.status == 200,
                  let object = try JSONSerialization.jsonObject(with: Data(detail.body.utf8)) as? [String: Any],
                  let subscriptions = object["subscriptions"] as? [String: Any]
            else { continue }
            for (mode, tokens) in subscriptions {
                for token in tokens as? [Int] ?? [] { result[UInt32(token)] = mode }
            }
        }
        return result
    }

    /// Open connections of one feed (`kite` or `dhan`): (id, api_key or client id, instruments subscribed).
    func connections(feed: String = "kite") async throws -> [(id: Int, apiKey: String, subscribed: Int)] {
        let list = try JSONSerialization.jsonObject(with: Data(try await Self.get("\(httpURL)/admin/connections?feed=\(feed)").body.utf8)) as? [String: Any]
        return (list?["connections"] as? [[String: Any]] ?? []).map {
            ($0["id"] as? Int ?? -1, $0["api_key"] as? String ?? "", $0["subscribed_count"] as? Int ?? 0)
        }
    }

    /// `broker_sim_ws_connections_rejected_total{reason=...}`.
    func rejections(reason: String) async throws -> Int {
        let text = try await Self.get("\(httpURL)/metrics").body
        var total = 0
        for line in text.split(separator: "\n") where line.hasPrefix("broker_sim_ws_connections_rejected_total") && line.contains("reason=\"\(reason)\"") {
            total += Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
        }
        return total
    }

    /// NSE equities of the simulated universe (from the instruments dump).
    func equityTokens(_ count: Int) async throws -> [UInt32] {
        let csv = try await Self.get("\(httpURL)/instruments").body
        var tokens: [UInt32] = []
        for line in csv.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: ",", omittingEmptySubsequences: false)
            guard columns.count >= 12, columns[9] == "EQ", columns[10] == "NSE", columns[11] == "NSE", let token = UInt32(columns[0]) else { continue }
            tokens.append(token)
            if tokens.count == count { break }
        }
        return tokens
    }
}

func feedTestLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["FEED_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}

/// A Dhan account on the simulator's `/dhan` feed (client id = one of the simulator's API keys).
func testDhanAccount(_ simulator: SimulatorProcess, id: String = "dhan", clientID: String = "sim_api_key", accessToken: String = "sim_access_token",
                     connections: Int = 5, perConnection: Int = 5000) -> BrokerAccount {
    BrokerAccount(
        id: id, broker: .dhan, webSocketURL: "\(simulator.wsURL)/dhan", restURL: simulator.httpURL, maxConnections: connections,
        instrumentsPerConnection: perConnection, credentialSource: .fixed(BrokerCredentials(apiKey: clientID, accessToken: accessToken))
    )
}

/// A simulator account with short timings for tests.
func testAccount(_ simulator: SimulatorProcess, id: String = "primary", apiKey: String = "sim_api_key", accessToken: String = "sim_access_token",
                 connections: Int = 3, perConnection: Int = 3000) -> BrokerAccount {
    BrokerAccount(
        id: id, webSocketURL: simulator.wsURL, restURL: simulator.httpURL, maxConnections: connections, instrumentsPerConnection: perConnection,
        credentialSource: .fixed(BrokerCredentials(apiKey: apiKey, accessToken: accessToken))
    )
}

func testConfiguration(_ accounts: [BrokerAccount]) -> FeedConfiguration {
    var configuration = FeedConfiguration(accounts: accounts)
    configuration.staleAfter = .seconds(2)
    configuration.reconnectBaseDelay = .milliseconds(50)
    configuration.reconnectMaxDelay = .milliseconds(500)
    configuration.rateLimitedMinDelay = .milliseconds(300)
    configuration.forbiddenRecheckInterval = .milliseconds(200)
    configuration.ticksBufferFrames = 1024
    return configuration
}

/// The pieces of a running feed.
struct FeedFixture: Sendable {
    let feed: FeedManager
    let publisher: TickPublisher
    let redis: RedisClient
    let channels: EventChannels

    func xlen() async throws -> Int {
        Int(try await redis.send(["XLEN", channels.ticksStream]).int ?? 0)
    }

    /// The stream's entries after `start` (exclusive id), as field dictionaries.
    func entries(after start: String = "-", count: Int = 5000) async throws -> [(id: String, fields: [String: String])] {
        let reply = try await redis.send(["XRANGE", channels.ticksStream, start == "-" ? "-" : "(\(start)", "+", "COUNT", String(count)])
        return (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let values = parts[1].array else { return nil }
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < values.count {
                fields[values[index].string ?? ""] = values[index + 1].string ?? ""
                index += 2
            }
            return (id, fields)
        }
    }

    func lastID() async throws -> String {
        let reply = try await redis.send(["XREVRANGE", channels.ticksStream, "+", "-", "COUNT", "1"])
        return reply.array?.first?.array?.first?.string ?? "0-0"
    }

    func quote(_ token: UInt32) async throws -> [String: String] {
        let reply = try await redis.send(["HGETALL", channels.latestQuoteKey(Int64(token))])
        var fields: [String: String] = [:]
        let values = reply.array ?? []
        var index = 0
        while index + 1 < values.count {
            fields[values[index].string ?? ""] = values[index + 1].string ?? ""
            index += 2
        }
        return fields
    }

    func phases() async -> [String] { await feed.status().connections.map(\.state) }
}

/// Runs a `FeedManager` and a `TickPublisher` (real Redis) around `body`, then shuts them down.
func withFeed<T: Sendable>(_ configuration: FeedConfiguration, _ body: @escaping @Sendable (FeedFixture) async throws -> T) async throws -> T {
    let redis = RedisClient(configuration: try RedisConfiguration(url: RedisServer.shared.url), logger: feedTestLogger("test.redis"))
    let channels = EventChannels(prefix: "test:\(UUID().uuidString.prefix(8))")
    let publisher = TickPublisher(redis: redis, channels: channels, configuration: configuration, logger: feedTestLogger("test.ticks"))
    let feed = FeedManager(configuration: configuration, sink: publisher.sink, logger: feedTestLogger("test.feed"))
    let group = ServiceGroup(configuration: .init(services: [feed, publisher], gracefulShutdownSignals: [], logger: feedTestLogger("test.group")))
    let fixture = FeedFixture(feed: feed, publisher: publisher, redis: redis, channels: channels)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let value = try await body(fixture)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            await redis.close()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            await redis.close()
            throw error
        }
    }
}

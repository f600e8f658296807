import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Logging
import SharedPostgres
import SharedRedis
import Synchronization

/// The whole system as real processes on loopback: the broker simulator, TickerService and BackendService,
/// over a real redis-server and a fresh PostgreSQL database. Each platform uses its own Redis prefix, so
/// tests sharing one redis-server never see each other's events or ticks.
public final class Platform: Sendable {
    public enum Component: String, Sendable, CaseIterable {
        case simulator = "BrokerSimulator"
        case ticker = "TickerService"
        case backend = "BackendService"
    }

    public let redisURL: String
    public let databaseURL: String
    public let prefix: String
    public let logDirectory: String
    private let ports: [Component: Int]
    private let extraEnvironment: [Component: [String: String]]
    let extraArguments: [Component: [String]]
    private let processes = Mutex<[Component: ChildProcess]>([:])
    /// More processes of a component beside the main one (``startReplica(_:name:environment:)``), by name.
    let replicas = Mutex<[String: Replica]>([:])
    /// Clients made for the test; closed at shutdown.
    let redisClients = Mutex<[RedisClient]>([])
    /// A pool on the platform's database, for assertions; closed at shutdown.
    public let postgres: PostgresClient

    private init(redisURL: String, databaseURL: String, extraEnvironment: [Component: [String: String]], extraArguments: [Component: [String]]) throws {
        self.redisURL = redisURL
        self.databaseURL = databaseURL
        self.prefix = "it:\(UUID().uuidString.prefix(8).lowercased())"
        self.logDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("platform-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        var ports: [Component: Int] = [:]
        for component in Component.allCases { ports[component] = Ports.freeLoopbackPort() }
        self.ports = ports
        self.extraEnvironment = extraEnvironment
        self.extraArguments = extraArguments
        self.postgres = PostgresClient(configuration: .init(connectionString: databaseURL, poolSize: 2), logger: Logger(label: "integration-test"))
    }

    /// Starts the given components (in dependency order) and waits for their `/health`.
    /// - Parameters:
    ///   - redisURL: The `REDIS_URL` to give every component (e.g. a Sentinel URL); `redis`'s (or the shared server's) when nil.
    ///   - database: The `DATABASE_URL` to give every component; a fresh database on the shared cluster when nil.
    public static func start(
        _ components: [Component] = Component.allCases,
        redis: RedisServer? = nil,
        redisURL: String? = nil,
        database: String? = nil,
        environment: [Component: [String: String]] = [:],
        arguments: [Component: [String]] = [:]
    ) async throws -> Platform {
        let redisAddress = redisURL ?? (redis ?? RedisServer.shared).url
        let databaseURL: String
        if let database { databaseURL = database } else { databaseURL = try await PostgresCluster.shared.createDatabase() }
        let platform = try Platform(redisURL: redisAddress, databaseURL: databaseURL, extraEnvironment: environment, extraArguments: arguments)
        for component in Component.allCases where components.contains(component) {
            try await platform.start(component)
        }
        return platform
    }

    /// Starts a platform, runs `body`, and shuts the platform down whether or not `body` throws.
    public static func with<T>(
        _ components: [Component] = Component.allCases,
        redis: RedisServer? = nil,
        redisURL: String? = nil,
        database: String? = nil,
        environment: [Component: [String: String]] = [:],
        arguments: [Component: [String]] = [:],
        _ body: (Platform) async throws -> T
    ) async throws -> T {
        let platform = try await start(
            components, redis: redis, redisURL: redisURL, database: database, environment: environment, arguments: arguments
        )
        do {
            let result = try await body(platform)
            await platform.shutdown()
            return result
        } catch {
            await platform.shutdown()
            throw error
        }
    }

    public func port(_ component: Component) -> Int { ports[component]! }
    /// The process id of a running component.
    public func pid(_ component: Component) -> Int32? { processes.withLock { $0[component]?.pid } }
    public func url(_ component: Component) -> String { "http://127.0.0.1:\(port(component))" }
    public func logPath(_ component: Component) -> String { "\(logDirectory)/\(component.rawValue).log" }

    /// The component's log, for failure messages.
    public func log(_ component: Component) -> String {
        (try? String(contentsOfFile: logPath(component), encoding: .utf8)) ?? ""
    }

    /// The environment the platform gives a component: its stores, prefix and every other service's address (a command-line
    /// tool run against the platform takes the same).
    public func environment(for component: Component) -> [String: String] {
        var environment = ServiceEnvironment.isolated([
            "ENVIRONMENT": "test",
            "REDIS_URL": redisURL,
            "DATABASE_URL": databaseURL,
            "REDIS_CHANNEL_PREFIX": prefix,
            "LOG_LEVEL": "info",
            "BROKER_URL": url(.simulator),
            "BROKER_WS_URL": "ws://127.0.0.1:\(port(.simulator))",
            "DHAN_WS_URL": "ws://127.0.0.1:\(port(.simulator))/dhan",
            "DHAN_URL": url(.simulator),
            "TICKER_URL": url(.ticker),
            "BACKFILL_SESSION": "always",
        ])
        environment.merge(extraEnvironment[component] ?? [:]) { _, new in new }
        return environment
    }

    /// Starts one component (again) on its port and waits until `/health` answers.
    public func start(_ component: Component) async throws {
        // A restart keeps the previous run's log beside the new one (KEEP_PLATFORM_LOGS=1 shows both).
        let path = logPath(component)
        if FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.removeItem(atPath: path + ".previous")
            try? FileManager.default.moveItem(atPath: path, toPath: path + ".previous")
        }
        let process = try await launch(component, port: port(component), logPath: logPath(component), environment: environment(for: component))
        processes.withLock { $0[component] = process }
    }

    /// Runs one process of a component on `port`, logging to `logPath`, and waits until it answers `/health` (and, for
    /// TickerService, until its instrument registry is loaded).
    func launch(_ component: Component, port: Int, logPath: String, environment: [String: String]) async throws -> ChildProcess {
        var arguments = ["--port", String(port)]
        switch component {
        case .simulator: arguments += ["--session-mode", "always", "--tick-interval-ms", "500"]
        case .ticker, .backend: arguments += ["--env-file", "/nonexistent/.env"]
        }
        arguments += extraArguments[component] ?? []
        let process = try ChildProcess(
            executable: BuiltProducts.executable(component.rawValue), arguments: arguments, environment: environment, outputPath: logPath
        )
        let url = "http://127.0.0.1:\(port)"
        let log = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        do {
            try await waitUntil("\(component.rawValue) on port \(port) answers /health", timeout: .seconds(90)) {
                guard process.isRunning else {
                    throw PlatformError("\(component.rawValue) exited with \(process.exitStatus ?? -1):\n\(log().suffix(3000))")
                }
                return (try? await self.send(HTTPClientRequest(url: url + "/health")).status.code) != nil
            }
            if component == .ticker {
                // The instrument registry loads the broker's dump in the background after startup.
                try await waitUntil("the ticker's instrument registry is loaded", timeout: .seconds(120)) {
                    let health = try? await self.send(HTTPClientRequest(url: url + "/health")).json()
                    let registry = (health?["dependencies"] as? [String: Any])?["instrument_registry"] as? [String: Any]
                    return (registry?["cached_instruments"] as? Int ?? 0) > 0
                }
            }
        } catch {
            await process.kill()
            throw error
        }
        return process
    }

    /// Stops a component with SIGTERM (graceful) or SIGKILL (a crash).
    public func stop(_ component: Component, crash: Bool = false) async {
        guard let process = processes.withLock({ $0.removeValue(forKey: component) }) else { return }
        if crash {
            await process.kill()
        } else {
            await process.terminate(grace: .seconds(20))
        }
    }

    /// How a component ended after SIGTERM.
    public struct GracefulStop: Sendable {
        /// Whether it exited within the time allowed.
        public var exited: Bool
        /// Its exit status (nil when it had not exited and was killed).
        public var status: Int32?
        /// From the signal to the exit (or to the end of the time allowed).
        public var elapsed: Duration
    }

    /// Sends SIGTERM to a running component and measures how long it takes to exit; one that has not exited within
    /// `within` is killed (and reported as not exited).
    public func terminate(_ component: Component, within: Duration) async -> GracefulStop {
        guard let process = processes.withLock({ $0.removeValue(forKey: component) }) else {
            return GracefulStop(exited: false, status: nil, elapsed: .zero)
        }
        let started = ContinuousClock.now
        process.signal(SIGTERM)
        let exited = await process.waitForExit(timeout: within)
        let elapsed = ContinuousClock.now - started
        let status = exited ? process.exitStatus : nil
        if !exited { await process.kill() }
        return GracefulStop(exited: exited, status: status, elapsed: elapsed)
    }

    /// Stops everything and removes the logs.
    public func shutdown() async {
        for client in redisClients.withLock({ $0 }) { await client.close() }
        await postgres.close()
        for replica in replicas.withLock({ $0.values }) { await replica.process.terminate(grace: .seconds(20)) }
        for component in Component.allCases.reversed() { await stop(component) }
        // KEEP_PLATFORM_LOGS=1 keeps the processes' logs for a look after a failure.
        if ProcessInfo.processInfo.environment["KEEP_PLATFORM_LOGS"] == nil {
            try? FileManager.default.removeItem(atPath: logDirectory)
        } else {
            print("platform logs kept in \(logDirectory)")
        }
    }

    // MARK: HTTP

    public struct Reply: Sendable {
        public var status: HTTPResponseStatus
        public var body: Data
        /// The status code as a number.
        public var statusCode: Int { Int(status.code) }
        /// The body as text, for failure messages.
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw PlatformError("not a JSON object: \(String(decoding: body, as: UTF8.self))")
            }
            return object
        }
    }

    public func get(_ component: Component, _ path: String) async throws -> Reply {
        try await send(HTTPClientRequest(url: url(component) + path))
    }

    public func post(_ component: Component, _ path: String, json: String, headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: url(component) + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: json))
        return try await send(request)
    }

    public func delete(_ component: Component, _ path: String) async throws -> Reply {
        var request = HTTPClientRequest(url: url(component) + path)
        request.method = .DELETE
        return try await send(request)
    }

    func send(_ request: HTTPClientRequest) async throws -> Reply {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: response.status, body: Data(body.readableBytesView))
    }
}

public struct PlatformError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

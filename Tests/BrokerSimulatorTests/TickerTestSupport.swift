import BrokerWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import ServiceLifecycle
import Shared
import Synchronization
import Testing
import TestSupport

@testable import BrokerSimulator

/// Arguments the tests start the simulator with (fast ticks, quiet logs, loopback, any free port).
struct TestArguments: AppArguments {
    var host = "127.0.0.1"
    var port = 0
    var seed: UInt64 = 7
    var tradingDate: String?
    var tickIntervalMilliseconds = 200
    var credentials: String?
    var maxConnectionsPerKey = 3
    var maxInstrumentsPerConnection = 3000
    var sessionMode = SessionMode.always
    var logLevel = Logger.Level.warning
    var logFormat = LogFormat.human
}

/// A running in-process simulator on a loopback port.
struct SimulatorFixture: Sendable {
    let port: Int
    let universe: InstrumentUniverse

    var kiteRoot: String { "ws://127.0.0.1:\(port)" }

    func kiteURL(apiKey: String = "sim_api_key", accessToken: String = "sim_access_token", path: String = "/") -> String {
        "\(kiteRoot)\(path)?api_key=\(apiKey)&access_token=\(accessToken)"
    }

    /// An index, an NSE equity and an NFO option from the universe.
    func sampleTokens() -> (index: UInt32, equity: UInt32, option: UInt32) {
        let instruments = universe.instruments
        let index = instruments.first { KiteSegment(token: $0.instrumentToken) == .indices }!
        let equity = instruments.first { KiteSegment(token: $0.instrumentToken) == .nse && $0.instrumentType == "EQ" }!
        let option = instruments.first { KiteSegment(token: $0.instrumentToken) == .nfo && $0.isOption }!
        return (index.instrumentToken, equity.instrumentToken, option.instrumentToken)
    }

    /// A plain HTTP request to the simulator.
    func http(
        _ method: HTTPRequest.Method,
        _ uri: String,
        headers: HTTPFields = [:],
        body: String? = nil
    ) async throws -> HTTPResult {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            let response = try await client.execute(
                .init(uri, method: method, authority: "127.0.0.1", headers: headers, body: body.map { ByteBuffer(string: $0) })
            )
            return HTTPResult(status: response.status, body: response.body.map { String(buffer: $0) } ?? "")
        }
    }

    /// Sends a WebSocket upgrade request and returns the HTTP status the server answered with.
    func upgradeStatus(apiKey: String = "sim_api_key", accessToken: String = "sim_access_token", path: String = "/") async throws -> HTTPResponse.Status {
        let headers: HTTPFields = [
            .upgrade: "websocket",
            .connection: "Upgrade",
            .secWebSocketKey: "dGhlIHNhbXBsZSBub25jZQ==",
            .secWebSocketVersion: "13",
        ]
        let response = try await http(.get, "\(path)?api_key=\(apiKey)&access_token=\(accessToken)", headers: headers)
        return response.status
    }

    /// `POST /admin/...` with a JSON body; fails the test on a non-200 answer.
    @discardableResult
    func admin(_ path: String, _ json: String = "{}") async throws -> String {
        let response = try await http(.post, "/admin/\(path)", headers: [.contentType: "application/json"], body: json)
        let text = response.body
        #expect(response.status == .ok, "POST /admin/\(path) -> \(response.status): \(text)")
        return text
    }

    /// `GET /admin/connections`, decoded.
    func connections() async throws -> [AdminConnection] {
        let response = try await http(.get, "/admin/connections")
        return try JSONDecoder().decode(AdminConnectionList.self, from: Data(response.body.utf8)).connections
    }
}

struct AdminConnectionList: Decodable {
    var count: Int
    var connections: [AdminConnection]
}

struct AdminConnection: Decodable {
    var id: Int
    var kind: String
    var api_key: String
    var subscribed_count: Int
    var tokens_by_mode: [String: Int]
    var stalled: Bool
}

/// A plain HTTP answer.
struct HTTPResult: Sendable {
    var status: HTTPResponse.Status
    var body: String
}

/// Runs `body` against a simulator started in this process, and shuts the simulator down afterwards.
@discardableResult
func withSimulator<T: Sendable>(
    _ args: TestArguments = TestArguments(),
    _ body: @escaping @Sendable (SimulatorFixture) async throws -> T
) async throws -> T {
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    let app = try await buildApplication(args) { channel in
        portContinuation.yield(channel.localAddress?.port ?? 0)
        portContinuation.finish()
    }
    let date = args.tradingDate.flatMap(TradingDate.init(iso:)) ?? TradingDate.todayIST()
    let universe = InstrumentUniverse(tradingDate: date, seed: args.seed)
    let serviceGroup = ServiceGroup(
        configuration: .init(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "test.simulator"))
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await serviceGroup.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await serviceGroup.triggerGracefulShutdown()
            throw PlatformError("simulator did not report a listening port")
        }
        do {
            let value = try await body(SimulatorFixture(port: port, universe: universe))
            await serviceGroup.triggerGracefulShutdown()
            try await group.waitForAll()
            return value
        } catch {
            await serviceGroup.triggerGracefulShutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// What a test client received, in order.
enum Received: Sendable {
    case binary([UInt8])
    case text(String)

    var isHeartbeat: Bool {
        if case .binary(let bytes) = self { return bytes.count == 1 }
        return false
    }

    var decodedTicks: [KiteTick] {
        guard case .binary(let bytes) = self, bytes.count > 1 else { return [] }
        return KiteTickerCodec.decodeFrame(bytes).ticks
    }
}

/// A WebSocket client connection under test: send text, look at what arrived, see how it ended.
final class WSProbe: Sendable {
    enum Outcome: Sendable {
        /// The handshake or the connection failed with an error (a dropped TCP connection may end this way).
        case failed(String)
        /// The connection ended; `closeCode` is nil when no close frame arrived.
        case ended(closeCode: String?)
    }

    private struct State {
        var received: [Received] = []
        var outcome: Outcome?
    }

    private let state = Mutex(State())
    private let commands: AsyncStream<String?>.Continuation

    init(commands: AsyncStream<String?>.Continuation) {
        self.commands = commands
    }

    func send(_ text: String) { commands.yield(text) }
    func send(_ request: KiteRequest) { commands.yield(request.jsonText()) }

    func record(_ message: Received) { state.withLock { $0.received.append(message) } }
    func finish(_ outcome: Outcome) { state.withLock { if $0.outcome == nil { $0.outcome = outcome } } }

    var received: [Received] { state.withLock { $0.received } }
    var count: Int { state.withLock { $0.received.count } }
    var outcome: Outcome? { state.withLock { $0.outcome } }

    /// Messages received after index `start`.
    func received(since start: Int) -> [Received] {
        state.withLock { Array($0.received.dropFirst(start)) }
    }

    /// Ticks received after index `start`.
    func ticks(since start: Int) -> [KiteTick] {
        received(since: start).flatMap(\.decodedTicks)
    }

    fileprivate func closeLocally() { commands.yield(nil) }
}

/// Opens a WebSocket to `url`, runs `body` with a probe, then closes the connection (if still open) and returns the probe.
@discardableResult
func withWebSocket(
    _ url: String,
    _ body: @escaping @Sendable (WSProbe) async throws -> Void
) async throws -> WSProbe {
    let (commands, continuation) = AsyncStream<String?>.makeStream()
    let probe = WSProbe(commands: continuation)
    let logger = {
        var logger = Logger(label: "test.ws-client")
        logger.logLevel = .warning
        return logger
    }()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            do {
                let closeFrame = try await WebSocketClient.connect(
                    url: url,
                    configuration: .init(maxFrameSize: 1 << 22),
                    logger: logger
                ) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { inner in
                        inner.addTask {
                            for await command in commands {
                                guard let command else { return }
                                try await outbound.write(.text(command))
                            }
                        }
                        inner.addTask {
                            for try await message in inbound.messages(maxSize: 1 << 24) {
                                switch message {
                                case .binary(let buffer): probe.record(.binary(Array(buffer.readableBytesView)))
                                case .text(let text): probe.record(.text(text))
                                }
                            }
                        }
                        _ = try await inner.next()
                        inner.cancelAll()
                    }
                }
                probe.finish(.ended(closeCode: closeFrame.map { "\($0.closeCode)" }))
            } catch {
                probe.finish(.failed("\(error)"))
            }
            continuation.finish()
        }
        do {
            try await body(probe)
        } catch {
            probe.closeLocally()
            try? await group.waitForAll()
            throw error
        }
        probe.closeLocally()
        try await group.waitForAll()
    }
    return probe
}

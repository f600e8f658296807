import BrokerWire
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceRuntime
import Shared

/// The request context of the simulator's HTTP routes.
typealias SimulatorRequestContext = BasicRequestContext

/// The simulator's shared parts, built once from the arguments.
struct SimulatorComponents: Sendable {
    let settings: TickerSettings
    let tradingDate: TradingDate
    let universe: InstrumentUniverse
    let market: MarketModel
    let credentials: SimulatorCredentials
    let registry: ConnectionRegistry
    let faults: FaultInjector
    /// Historical-candle requests served (`GET /admin/historical`).
    let historicalRequests: HistoricalRequestCounter
    /// Kite historical requests allowed per API key per second (`--historical-requests-per-second`).
    let historicalRequestsPerSecond: Int
    let kite: KiteTickerServer
    let dhan: DhanFeedServer
}

/// Builds the simulator: Kite ticker WebSocket at `/` and `/ws`, Dhan v2 feed at `/dhan`, REST (Kite's instruments and
/// historical candles, Dhan's intraday candles and scrip master), `/health`, `/metrics` and the fault-control API under `/admin`.
/// - Parameters:
///   - args: Command-line or test arguments.
///   - onServerRunning: Called with the listening channel (tests read the bound port from it).
func buildApplication(
    _ args: some AppArguments,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let registry = Observability.bootstrap(service: "broker-simulator", logLevel: args.logLevel, logFormat: args.logFormat)
    var logger = Logger(label: "broker-simulator")
    logger.logLevel = args.logLevel
    let components = try buildComponents(args, logger: logger)
    logger.info(
        "Broker simulator starting",
        metadata: [
            "host": "\(args.host)", "port": "\(args.port)", "seed": "\(args.seed)",
            "trading_date": "\(components.tradingDate)", "instruments": "\(components.universe.instruments.count)",
            "tick_interval_ms": "\(args.tickIntervalMilliseconds)", "session_mode": "\(args.sessionMode.rawValue)",
        ]
    )
    let router = buildRouter(components, metricsRegistry: registry)
    let kite = components.kite
    let dhan = components.dhan
    return Application(
        router: router,
        server: .http1WebSocketUpgrade(
            configuration: .init(
                ws: .init(maxFrameSize: KiteTickerServer.maxRequestSize, autoPing: .disabled, closeTimeout: .seconds(5))
            )
        ) { head, channel, logger in
            try await webSocketUpgrade(head: head, channel: channel, kite: kite, dhan: dhan)
        },
        configuration: .init(address: .hostname(args.host, port: args.port), serverName: "broker-simulator"),
        onServerRunning: onServerRunning,
        logger: logger
    )
}

/// Builds everything the routes and WebSocket servers share.
func buildComponents(_ args: some AppArguments, logger: Logger) throws -> SimulatorComponents {
    let settings = try TickerSettings(args)
    guard (1...10_000).contains(args.historicalRequestsPerSecond) else {
        throw SimulatorConfigError(.invalid, "--historical-requests-per-second must be 1...10000, got \(args.historicalRequestsPerSecond)")
    }
    let tradingDate: TradingDate
    if let text = args.tradingDate {
        guard let parsed = TradingDate(iso: text) else {
            throw SimulatorConfigError(.invalid, "--trading-date must be yyyy-MM-dd, got '\(text)'")
        }
        tradingDate = parsed
    } else {
        tradingDate = TradingDate.todayIST()
    }
    let credentials = try args.credentials.map { try SimulatorCredentials.parse($0) } ?? .default
    let universe = InstrumentUniverse(tradingDate: tradingDate, seed: args.seed)
    let market = MarketModel(universe: universe, seed: args.seed, sessionMode: args.sessionMode)
    let registry = ConnectionRegistry()
    let faults = FaultInjector()
    let feeds = FeedContext(universe: universe, market: market, credentials: credentials, registry: registry, faults: faults, settings: settings)
    return SimulatorComponents(
        settings: settings,
        tradingDate: tradingDate,
        universe: universe,
        market: market,
        credentials: credentials,
        registry: registry,
        faults: faults,
        historicalRequests: HistoricalRequestCounter(),
        historicalRequestsPerSecond: args.historicalRequestsPerSecond,
        kite: KiteTickerServer(context: feeds, logger: logger),
        dhan: DhanFeedServer(context: feeds, logger: logger)
    )
}

/// HTTP routes: health, metrics, Kite REST, admin.
func buildRouter(_ components: SimulatorComponents, metricsRegistry: PrometheusCollectorRegistry) -> Router<SimulatorRequestContext> {
    let router = Router(context: SimulatorRequestContext.self)
    let startedAt = Date()
    router.get("health") { _, _ -> SimulatorHealth in
        SimulatorHealth(
            status: "ok",
            service: "broker-simulator",
            connections: components.registry.count(),
            kiteConnections: components.registry.count(kind: .kite),
            dhanConnections: components.registry.count(kind: .dhan),
            instruments: components.universe.instruments.count,
            tradingDate: "\(components.tradingDate)",
            uptimeSeconds: Int(Date().timeIntervalSince(startedAt))
        )
    }
    router.addRoutes(MetricsController(registry: metricsRegistry).endpoints)
    router.addRoutes(InstrumentsController(universe: components.universe).endpoints)
    router.addRoutes(
        HistoricalController(
            market: components.market,
            universe: components.universe,
            credentials: components.credentials,
            rateLimiter: HistoricalRateLimiter(requestsPerSecond: components.historicalRequestsPerSecond),
            faults: components.faults,
            counter: components.historicalRequests
        ).endpoints
    )
    router.addRoutes(
        DhanChartsController(
            source: HistoricalCandleSource(
                market: components.market, universe: components.universe, credentials: components.credentials, faults: components.faults,
                counter: components.historicalRequests
            ),
            rateLimiter: HistoricalRateLimiter(requestsPerSecond: DhanChartsController<SimulatorRequestContext>.requestsPerSecond)
        ).endpoints
    )
    router.addRoutes(DhanScripMasterController(universe: components.universe).endpoints)
    router.addRoutes(
        AdminController(registry: components.registry, faults: components.faults, historicalRequests: components.historicalRequests).endpoints,
        atPath: "/admin"
    )
    return router
}

/// `GET /health`.
struct SimulatorHealth: ResponseEncodable {
    var status: String
    var service: String
    var connections: Int
    var kiteConnections: Int
    var dhanConnections: Int
    var instruments: Int
    var tradingDate: String
    var uptimeSeconds: Int

    enum CodingKeys: String, CodingKey {
        case status, service, connections, instruments
        case kiteConnections = "kite_connections"
        case dhanConnections = "dhan_connections"
        case tradingDate = "trading_date"
        case uptimeSeconds = "uptime_seconds"
    }
}

/// Routes a WebSocket upgrade by path and turns a refusal into the right HTTP status (see ``UpgradeRejectionHandler``).
private func webSocketUpgrade(
    head: HTTPRequest,
    channel: any Channel,
    kite: KiteTickerServer,
    dhan: DhanFeedServer
) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
    let target = head.path ?? "/"
    let query = target.queryParameters
    let rejection: UpgradeRejection
    switch target.pathWithoutQuery {
    case "/", "", "/ws":
        switch kite.accept(query: query, channel: channel) {
        case .success(let connection):
            return .upgrade([:]) { inbound, outbound, _ in
                await kite.serve(connection, inbound: inbound, outbound: outbound)
            }
        case .failure(let refusal):
            rejection = refusal
        }
    case "/dhan", "/dhan/":
        switch dhan.accept(query: query, channel: channel) {
        case .success(.serve(let connection)):
            return .upgrade([:]) { inbound, outbound, _ in
                await dhan.serve(connection, inbound: inbound, outbound: outbound)
            }
        case .success(.disconnect(let reason)):
            return .upgrade([:]) { _, outbound, _ in
                await dhan.refuse(reason, outbound: outbound)
            }
        case .failure(let refusal):
            rejection = refusal
        }
    default:
        rejection = .init(status: .notFound, message: "no WebSocket endpoint at \(target.pathWithoutQuery)", errorType: "GeneralException")
    }
    try await channel.eventLoop.submit {
        try channel.pipeline.syncOperations.addHandler(UpgradeRejectionHandler(rejection))
    }.get()
    return .dontUpgrade
}

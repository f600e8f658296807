import AsyncHTTPClient
import Hummingbird
import Logging
import ServiceLifecycle
import ServiceRuntime
import Shared
import SharedPostgres
import SharedRedis

/// Wires BackendService: configuration, Redis, PostgreSQL (migrated), event consumption and backfill, bars from
/// ticks, and the HTTP routes.
/// - Parameters:
///   - args: Command-line arguments (tests pass their own).
///   - configuration: Values that win over flags and the environment, keyed by environment-variable name (tests).
///   - inspectRouter: Called with the router once every route is on it (the route/spec test lists its routes).
func buildApplication(
    _ args: some AppArguments, configuration: [String: String] = [:], inspectRouter: (Router<BasicRequestContext>) -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let (config, printable) = try BackendConfiguration.load(source: args.common.configSource(extraFlags: configuration))
    let registry = Observability.bootstrap(service: BackendConfiguration.serviceName, logLevel: config.common.logLevel, logFormat: config.common.logFormat)
    let logger = Logger(label: BackendConfiguration.serviceName)
    logger.info("starting", metadata: .init(uniqueKeysWithValues: printable.map { ($0.key, .string($0.value)) }))
    config.common.warnIfUnauthenticated(logger: logger)

    let redis = try await StoreConnections.redis(url: config.common.redisURL, logger: Logger(label: "\(BackendConfiguration.serviceName).redis"))
    let postgres = try await StoreConnections.postgres(
        url: config.common.databaseURL, poolSize: config.common.databasePoolSize,
        applicationName: BackendConfiguration.serviceName, logger: Logger(label: "\(BackendConfiguration.serviceName).postgres")
    )
    try await StoreConnections.migrate(postgres, logger: logger)

    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
    let events = EventBackfillComponents.make(configuration: config.backfill, redis: redis, postgres: postgres, httpClient: httpClient, logger: logger)
    try await events.register()
    let ticker = TickerClient(baseURL: config.backfill.tickerURL, apiKey: config.backfill.tickerAPIKey, httpClient: httpClient, logger: logger)
    let chains = OptionChainRepository(postgres: postgres)
    let market = config.market
    let smart = SmartSubscriptionManager(
        ticker: ticker, chains: chains,
        settings: .init(waitTimeout: market.smartSubscriptionWaitTimeout, cacheTTL: market.smartSubscriptionCacheTTL, pollInterval: market.smartSubscriptionPollInterval),
        logger: Logger(label: "\(BackendConfiguration.serviceName).smart-subscription")
    )
    let prices = UnderlyingPriceResolver(redis: redis, channels: config.common.channels, chains: chains, ticker: ticker, logger: logger)

    let checks: [any DependencyCheck] = [
        ClosureDependencyCheck(name: "redis") { try await redis.ping() },
        ClosureDependencyCheck(name: "database") { try await postgres.ping() },
    ]
    let router = buildRouter(
        health: HealthController(environment: config.common.environment, checks: checks),
        metrics: MetricsController(registry: registry)
    )
    events.addRoutes(to: router, webhookCredentials: config.webhookCredentials)
    // The backlog of every group this process consumes, and the stream rates the status page plots.
    var consumed: [StreamBacklogMonitor.Watched] = []
    if config.backfill.eventsEnabled {
        consumed.append(.init(stream: config.common.channels.eventsStream, group: config.backfill.consumerGroup))
    }
    if market.tickBarsEnabled {
        consumed.append(.init(stream: config.common.channels.ticksStream, group: market.tickBarsConsumerGroup))
    }
    if config.repair.enabled {
        consumed.append(.init(stream: config.common.channels.feedGapsStream, group: config.repair.consumerGroup))
    }
    let backlog = consumed.isEmpty
        ? nil : StreamBacklogMonitor(redis: redis, groups: consumed, logger: Logger(label: "\(BackendConfiguration.serviceName).backlog"))
    let throughput = ThroughputHistory(
        redis: redis, ticksStream: config.common.channels.ticksStream, eventsStream: config.common.channels.eventsStream,
        logger: Logger(label: "\(BackendConfiguration.serviceName).throughput")
    )
    router.addRoutes(
        StatusController<BasicRequestContext>(
            environment: config.common.environment, checks: checks, ticker: ticker, backlog: backlog, throughput: throughput,
            backfill: events.backfillStatus(BasicRequestContext.self)
        ).endpoints
    )
    router.addRoutes(
        BarsController<BasicRequestContext>(
            repository: BarRepository(postgres: postgres, repairWindow: config.repair.window), maxPoints: market.barsMaxPoints, logger: logger
        ).endpoints
    )
    router.addRoutes(
        StrikeDistributionController<BasicRequestContext>(
            chains: chains, smartSubscription: smart, prices: prices,
            settings: .init(smartSubscriptionEnabled: market.smartSubscriptionEnabled, strikes: market.smartSubscriptionStrikes), logger: logger
        ).endpoints
    )
    // /api/v2 (seed 004, docs/tiers.md): instruments, option chains, watchlists, tiers, admin; the quote stream below.
    let terminal = TierComponents(
        configuration: config, redis: redis, postgres: postgres, ticker: ticker, prices: prices,
        logger: Logger(label: "\(BackendConfiguration.serviceName).tiers")
    )
    terminal.addRoutes(to: router, credentials: config.apiCredentials)
    // Blocking XREADGROUP on the tick stream needs its own connection.
    let ticksRedis = try await StoreConnections.redis(url: config.common.redisURL, logger: Logger(label: "\(BackendConfiguration.serviceName).ticks"))
    // The quote stream's blocking XREAD needs another (it reads every tick, outside the consumer group).
    let streamRedis = RedisClient(configuration: redis.configuration, logger: Logger(label: "\(BackendConfiguration.serviceName).stream"))
    let stream = StreamComponents(
        configuration: config, ticksRedis: streamRedis, quotes: terminal.quotes, watchlists: terminal.watchlists, use: terminal.tiers,
        logger: Logger(label: "\(BackendConfiguration.serviceName).stream")
    )
    stream.addRoutes(to: router)
    router.addMethodNotAllowedFallback()
    inspectRouter(router)

    let repair = RepairComponents(
        configuration: config.repair, channels: config.common.channels, redis: redis, postgres: postgres, candles: events.candles,
        backfillDepth: { [queue = events.queue] in queue.depth }, consumerName: config.backfill.consumerName,
        logger: Logger(label: "\(BackendConfiguration.serviceName).repair")
    )
    // Services stop in reverse order: the hook is first so it closes the clients after every worker has finished.
    var services: [any Service] = [ShutdownHook {
        await events.close()
        await ticksRedis.close()
        await streamRedis.close()
        await repair.close()
        try? await httpClient.shutdown()
        await redis.close()
        await postgres.close()
    }]
    services += events.services
    // What the alerts and the status page read without anyone asking /health.
    services += [DependencyMonitor(checks: checks, logger: Logger(label: "\(BackendConfiguration.serviceName).dependencies")), throughput]
    if let backlog { services.append(backlog) }
    if market.tickBarsEnabled {
        services.append(
            TickBarConsumer(
                redis: ticksRedis, writer: TickBarWriter(postgres: postgres, suspectDelay: config.repair.delay),
                settings: .init(
                    stream: config.common.channels.ticksStream, group: market.tickBarsConsumerGroup, consumer: TickBarConsumer.defaultConsumerName(),
                    readCount: market.tickBarsReadCount, flushInterval: market.tickBarsFlushInterval, claimIdle: market.tickBarsClaimIdle
                ),
                logger: Logger(label: "\(BackendConfiguration.serviceName).tick-bars")
            )
        )
    }
    // After the tick consumer, so that on shutdown the repair stops before the bars it repairs stop being written.
    services += repair.services
    services += terminal.services
    services += stream.services
    return Application(
        router: router,
        server: stream.server,
        configuration: .init(address: .hostname(config.common.host, port: config.common.port), serverName: BackendConfiguration.serviceName),
        services: services,
        logger: logger
    )
}

/// The HTTP routes every build has: health and metrics.
func buildRouter(health: HealthController<BasicRequestContext>, metrics: MetricsController<BasicRequestContext>) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: JSONErrorMiddleware())
    router.addRoutes(health.endpoints)
    router.addRoutes(metrics.endpoints)
    return router
}

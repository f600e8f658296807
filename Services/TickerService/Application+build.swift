import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import ServiceRuntime
import Shared
import SharedInstruments
import SharedPostgres
import SharedRedis

/// What tests may replace when building the application; production uses the defaults.
struct TickerOverrides: Sendable {
    /// The broker feed; nil means the real ``FeedManager`` (with its ``TickPublisher``).
    var feed: (any FeedControlling)?
    /// Configuration values that win over flags and the environment, keyed by environment-variable name.
    var configuration: [String: String] = [:]
    /// Whether the outbox relay runs (tests turn it off to leave events unpublished, as a crash would).
    var runOutboxRelay = true
    /// Whether the startup restore runs (API tests that count feed calls turn it off: its first pass may otherwise
    /// re-send, harmlessly, a subscription the test has just made).
    var runRestorer = true
    /// Called with the router once every route is on it (the route/spec test lists its routes).
    var inspectRouter: @Sendable (Router<BasicRequestContext>) -> Void = { _ in }

    init(feed: (any FeedControlling)? = nil, configuration: [String: String] = [:], runOutboxRelay: Bool = true, runRestorer: Bool = true) {
        self.feed = feed
        self.configuration = configuration
        self.runOutboxRelay = runOutboxRelay
        self.runRestorer = runRestorer
    }
}

/// Wires TickerService: configuration, Redis, PostgreSQL (migrated), the broker feed, subscriptions with their
/// outbox relay, the instrument registry, and the HTTP routes.
/// - Parameters:
///   - args: Command-line arguments (tests pass their own).
///   - overrides: Replacements for tests.
func buildApplication(_ args: some AppArguments, overrides: TickerOverrides = TickerOverrides()) async throws -> some ApplicationProtocol {
    let source = try args.common.configSource(extraFlags: overrides.configuration)
    let (config, feedConfiguration, printable) = try TickerConfiguration.load(source: source)
    let registry = Observability.bootstrap(service: TickerConfiguration.serviceName, logLevel: config.common.logLevel, logFormat: config.common.logFormat)
    let logger = Logger(label: TickerConfiguration.serviceName)
    var startup = Logger.Metadata(uniqueKeysWithValues: printable.map { ($0.key, .string($0.value)) })
    startup["feed.accounts"] = .string(feedConfiguration.accountsSummary)
    logger.info("starting", metadata: startup)
    config.common.warnIfUnauthenticated(logger: logger)

    let redis = try await StoreConnections.redis(url: config.common.redisURL, logger: Logger(label: "\(TickerConfiguration.serviceName).redis"))
    let postgres = try await StoreConnections.postgres(
        url: config.common.databaseURL, poolSize: config.common.databasePoolSize,
        applicationName: TickerConfiguration.serviceName, logger: Logger(label: "\(TickerConfiguration.serviceName).postgres")
    )
    try await StoreConnections.migrate(postgres, logger: logger)

    // Ticks get their own Redis connection (commands on one client are serialised, and ticks are many); a test that
    // gives its own feed publishes no ticks.
    let tickRedis = overrides.feed == nil
        ? try await StoreConnections.redis(url: config.common.redisURL, logger: Logger(label: "\(TickerConfiguration.serviceName).ticks.redis"))
        : nil
    // Services stop in reverse order, after the HTTP server, so the hook that closes the clients comes first: it runs
    // only once the outbox relay, the restorer, the feed and the tick publisher have stopped using them.
    var services: [any Service] = [ShutdownHook {
        await tickRedis?.close()
        await redis.close()
        await postgres.close()
    }]
    // Feed gaps: recorded by the feed, the tick buffer and the subscriptions; published by a service that stops after
    // all of them (services stop in reverse order), so the gaps they record as they stop are sent too.
    let gaps = FeedGapRecorder(logger: Logger(label: "\(TickerConfiguration.serviceName).gaps"))
    services.append(
        FeedGapPublisher(
            recorder: gaps, redis: redis, channels: config.common.channels, streamMaxLength: config.feedGapsStreamMaxLength,
            logger: Logger(label: "\(TickerConfiguration.serviceName).gaps")
        )
    )
    // The broker feed: the real sessions under the lease (``FeedOwnership``, started below), or what a test gives.
    let feed: any FeedControlling
    var leasedFeed: LeasedFeed?
    var tickPublisher: TickPublisher?
    if let given = overrides.feed {
        feed = given
    } else if let tickRedis {
        let publisher = TickPublisher(
            redis: tickRedis, channels: config.common.channels, configuration: feedConfiguration, gaps: gaps,
            logger: Logger(label: "\(TickerConfiguration.serviceName).ticks")
        )
        services.append(publisher)
        let capacity = feedConfiguration.accounts.reduce(0) { $0 + max(1, $1.maxConnections) * $1.instrumentsPerConnection }
        let leased = LeasedFeed(instanceID: config.instanceID, configuredCapacity: capacity)
        tickPublisher = publisher
        leasedFeed = leased
        feed = leased
    } else {
        preconditionFailure("the tick connection exists whenever the real feed is built")
    }
    // /history asks where an instrument streams from (a Dhan account's instruments are fetched from Dhan).
    let placedAccount: @Sendable (UInt32) -> String? = { [leasedFeed] in leasedFeed?.placement(of: $0)?.accountID }

    let instruments = PostgresInstrumentRepository(postgres: postgres)
    let catalog = PostgresInstrumentCatalog(postgres: postgres)
    let signal = OutboxSignal()
    let subscriptions = SubscriptionManager(
        store: PostgresSubscriptionStore(postgres: postgres), instruments: catalog, feed: feed, signal: signal, locks: TokenLocks(),
        logger: Logger(label: "\(TickerConfiguration.serviceName).subscriptions"), gaps: gaps
    )
    let restorer = SubscriptionRestorer(
        manager: subscriptions, logger: Logger(label: "\(TickerConfiguration.serviceName).restore"), restoresAtStart: leasedFeed == nil
    )
    if let leasedFeed, let tickPublisher, let tickRedis {
        let ticksStream = config.common.channels.ticksStream
        let sink = tickPublisher.sink
        let recordMoved: @Sendable ([FeedPlacement]) async -> Void = { await subscriptions.recordMoved($0) }
        let makeManager: @Sendable (Int64) -> FeedManager = { since in
            FeedManager(
                configuration: feedConfiguration, sink: sink, gaps: gaps, restartGapSince: since, placementsMoved: recordMoved,
                logger: Logger(label: "\(TickerConfiguration.serviceName).feed")
            )
        }
        let termServices: @Sendable (FeedManager) -> [any Service] = { manager in
            guard let interval = feedConfiguration.rebalanceInterval else { return [] }
            let rebalancer = FeedRebalancer(
                feed: manager, interval: interval, threshold: feedConfiguration.rebalanceThreshold, overlap: feedConfiguration.rebalanceOverlap,
                logger: Logger(label: "\(TickerConfiguration.serviceName).rebalance")
            )
            return [rebalancer]
        }
        // Restored subscriptions were last streamed when the previous owner published its last tick.
        let lastTickEntryID: @Sendable () async -> String? = {
            let last = try? await tickRedis.send(["XREVRANGE", ticksStream, "+", "-", "COUNT", "1"])
            return last?.array?.first?.array?.first?.string
        }
        let restoreAll: @Sendable () async -> Void = { await restorer.restoreAll() }
        let restore = overrides.runRestorer ? restoreAll : nil
        let lease = FeedLease(postgres: postgres, instanceID: config.instanceID, advertisedURL: config.advertisedURL, duration: config.feedLeaseDuration)
        // After the tick publisher in the list, so it stops before it (services stop in reverse order).
        let ownership = FeedOwnership(
            lease: lease, feed: leasedFeed, makeManager: makeManager, termServices: termServices, lastTickEntryID: lastTickEntryID,
            restore: restore, logger: Logger(label: "\(TickerConfiguration.serviceName).lease")
        )
        services.append(ownership)
    }
    if overrides.runRestorer || leasedFeed != nil { services.append(restorer) }
    if overrides.runOutboxRelay {
        services.append(
            OutboxRelay(
                outbox: PostgresOutbox(postgres: postgres),
                publisher: RedisEventPublisher(redis: redis, channels: config.common.channels, streamMaxLength: config.eventsStreamMaxLength),
                signal: signal, logger: Logger(label: "\(TickerConfiguration.serviceName).outbox"),
                pollInterval: config.outboxPollInterval, retention: config.outboxRetention
            )
        )
    }
    services.append(
        InstrumentRegistryService(
            client: InstrumentDumpClient(brokerURL: config.brokerURL, httpClient: .shared), repository: instruments,
            refreshInterval: config.instrumentsRefreshInterval, logger: Logger(label: "\(TickerConfiguration.serviceName).instruments")
        )
    )

    let checks: [any DependencyCheck] = [
        ClosureDependencyCheck(name: "redis") { try await redis.ping() },
        ClosureDependencyCheck(name: "database") { try await postgres.ping() },
    ]
    // `dependency_up` for the alerts, without anyone asking /health.
    services.append(DependencyMonitor(checks: checks, logger: Logger(label: "\(TickerConfiguration.serviceName).dependencies")))
    let health = TickerHealth(
        environment: config.common.environment,
        checks: checks,
        feed: feed,
        subscriptions: PostgresSubscriptionStore(postgres: postgres),
        instruments: instruments,
        outbox: PostgresOutbox(postgres: postgres)
    )
    let history = HistoricalClient(
        configuration: feedConfiguration, instruments: catalog, placedAccount: placedAccount, logger: Logger(label: "\(TickerConfiguration.serviceName).history")
    )
    let router = buildRouter(
        health: health, metrics: MetricsController(registry: registry), subscriptions: subscriptions, instruments: catalog,
        history: history,
        rebalance: RebalanceController(
            feed: { [leasedFeed] in leasedFeed?.manager }, overlap: feedConfiguration.rebalanceOverlap, apiKey: config.apiKeyEnabled ? config.apiKey : nil
        ),
        forwarding: leasedFeed.map {
            ForwardToLeaseOwnerMiddleware(feed: $0, httpClient: .shared, logger: Logger(label: "\(TickerConfiguration.serviceName).forward"))
        },
        apiKey: config.apiKeyEnabled ? config.apiKey : nil
    )
    overrides.inspectRouter(router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(config.common.host, port: config.common.port), serverName: TickerConfiguration.serviceName),
        services: services,
        logger: logger
    )
}

/// The HTTP routes.
func buildRouter(
    health: TickerHealth,
    metrics: MetricsController<BasicRequestContext>,
    subscriptions: SubscriptionManager,
    instruments: any InstrumentCatalog,
    history: HistoricalClient,
    rebalance: RebalanceController<BasicRequestContext>,
    forwarding: ForwardToLeaseOwnerMiddleware<BasicRequestContext>? = nil,
    apiKey: String?
) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: JSONErrorMiddleware())
    // A standby sends what it may not answer itself to the instance that holds the broker sessions.
    if let forwarding { router.add(middleware: forwarding) }
    router.addRoutes(HealthController(health: health).endpoints)
    router.addRoutes(metrics.endpoints)
    router.addRoutes(SubscriptionsController(manager: subscriptions, apiKey: apiKey).endpoints)
    router.addRoutes(SubscriptionReleaseController(manager: subscriptions, apiKey: apiKey).endpoints)
    router.addRoutes(InstrumentsController(catalog: instruments).endpoints)
    router.addRoutes(HistoryController(client: history, apiKey: apiKey).endpoints)
    router.addRoutes(rebalance.endpoints)
    // Last: built from the routes above, it answers 405 with `Allow` for a known path with another method.
    router.addMethodNotAllowedFallback()
    return router
}

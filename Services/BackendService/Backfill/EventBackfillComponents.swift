import AsyncHTTPClient
import Hummingbird
import Logging
import ServiceRuntime
import ServiceLifecycle
import Shared
import SharedInstruments
import SharedPostgres
import SharedRedis

/// Event consumption and backfill, built once from configuration: the services to run and the routes to mount.
/// `buildApplication` creates one and adds ``services`` and ``addRoutes(to:)``; tests build one with their own
/// ``CandleSource`` and ``ActiveSubscriptionsSource``.
struct EventBackfillComponents: Sendable {
    let configuration: BackfillConfiguration
    /// Where candles come from; the minute repair and the reconciler use the same one, so they share its pacing.
    let candles: any CandleSource
    let queue: BackfillQueue
    let board: BackfillProgressBoard
    let store: BackfillStore
    let backfiller: InstrumentBackfiller
    let handler: SubscriptionEventHandler
    let intake: SubscriptionEventIntake
    let periodic: PeriodicBackfillService
    /// This process's lease on the jobs it creates, and the adopter of jobs other processes left open.
    let leases: BackfillJobLeases
    /// The job lease, the backfill workers, the periodic cycle, and (when events are enabled) the stream consumer and pub/sub listener.
    let services: [any Service]
    /// The dedicated connection of the blocking stream reader; close it at shutdown.
    let streamRedis: RedisClient?

    /// Builds the production set: candles from TickerService's `/history` (or the broker with `BACKFILL_HISTORY_SOURCE=broker`).
    /// - Parameters:
    ///   - configuration: The settings.
    ///   - redis: The shared client (dead letters); the stream consumer gets its own client with the same configuration.
    ///   - postgres: The database (migrated).
    ///   - httpClient: For TickerService / the broker.
    ///   - logger: Parent logger.
    static func make(
        configuration: BackfillConfiguration, redis: RedisClient, postgres: PostgresClient, httpClient: HTTPClient, logger: Logger
    ) -> EventBackfillComponents {
        let ticker = TickerClient(baseURL: configuration.tickerURL, apiKey: configuration.tickerAPIKey, httpClient: httpClient, logger: logger)
        let source: any CandleSource
        switch configuration.historySource {
        case .ticker: source = ticker
        case .broker:
            source = BrokerHistoricalSource(
                baseURL: configuration.brokerURL, apiKey: configuration.brokerAPIKey, accessToken: configuration.brokerAccessToken,
                httpClient: httpClient, logger: logger
            )
        }
        return EventBackfillComponents(
            configuration: configuration, redis: redis, postgres: postgres, candles: source, subscriptions: ticker,
            tickerLookup: ticker, logger: logger
        )
    }

    /// Builds the set from explicit sources.
    /// - Parameters:
    ///   - tickerLookup: Asked for an instrument the shared `instruments` table lacks (TickerService); nil: none.
    init(
        configuration: BackfillConfiguration, redis: RedisClient, postgres: PostgresClient, candles: any CandleSource,
        subscriptions: any ActiveSubscriptionsSource, tickerLookup: (any InstrumentTokenLookup)?, logger: Logger
    ) {
        self.configuration = configuration
        self.candles = candles
        let queue = BackfillQueue()
        let board = BackfillProgressBoard()
        let store = BackfillStore(postgres: postgres)
        var backfillLogger = logger
        backfillLogger[metadataKey: LogKey.component] = "backfill"
        var eventsLogger = logger
        eventsLogger[metadataKey: LogKey.component] = "events"
        let backfiller = InstrumentBackfiller(
            source: candles, store: store, calendar: SessionCalendar(mode: configuration.session), configuration: configuration,
            instruments: FallbackInstrumentCatalog(catalog: PostgresInstrumentCatalog(postgres: postgres), fallback: tickerLookup),
            logger: backfillLogger
        )
        let leases = BackfillJobLeases(
            instance: BackfillJobLeases.instanceID(consumerName: configuration.consumerName), store: store, queue: queue, logger: backfillLogger
        )
        let handler = SubscriptionEventHandler(
            postgres: postgres, queue: queue, immediateOnSubscribe: configuration.immediateOnSubscribe,
            instance: configuration.consumerName, jobOwner: leases.instance, logger: eventsLogger
        )
        let deadLetters = DeadLetterWriter(redis: redis, channels: configuration.channels, consumer: configuration.consumerName, logger: eventsLogger)
        let intake = SubscriptionEventIntake(handler: handler, deadLetters: deadLetters, logger: eventsLogger)
        let periodic = PeriodicBackfillService(
            subscriptions: subscriptions, store: store, queue: queue, configuration: configuration, board: board, instance: leases.instance,
            leaseTTL: leases.leaseTTL, logger: backfillLogger
        )
        // Services stop in reverse order: the consumers and the periodic cycle first, then the workers, and the lease
        // last, once no job of this process runs any more.
        var services: [any Service] = [
            leases,
            BackfillService(queue: queue, backfiller: backfiller, concurrency: configuration.concurrency, logger: backfillLogger),
        ]
        if configuration.subscriptionAware {
            services.append(periodic)
        } else {
            backfillLogger.info("Subscription-aware backfill disabled (BACKFILL_SUBSCRIPTION_AWARE=false)")
        }
        var streamRedis: RedisClient?
        if configuration.eventsEnabled {
            let blocking = RedisClient(configuration: redis.configuration, logger: eventsLogger)
            streamRedis = blocking
            services.append(
                EventStreamConsumer(
                    redis: blocking, intake: intake, deadLetters: deadLetters, channels: configuration.channels,
                    group: configuration.consumerGroup, consumer: configuration.consumerName, claimMinIdle: configuration.claimMinIdle,
                    maxDeliveries: configuration.maxDeliveries, startID: configuration.groupStartID, logger: eventsLogger
                )
            )
            services.append(
                EventChannelListener(redis: redis, intake: intake, deadLetters: deadLetters, channels: configuration.channels, logger: eventsLogger)
            )
        } else {
            eventsLogger.info("Subscription events disabled (SUBSCRIPTION_EVENTS_ENABLED=false): no stream consumer, no pub/sub listener, webhook answers 503")
        }
        self.queue = queue
        self.board = board
        self.store = store
        self.backfiller = backfiller
        self.handler = handler
        self.intake = intake
        self.periodic = periodic
        self.leases = leases
        self.services = services
        self.streamRedis = streamRedis
    }

    /// Takes this process's job lease; call before the services run, so that no job is created under a lease that
    /// another instance could take for dead.
    func register() async throws {
        try await leases.register()
    }

    /// Mounts `POST /internal/subscription-events` and `GET /internal/backfill/status`.
    /// - Parameters:
    ///   - router: The router.
    ///   - webhookCredentials: What the webhook accepts as authentication; empty: open (`API_KEY_ENABLED` off).
    func addRoutes<Context: RequestContext>(to router: Router<Context>, webhookCredentials: [RequestCredential] = []) {
        router.addRoutes(
            SubscriptionEventsController<Context>(intake: intake, enabled: configuration.eventsEnabled, credentials: webhookCredentials).endpoints
        )
        router.addRoutes(backfillStatus(Context.self).endpoints)
    }

    /// `GET /internal/backfill/status`, also part of the status page's data.
    func backfillStatus<Context: RequestContext>(_ context: Context.Type) -> BackfillStatusController<Context> {
        BackfillStatusController<Context>(queue: queue, board: board, configuration: configuration)
    }

    /// Closes the stream reader's connection (unblocks a pending XREADGROUP).
    func close() async {
        await streamRedis?.close()
    }
}

import Logging
import ServiceLifecycle
import Shared
import SharedPostgres
import SharedRedis

/// The feed-gap consumer, the minute repair and the reconciler, built once from configuration (docs/bars.md,
/// "Suspect minutes and repair"). `REPAIR_ENABLED=false` builds none of the three; `RECONCILE_ENABLED=false` leaves out
/// the reconciler.
struct RepairComponents: Sendable {
    let store: SuspectMinuteStore
    let services: [any Service]
    /// The feed-gap consumer's blocking connection; closed at shutdown.
    let streamRedis: RedisClient?

    /// - Parameters:
    ///   - redis: The shared client (dead letters); the consumer gets its own with the same configuration.
    ///   - candles: Backfill's candle source (the same pacing).
    ///   - backfillDepth: Queued plus running backfills (the reconciler yields to them).
    ///   - consumerName: `EVENTS_CONSUMER_NAME`, named in dead letters.
    init(
        configuration: RepairConfiguration, channels: EventChannels, redis: RedisClient, postgres: PostgresClient, candles: any CandleSource,
        backfillDepth: @escaping @Sendable () -> Int, consumerName: String, logger: Logger
    ) {
        let store = SuspectMinuteStore(postgres: postgres)
        self.store = store
        guard configuration.enabled else {
            logger.info("Minute repair disabled (REPAIR_ENABLED=false): feed gaps are not read, suspect minutes not repaired")
            services = []
            streamRedis = nil
            return
        }
        let blocking = RedisClient(configuration: redis.configuration, logger: logger)
        streamRedis = blocking
        let deadLetters = DeadLetterWriter.feedGaps(redis: redis, channels: channels, consumer: consumerName, logger: logger)
        var services: [any Service] = [
            MinuteRepairService(store: store, source: candles, configuration: configuration, logger: logger),
            FeedGapConsumer(
                redis: blocking, store: store, deadLetters: deadLetters, stream: channels.feedGapsStream, group: configuration.consumerGroup,
                consumer: FeedGapConsumer.defaultConsumerName(), maxGapMinutes: configuration.maxGapMinutes, delay: configuration.delay, logger: logger
            ),
        ]
        if configuration.reconcileEnabled {
            services.append(MinuteReconciler(store: store, source: candles, configuration: configuration, backfillDepth: backfillDepth, logger: logger))
        }
        self.services = services
    }

    /// Closes the consumer's connection (unblocks a pending XREADGROUP).
    func close() async {
        await streamRedis?.close()
    }
}

import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import ServiceRuntime
import Shared
import SharedInstruments
import SharedPostgres
import SharedRedis

/// Seed 004's terminal half, built once from configuration (docs/tiers.md): the instrument registry, the ATM engine
/// and option chains; the watchlists, the two tiers under the cap, the end-of-day cleanup and the audit log; and the
/// long-lived services that keep them (registry reloads, Tier B preload, chain re-centring, EOD schedule).
struct TierComponents: Sendable {
    let registry: InstrumentRegistry
    let quotes: LiveQuotes
    let atm: ATMEngine
    let chains: OptionChainService
    let tiers: TierManager
    let watchlists: WatchlistService
    let eod: EODCleanup
    let tierBReport: TierBReport
    let atmCache: ATMCacheStore
    let settings: TierConfiguration
    let logger: Logger

    init(
        configuration: BackendConfiguration, redis: RedisClient, postgres: PostgresClient, ticker: TickerClient, prices: UnderlyingPriceResolver,
        logger: Logger
    ) {
        let settings = configuration.tiers
        self.settings = settings
        self.logger = logger
        registry = InstrumentRegistry(catalog: PostgresInstrumentCatalog(postgres: postgres))
        quotes = LiveQuotes(redis: redis, channels: configuration.common.channels)
        atm = ATMEngine(registry: registry, quotes: quotes, fallback: prices, recenterStrikes: settings.atmRecenterStrikes, logger: logger)
        tiers = TierManager(store: TierStore(postgres: postgres), ticker: ticker, configuredCap: settings.cap, logger: logger)
        chains = OptionChainService(registry: registry, atm: atm, quotes: quotes, use: tiers, rate: settings.optionRiskFreeRate, now: { Date() })
        let watchlistStore = WatchlistStore(postgres: postgres)
        atmCache = ATMCacheStore(postgres: postgres, logger: logger)
        watchlists = WatchlistService(
            store: watchlistStore, tiers: tiers, registry: registry, atm: atm, atmCache: atmCache, settings: settings, logger: logger
        )
        eod = EODCleanup(
            tiers: tiers, watchlists: watchlistStore, runs: EODRunStore(postgres: postgres), clearWatchlists: settings.eodClearWatchlists, logger: logger
        )
        tierBReport = TierBReport(enabled: settings.tierBEnabled)
    }

    /// The `/api/v2` routes of seed 004.
    func addRoutes(to router: Router<BasicRequestContext>, credentials: [RequestCredential]) {
        router.addRoutes(InstrumentsController<BasicRequestContext>(registry: registry, logger: logger).endpoints)
        router.addRoutes(OptionChainController<BasicRequestContext>(chains: chains, defaultStrikes: settings.watchlistChainStrikes, logger: logger).endpoints)
        router.addRoutes(
            WatchlistController<BasicRequestContext>(watchlists: watchlists, quotes: quotes, credentials: credentials, logger: logger).endpoints
        )
        router.addRoutes(
            TierSubscriptionsController<BasicRequestContext>(
                tiers: tiers, registry: registry, settings: settings, tierB: tierBReport, credentials: credentials, logger: logger
            ).endpoints
        )
        router.addRoutes(
            TierAdminController<BasicRequestContext>(tiers: tiers, watchlists: watchlists, eod: eod, credentials: credentials, logger: logger).endpoints
        )
    }

    /// The services that keep the registry loaded, Tier B subscribed, the chains centred and the day ended.
    var services: [any Service] {
        var services: [any Service] = [
            InstrumentRegistryService(registry: registry, logger: logger),
            ChainRecenterService(watchlists: watchlists, logger: logger),
        ]
        if settings.tierBEnabled {
            services.append(TierBPreloader(tiers: tiers, registry: registry, atm: atm, atmCache: atmCache, settings: settings, report: tierBReport, logger: logger))
        }
        if settings.eodEnabled {
            services.append(EODCleanupService(cleanup: eod, cleanupMinute: settings.eodCleanupMinute, now: { Date() }, logger: logger))
        }
        return services
    }
}

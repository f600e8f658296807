import Hummingbird
import ServiceRuntime
import Shared
import SharedBasics

/// BackendService's settings: the shared ones, event consumption and backfill (``BackfillConfiguration``:
/// `SUBSCRIPTION_EVENTS_ENABLED`, `BACKFILL_*`, `TICKER_URL`, ...), and the market APIs
/// (``MarketAPIConfiguration``: `SMART_SUBSCRIPTION_*`, `TICK_BARS_*`, `BARS_MAX_POINTS`).
struct BackendConfiguration: Sendable {
    static let serviceName = "backend-service"
    static let defaultPort = 8081

    var common: CommonConfiguration
    var backfill: BackfillConfiguration
    var market: MarketAPIConfiguration
    /// Suspect minutes, their repair and the reconciler (``RepairConfiguration``: `REPAIR_*`, `RECONCILE_*`).
    var repair: RepairConfiguration
    /// The two-tier subscription system (``TierConfiguration``: `SUBSCRIPTION_CAP`, `TIER_B_*`, `WATCHLIST_*`, `EOD_*`).
    var tiers: TierConfiguration
    /// The quote stream (``StreamConfiguration``: `STREAM_*`).
    var stream: StreamConfiguration
    /// `API_KEY_ENABLED` (default on outside dev and test): the webhook requires `X-API-Key` or `X-Webhook-Secret`.
    var apiKeyEnabled: Bool
    /// `API_KEY`: accepted in `X-API-Key`; nil when unset.
    var apiKey: String?
    /// `WEBHOOK_SECRET`: accepted in `X-Webhook-Secret`; nil when unset.
    var webhookSecret: String?

    init(source: ConfigSource) throws(ConfigError) {
        common = try CommonConfiguration(source: source, defaultPort: Self.defaultPort)
        backfill = try BackfillConfiguration(source: source)
        market = try MarketAPIConfiguration(source: source)
        repair = try RepairConfiguration(source: source)
        tiers = try TierConfiguration(source: source)
        stream = try StreamConfiguration(source: source)
        apiKeyEnabled = try source.bool(.apiKeyEnabled, default: !source.deployment.isLocal)
        apiKey = source.raw(.apiKey).flatMap { $0.isEmpty ? nil : $0 }
        webhookSecret = source.raw(.webhookSecret).flatMap { $0.isEmpty ? nil : $0 }
        if apiKeyEnabled, apiKey == nil, webhookSecret == nil {
            throw ConfigError(
                .missing, key: ConfigKey.apiKey.name,
                reason: "API_KEY or WEBHOOK_SECRET is required when API_KEY_ENABLED is on (the webhook accepts either)"
            )
        }
    }

    /// What the `/api/v2` endpoints that change state (watchlists, on-demand subscriptions, admin) require when
    /// `API_KEY_ENABLED` is on: `X-API-Key`, or `X-Webhook-Secret` in a deployment that set only `WEBHOOK_SECRET`; nothing
    /// when it is off.
    var apiCredentials: [RequestCredential] {
        guard apiKeyEnabled else { return [] }
        if let apiKey { return [.init(header: RequestCredential.apiKeyHeader, secret: apiKey)] }
        return webhookSecret.map { [.init(header: SubscriptionEventsController<BasicRequestContext>.secretHeader, secret: $0)] } ?? []
    }

    /// What `POST /internal/subscription-events` accepts: nothing required when `API_KEY_ENABLED` is off.
    var webhookCredentials: [RequestCredential] {
        guard apiKeyEnabled else { return [] }
        var credentials: [RequestCredential] = []
        if let apiKey { credentials.append(.init(header: RequestCredential.apiKeyHeader, secret: apiKey)) }
        if let webhookSecret { credentials.append(.init(header: SubscriptionEventsController<BasicRequestContext>.secretHeader, secret: webhookSecret)) }
        return credentials
    }

    /// Every key BackendService reads, in the order `print-config` prints them (duplicates, such as
    /// `REDIS_CHANNEL_PREFIX`, print once). A key read without being listed here is caught by `ConfigurationKeysTests`.
    static let declaredKeys: [ConfigKey] = ConfigKey.commonKeys + [.apiKey, .webhookSecret] + BackfillConfiguration.declaredKeys + MarketAPIConfiguration.declaredKeys
        + RepairConfiguration.declaredKeys + TierConfiguration.declaredKeys + StreamConfiguration.declaredKeys

    /// Reads the configuration from `source` and returns what `--print-config` prints and the startup log carries.
    /// - Returns: The configuration and the `KEY=value` pairs, secrets masked.
    static func load(source: ConfigSource) throws(ConfigError) -> (config: BackendConfiguration, printable: [(key: String, value: String)]) {
        let config = try BackendConfiguration(source: source)
        return (config, source.printableValues(declared: declaredKeys))
    }
}

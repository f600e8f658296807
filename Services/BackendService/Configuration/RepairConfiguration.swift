import Shared

extension ConfigKey {
    /// `REPAIR_ENABLED`: run the feed-gap consumer and the minute repair (docs/bars.md, "Suspect minutes and repair").
    static let repairEnabled = ConfigKey("REPAIR_ENABLED")
    /// `FEED_GAPS_CONSUMER_GROUP`: BackendService's consumer group on `{prefix}:feed-gaps`.
    static let feedGapsConsumerGroup = ConfigKey("FEED_GAPS_CONSUMER_GROUP")
    /// `REPAIR_INTERVAL`: seconds between two looks for due suspect minutes.
    static let repairInterval = ConfigKey("REPAIR_INTERVAL")
    /// `REPAIR_DELAY`: seconds after a minute closes before its candle is asked for.
    static let repairDelay = ConfigKey("REPAIR_DELAY")
    /// `REPAIR_WINDOW`: seconds after a tick minute closes within which it may still be repaired; after it, a tick
    /// minute without a pending suspect row is final.
    static let repairWindow = ConfigKey("REPAIR_WINDOW")
    /// `REPAIR_MAX_GAP_MINUTES`: a gap touching more minutes marks only its first and last, and the tick minutes between.
    static let repairMaxGapMinutes = ConfigKey("REPAIR_MAX_GAP_MINUTES")
    /// `REPAIR_BATCH_INSTRUMENTS`: instruments whose due suspect minutes are taken per look (oldest due first).
    static let repairBatchInstruments = ConfigKey("REPAIR_BATCH_INSTRUMENTS")
    /// `REPAIR_BATCH_MINUTES`: most due suspect minutes of one instrument taken per look.
    static let repairBatchMinutes = ConfigKey("REPAIR_BATCH_MINUTES")
    /// `REPAIR_EMPTY_ATTEMPTS`: answers without the minute's candle before it is taken as a minute without trades.
    static let repairEmptyAttempts = ConfigKey("REPAIR_EMPTY_ATTEMPTS")
    /// `RECONCILE_ENABLED`: run the reconciler.
    static let reconcileEnabled = ConfigKey("RECONCILE_ENABLED")
    /// `RECONCILE_INTERVAL`: seconds between two reconciler cycles.
    static let reconcileInterval = ConfigKey("RECONCILE_INTERVAL")
    /// `RECONCILE_SAMPLE`: instruments compared per cycle.
    static let reconcileSample = ConfigKey("RECONCILE_SAMPLE")
    /// `RECONCILE_LOOKBACK_MINUTES`: how far back closed tick minutes are compared.
    static let reconcileLookbackMinutes = ConfigKey("RECONCILE_LOOKBACK_MINUTES")
}

/// Settings of suspect-minute marking, repair and reconciliation (docs/bars.md, docs/configuration.md).
struct RepairConfiguration: Sendable {
    /// `REPAIR_ENABLED`.
    var enabled: Bool
    /// `FEED_GAPS_CONSUMER_GROUP`.
    var consumerGroup: String
    /// `REPAIR_INTERVAL`.
    var interval: Duration
    /// `REPAIR_DELAY`.
    var delay: Duration
    /// `REPAIR_WINDOW`.
    var window: Duration
    /// `REPAIR_MAX_GAP_MINUTES`.
    var maxGapMinutes: Int
    /// `REPAIR_BATCH_INSTRUMENTS`.
    var batchInstruments: Int
    /// `REPAIR_BATCH_MINUTES`.
    var batchMinutes: Int
    /// `REPAIR_EMPTY_ATTEMPTS`.
    var emptyAttempts: Int
    /// `RECONCILE_ENABLED`.
    var reconcileEnabled: Bool
    /// `RECONCILE_INTERVAL`.
    var reconcileInterval: Duration
    /// `RECONCILE_SAMPLE`.
    var reconcileSample: Int
    /// `RECONCILE_LOOKBACK_MINUTES`.
    var reconcileLookbackMinutes: Int

    init(source: ConfigSource) throws(ConfigError) {
        enabled = try source.bool(.repairEnabled, default: true)
        consumerGroup = source.string(.feedGapsConsumerGroup, default: "backend-repair")
        guard !consumerGroup.isEmpty, !consumerGroup.contains(where: \.isWhitespace) else {
            throw ConfigError(.invalid, key: ConfigKey.feedGapsConsumerGroup.name, reason: "'\(consumerGroup)' must be a non-empty name without spaces")
        }
        interval = try source.seconds(.repairInterval, default: .seconds(5))
        delay = try source.seconds(.repairDelay, default: .seconds(10))
        window = try source.seconds(.repairWindow, default: .seconds(120))
        maxGapMinutes = try source.int(.repairMaxGapMinutes, default: 10, in: 2...1_440)
        batchInstruments = try source.int(.repairBatchInstruments, default: 120, in: 1...10_000)
        batchMinutes = try source.int(.repairBatchMinutes, default: 1_440, in: 1...86_400)
        emptyAttempts = try source.int(.repairEmptyAttempts, default: 3, in: 1...100)
        reconcileEnabled = try source.bool(.reconcileEnabled, default: true)
        reconcileInterval = try source.seconds(.reconcileInterval, default: .seconds(60))
        reconcileSample = try source.int(.reconcileSample, default: 3, in: 1...1_000)
        reconcileLookbackMinutes = try source.int(.reconcileLookbackMinutes, default: 5, in: 1...1_440)
        guard interval >= .milliseconds(100), reconcileInterval >= .milliseconds(100) else {
            throw ConfigError(.invalid, key: ConfigKey.repairInterval.name, reason: "REPAIR_INTERVAL and RECONCILE_INTERVAL must be at least 0.1 seconds")
        }
        guard window >= delay else {
            throw ConfigError(.invalid, key: ConfigKey.repairWindow.name, reason: "must not be shorter than REPAIR_DELAY")
        }
    }

    /// How long a taken suspect minute is not handed to another look (or instance): a process that dies holding it
    /// leaves it due again after this.
    var lease: Duration { .seconds(90) }

    /// The keys this configuration reads (``BackendConfiguration/declaredKeys`` includes them).
    static let declaredKeys: [ConfigKey] = [
        .repairEnabled, .feedGapsConsumerGroup, .repairInterval, .repairDelay, .repairWindow, .repairMaxGapMinutes, .repairBatchInstruments, .repairBatchMinutes,
        .repairEmptyAttempts, .reconcileEnabled, .reconcileInterval, .reconcileSample, .reconcileLookbackMinutes,
    ]
}

import Metrics

/// The tiers' metrics, named once (docs/tiers.md lists them).
enum TierMetrics {
    static let evictions = "backend_tier_evictions_total"
    static let holds = "backend_tier_holds_total"
    static let releases = "backend_tier_releases_total"
    static let capRefusals = "backend_tier_cap_refusals_total"
    static let tickerFailures = "backend_tier_ticker_failures_total"
    static let held = "backend_tier_instruments"
    static let eodRuns = "backend_eod_runs_total"

    static func evicted(_ count: Int) { Counter(label: evictions).increment(by: count) }
    static func held(_ count: Int, tier: Tier) { Counter(label: holds, dimensions: [("tier", tier.rawValue)]).increment(by: count) }
    static func released(_ count: Int, reason: String) { Counter(label: releases, dimensions: [("reason", reason)]).increment(by: count) }
    static func capRefused() { Counter(label: capRefusals).increment() }
    /// A call to TickerService after a committed change failed (the holder stays at the broker until the next sync).
    static func tickerFailed(_ operation: String) { Counter(label: tickerFailures, dimensions: [("operation", operation)]).increment() }
    static func gauge(a: Int, b: Int) {
        Gauge(label: held, dimensions: [("tier", "A")]).record(a)
        Gauge(label: held, dimensions: [("tier", "B")]).record(b)
    }
    /// - Parameter trigger: `schedule` or `api`.
    static func eodRan(trigger: String) { Counter(label: eodRuns, dimensions: [("trigger", trigger)]).increment() }
}

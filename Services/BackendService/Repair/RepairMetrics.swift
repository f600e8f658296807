import Metrics

/// Every metric of suspect minutes, repair and reconciliation, named once (docs/operations.md and docs/bars.md list them).
enum RepairMetrics {
    static let feedGaps = "backend_feed_gaps_total"
    /// Feed-gap entries moved to `{prefix}:feed-gaps:dead`, labels `source` (`feed_gaps`) and `reason`.
    static let feedGapsDeadLettered = "backend_feed_gaps_dead_lettered_total"
    static let minutesMarked = "backend_suspect_minutes_marked_total"
    static let minutesRepaired = "backend_minutes_repaired_total"
    static let repairFetches = "backend_minute_repair_fetches_total"
    static let minutesUnrepaired = "backend_minutes_without_candle_total"
    static let backlog = "backend_suspect_minutes_due"
    static let reconcileMinutes = "backend_reconcile_minutes_total"
    static let reconcileCycles = "backend_reconcile_cycles_total"

    /// - Parameter outcome: `marked`, `duplicate`, `malformed` or `failed`.
    static func feedGap(outcome: String) { Counter(label: feedGaps, dimensions: [("outcome", outcome)]).increment() }
    static func marked(_ count: Int, reason: String) {
        guard count > 0 else { return }
        Counter(label: minutesMarked, dimensions: [("reason", reason)]).increment(by: count)
    }
    /// - Parameter reason: The first reason that marked the minute, or `reconcile`.
    static func repaired(_ count: Int, reason: String) {
        guard count > 0 else { return }
        Counter(label: minutesRepaired, dimensions: [("reason", reason)]).increment(by: count)
    }
    /// - Parameter outcome: `ok` or `error`.
    static func fetch(outcome: String, purpose: String) {
        Counter(label: repairFetches, dimensions: [("outcome", outcome), ("purpose", purpose)]).increment()
    }
    /// Minutes resolved without a candle (`no_candle`) or given up after a permanent error (`given_up`).
    static func unrepaired(_ count: Int, outcome: String) {
        guard count > 0 else { return }
        Counter(label: minutesUnrepaired, dimensions: [("outcome", outcome)]).increment(by: count)
    }
    static func due(_ count: Int) { Gauge(label: backlog).record(count) }
    /// - Parameter result: `equal`, `repaired` or `no_candle`.
    static func reconciled(_ count: Int, result: String) {
        guard count > 0 else { return }
        Counter(label: reconcileMinutes, dimensions: [("result", result)]).increment(by: count)
    }
    /// - Parameter outcome: `done`, `deferred` (repair or backfill had work) or `failed`.
    static func reconcileCycle(outcome: String) { Counter(label: reconcileCycles, dimensions: [("outcome", outcome)]).increment() }
}

import BrokerWire
import Foundation
import Logging
import ServiceLifecycle

/// Compares recently closed tick-built minutes with the broker's candles, at a low rate, and repairs the ones that
/// differ (docs/bars.md, "Reconciliation"): the feed's measured quality, exported as
/// `backend_reconcile_minutes_total{result}`.
///
/// Every `RECONCILE_INTERVAL` it picks `RECONCILE_SAMPLE` instruments at random that have `ticks` minutes closed in
/// the last `RECONCILE_LOOKBACK_MINUTES` (and at least `REPAIR_DELAY` ago) with no suspect row, fetches those minutes
/// through the same ``CandleSource`` (one request per instrument), and compares open, high, low, close and volume
/// exactly. A cycle is skipped (`deferred`) while the repair has due minutes or backfill has queued work: they come
/// first in the broker budget.
struct MinuteReconciler: Service {
    let store: SuspectMinuteStore
    let source: any CandleSource
    let configuration: RepairConfiguration
    /// Queued or running backfills; the reconciler waits while there are any.
    let backfillDepth: @Sendable () -> Int
    let logger: Logger
    var now: @Sendable () -> Date = { Date() }

    func run() async throws {
        logger.info("Minute reconciler started", metadata: [LogKey.interval: "\(configuration.reconcileInterval)"])
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                let interval = configuration.reconcileInterval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            _ = try? await cancelWhenGracefulShutdown { await cycle() }
        }
        logger.info("Minute reconciler stopped")
    }

    /// The minutes compared in one cycle and how they came out.
    struct CycleResult: Sendable, Equatable {
        var equal = 0
        var repaired = 0
        var noCandle = 0
        var deferred = false
    }

    /// One cycle. - Returns: What it found.
    @discardableResult
    func cycle() async -> CycleResult {
        var result = CycleResult()
        do {
            let due = try await store.dueCount()
            if backfillDepth() > 0 || due > 0 {
                result.deferred = true
                RepairMetrics.reconcileCycle(outcome: "deferred")
                return result
            }
            let delaySeconds = configuration.delay.repairSeconds
            let lastClosed = Self.minuteStart(now().addingTimeInterval(-60 - delaySeconds))
            let from = lastClosed.addingTimeInterval(-60 * Double(configuration.reconcileLookbackMinutes - 1))
            let tokens = try await store.reconcileSample(limit: configuration.reconcileSample, from: from, to: lastClosed)
            for token in tokens {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                let stored = try await store.tickMinutes(token: token, from: from, to: lastClosed)
                guard let first = stored.first, let last = stored.last else { continue }
                let candles: [KiteCandle]
                do {
                    candles = try await source.candles(
                        token: token, from: Date(timeIntervalSince1970: TimeInterval(first.timestamp)),
                        to: Date(timeIntervalSince1970: TimeInterval(last.timestamp + 59))
                    )
                    RepairMetrics.fetch(outcome: "ok", purpose: "reconcile")
                } catch {
                    if error is CancellationError || Task.isCancelled { break }
                    RepairMetrics.fetch(outcome: "error", purpose: "reconcile")
                    logger.warning("Reconcile fetch failed", metadata: [LogKey.error: "\(error)", LogKey.instrumentToken: "\(token)"])
                    continue
                }
                let comparison = Self.compare(stored: stored, broker: candles)
                if !comparison.differing.isEmpty {
                    _ = try await store.writeReconciled(token: token, candles: comparison.differing)
                    logger.info(
                        "Reconciler repaired tick minutes that differ from the broker's candles",
                        metadata: [LogKey.instrumentToken: "\(token)", LogKey.minutes: "\(comparison.differing.count)"]
                    )
                }
                result.equal += comparison.equal
                result.repaired += comparison.differing.count
                result.noCandle += comparison.noCandle
            }
            RepairMetrics.reconciled(result.equal, result: "equal")
            RepairMetrics.reconciled(result.repaired, result: "repaired")
            RepairMetrics.reconciled(result.noCandle, result: "no_candle")
            RepairMetrics.repaired(result.repaired, reason: "reconcile")
            RepairMetrics.reconcileCycle(outcome: "done")
        } catch {
            if !(error is CancellationError), !Task.isCancelled {
                RepairMetrics.reconcileCycle(outcome: "failed")
                logger.error("Reconcile cycle failed", metadata: [LogKey.error: "\(error)"])
            }
        }
        return result
    }

    /// Tick minutes against the broker's: how many are equal in OHLCV, the broker's candles of those that differ, and
    /// how many the broker has no candle for (left alone: a suspect minute's repair decides those).
    static func compare(stored: [KiteCandle], broker: [KiteCandle]) -> (equal: Int, differing: [KiteCandle], noCandle: Int) {
        let byMinute = Dictionary(broker.map { ($0.timestamp, $0) }, uniquingKeysWith: { first, _ in first })
        var equal = 0
        var differing: [KiteCandle] = []
        var noCandle = 0
        for bar in stored {
            guard let candle = byMinute[bar.timestamp] else {
                noCandle += 1
                continue
            }
            if bar.open == candle.open, bar.high == candle.high, bar.low == candle.low, bar.close == candle.close, bar.volume == candle.volume {
                equal += 1
            } else {
                differing.append(candle)
            }
        }
        return (equal, differing, noCandle)
    }

    static func minuteStart(_ date: Date) -> Date {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return Date(timeIntervalSince1970: TimeInterval(seconds - ((seconds % 60) + 60) % 60))
    }
}

import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Where the periodic cycle learns which instruments are subscribed.
protocol ActiveSubscriptionsSource: Sendable {
    func activeSubscriptionTokens() async throws -> [Int64]
}

extension TickerClient: ActiveSubscriptionsSource {
    func activeSubscriptionTokens() async throws -> [Int64] {
        try await activeSubscriptions().map(\.instrumentToken)
    }
}

/// Progress of one periodic cycle, shown by `/internal/backfill/status` and stored in `backfill_runs`.
struct BackfillCycleProgress: Sendable {
    var runID: Int64?
    var startedAt: Date
    var finishedAt: Date?
    var tokenSource: String
    /// Subscribed instruments checked for gaps.
    var instrumentsChecked = 0
    /// Instruments with something to backfill (gaps or open jobs).
    var instrumentsTotal = 0
    var instrumentsDone = 0
    var gapsFound = 0
    var barsWritten = 0
    var failures = 0
    var error: String?
}

/// Shared view of the current and last cycle.
final class BackfillProgressBoard: Sendable {
    private let state = Mutex<(current: BackfillCycleProgress?, last: BackfillCycleProgress?, cycles: Int)>((nil, nil, 0))

    var current: BackfillCycleProgress? { state.withLock { $0.current } }
    var last: BackfillCycleProgress? { state.withLock { $0.last } }
    var cycles: Int { state.withLock { $0.cycles } }

    func update(_ body: (inout BackfillCycleProgress) -> Void) {
        state.withLock { state in
            if var current = state.current {
                body(&current)
                state.current = current
            }
        }
    }

    func begin(_ progress: BackfillCycleProgress) { state.withLock { $0.current = progress } }

    func end() {
        state.withLock { state in
            state.last = state.current
            state.current = nil
            state.cycles += 1
        }
    }
}

/// The subscription-aware periodic backfill (`BACKFILL_SUBSCRIPTION_AWARE`; not started when it is off): every
/// `BACKFILL_INTERVAL_SECONDS` it takes the active subscriptions from TickerService (falling back, when TickerService is
/// unreachable, to the instruments known to be subscribed from processed events and recent tick bars), finds every
/// missing session minute in the last `BACKFILL_GAP_LOOKBACK_HOURS` (not only at the tail), and fills the gaps, most
/// recent first. (Jobs an earlier process left open are resumed by ``BackfillJobLeases``.)
///
/// Time is cut into slots of one interval (``CycleSlot``); each slot has one cycle however many instances run. At the
/// start of every slot (and at once at startup) each instance claims the slot in `backfill_cycle_claims`; the one that
/// gets it runs the cycle, the others skip it (`backend_backfill_cycles_total{outcome="claimed_elsewhere"}`).
///
/// Graceful shutdown cancels a running cycle (its queued backfills are dropped, the running ones cancelled by
/// ``BackfillService``); the cycle is still recorded in `backfill_runs`, with the error `cancelled by shutdown`, and
/// the gaps it did not fill are found again by the next cycle.
struct PeriodicBackfillService: Service {
    let subscriptions: any ActiveSubscriptionsSource
    let store: BackfillStore
    let queue: BackfillQueue
    let configuration: BackfillConfiguration
    let board: BackfillProgressBoard
    /// This process's lease, the name its claims carry.
    let instance: String
    /// How long after its last heartbeat a lease is dead (its claim may then be taken over).
    let leaseTTL: Duration
    let logger: Logger
    var now: @Sendable () -> Date = { Date() }

    func run() async throws {
        logger.info("Subscription-aware backfill started", metadata: [LogKey.interval: "\(configuration.cycleInterval)"])
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let slot = CycleSlot(containing: now(), interval: configuration.cycleInterval)
            if await claim(slot) { await runCycle() }
            do {
                let wait = max(slot.end.timeIntervalSince(now()), 0)
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
            } catch {
                break
            }
        }
    }

    /// Whether this instance runs the slot's cycle.
    private func claim(_ slot: CycleSlot) async -> Bool {
        do {
            if try await store.claimCycle(startingAt: slot.start, instance: instance, leaseTTL: leaseTTL) { return true }
            EventBackfillMetrics.cycle(outcome: "claimed_elsewhere", tokenSource: "none")
            logger.debug("Backfill cycle run by another instance", metadata: [LogKey.cycleStart: "\(slot.start)"])
        } catch where Task.isCancelled {
        } catch {
            EventBackfillMetrics.cycle(outcome: "failure", tokenSource: "none")
            logger.error("Backfill cycle not claimed: the database did not answer", metadata: [LogKey.error: "\(error)"])
        }
        return false
    }

    /// One cycle; waits until the backfills it queued have finished, or until graceful shutdown.
    @discardableResult
    func runCycle() async -> BackfillCycleProgress {
        let startedAt = now()
        // Only the work is cancelled at shutdown; recording how the cycle ended is not.
        var progress = await cancelWhenGracefulShutdown { await fillGaps(startedAt: startedAt) }
        let cancelled = Task.isShuttingDownGracefully && (progress.instrumentsDone < progress.instrumentsTotal || progress.runID == nil)
        if cancelled { progress.error = "cancelled by shutdown" }
        progress.finishedAt = now()
        if board.current != nil {
            let (finishedAt, done, error) = (progress.finishedAt, progress.instrumentsDone, progress.error)
            board.update {
                $0.instrumentsDone = done
                $0.finishedAt = finishedAt
                $0.error = error
            }
            board.end()
        }
        if let id = progress.runID { try? await store.finishRun(id: id, progress: progress) }
        let outcome: String
        if cancelled {
            outcome = "cancelled"
        } else if progress.runID == nil, progress.error != nil {
            outcome = "failure"
        } else {
            outcome = progress.failures == 0 && progress.error == nil ? "success" : "partial"
        }
        EventBackfillMetrics.cycle(outcome: outcome, tokenSource: progress.tokenSource)
        logger.info(
            "Backfill cycle finished",
            metadata: [
                LogKey.tokenSource: "\(progress.tokenSource)", LogKey.instruments: "\(progress.instrumentsChecked)",
                LogKey.gaps: "\(progress.gapsFound)", LogKey.barsWritten: "\(progress.barsWritten)", LogKey.failures: "\(progress.failures)",
                LogKey.outcome: "\(outcome)",
            ]
        )
        return progress
    }

    /// The cycle's work: which instruments, which gaps, and filling them.
    private func fillGaps(startedAt: Date) async -> BackfillCycleProgress {
        var tokens: [Int64]
        var tokenSource = "ticker"
        do {
            tokens = try await subscriptions.activeSubscriptionTokens()
        } catch {
            tokenSource = "known"
            if Task.isCancelled { return BackfillCycleProgress(startedAt: startedAt, tokenSource: tokenSource) }
            logger.warning("TickerService unreachable, backfilling the known subscriptions instead", metadata: [LogKey.error: "\(error)"])
            do {
                tokens = try await store.knownActiveTokens(ticksSince: startedAt.addingTimeInterval(-3600))
            } catch {
                if !Task.isCancelled {
                    logger.error("Backfill cycle failed: could not read the known subscriptions", metadata: [LogKey.error: "\(error)"])
                }
                return BackfillCycleProgress(startedAt: startedAt, tokenSource: tokenSource, error: "\(error)")
            }
        }
        var progress = BackfillCycleProgress(startedAt: startedAt, tokenSource: tokenSource, instrumentsChecked: tokens.count)
        progress.runID = try? await store.startRun(tokenSource: tokenSource, total: tokens.count)
        board.begin(progress)
        logger.info("Backfill cycle started", metadata: [LogKey.tokenSource: "\(tokenSource)", LogKey.instruments: "\(tokens.count)"])

        var requests: [Int64: BackfillRequest] = [:]
        let currentMinute = Date(timeIntervalSince1970: TimeInterval(SessionCalendar.floorDiv(Int64(startedAt.timeIntervalSince1970), 60) * 60))
        let from = currentMinute.addingTimeInterval(-configuration.gapLookback.backfillSeconds)
        var gapError: String?
        var gapCount = 0
        for chunkStart in stride(from: 0, to: tokens.count, by: 200) where !Task.isCancelled {
            let chunk = Array(tokens[chunkStart..<min(chunkStart + 200, tokens.count)])
            do {
                let gaps = try await store.gaps(tokens: chunk, from: from, to: currentMinute, mode: configuration.session)
                gapCount += gaps.count
                for gap in gaps {
                    let request = BackfillRequest(token: gap.instrumentToken, reason: .gap, wantsTail: false, ranges: [gap.start...gap.end])
                    if requests[gap.instrumentToken] != nil { requests[gap.instrumentToken]!.merge(request) } else { requests[gap.instrumentToken] = request }
                }
            } catch {
                if Task.isCancelled { break }
                gapError = "\(error)"
                logger.error("Gap search failed", metadata: [LogKey.error: "\(error)"])
            }
        }
        EventBackfillMetrics.gaps(gapCount)
        // Most recent holes first: they are what charts and strike distributions look at.
        let ordered = requests.values.sorted { ($0.ranges.map(\.upperBound).max() ?? .max) > ($1.ranges.map(\.upperBound).max() ?? .max) }
        board.update {
            $0.gapsFound = gapCount
            $0.error = gapError
            $0.instrumentsTotal = ordered.count
        }
        progress.instrumentsTotal = ordered.count
        progress.gapsFound = gapCount
        progress.error = gapError
        let results = await withTaskGroup(of: BackfillOutcome.self, returning: [BackfillOutcome].self) { group in
            for request in ordered {
                EventBackfillMetrics.trigger(reason: request.reason.rawValue, outcome: "queued")
                group.addTask {
                    let outcome = await queue.enqueueAndWait(request)
                    board.update { progress in
                        if outcome != .cancelled { progress.instrumentsDone += 1 }
                        if case .success(let bars) = outcome { progress.barsWritten += bars }
                        if case .failed = outcome { progress.failures += 1 }
                    }
                    return outcome
                }
            }
            var all: [BackfillOutcome] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        for outcome in results {
            if outcome != .cancelled { progress.instrumentsDone += 1 }
            if case .success(let bars) = outcome { progress.barsWritten += bars }
            if case .failed = outcome { progress.failures += 1 }
        }
        if !Task.isCancelled {
            try? await store.pruneEmptyRanges(before: from.addingTimeInterval(-configuration.maxLookback.backfillSeconds))
        }
        return progress
    }
}

/// One periodic-backfill slot: `[start, start + interval)`, its start a whole multiple of the interval since the epoch,
/// so every instance cuts time alike.
struct CycleSlot: Equatable, Sendable {
    let start: Date
    let end: Date

    init(containing date: Date, interval: Duration) {
        let seconds = max(interval.backfillSeconds, 1)
        let index = (date.timeIntervalSince1970 / seconds).rounded(.down)
        start = Date(timeIntervalSince1970: index * seconds)
        end = Date(timeIntervalSince1970: (index + 1) * seconds)
    }
}

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

/// The subscription-aware periodic backfill (`BACKFILL_SUBSCRIPTION_AWARE`): every `BACKFILL_INTERVAL_SECONDS` it takes
/// the active subscriptions from TickerService (falling back, when TickerService is unreachable, to the instruments
/// known to be subscribed from processed events and recent tick bars), finds every missing session minute in the last
/// `BACKFILL_GAP_LOOKBACK_HOURS` (not only at the tail), and fills the gaps, most recent first; it also resumes
/// backfill jobs that an earlier process left open.
struct PeriodicBackfillService: Service {
    let subscriptions: any ActiveSubscriptionsSource
    let store: BackfillStore
    let queue: BackfillQueue
    let configuration: BackfillConfiguration
    let board: BackfillProgressBoard
    let logger: Logger
    var now: @Sendable () -> Date = { Date() }

    func run() async throws {
        guard configuration.subscriptionAware else {
            logger.info("Subscription-aware backfill disabled (BACKFILL_SUBSCRIPTION_AWARE=false)")
            // Stay up until shutdown: a service that returns early would end the whole ServiceGroup.
            try? await cancelWhenGracefulShutdown {
                while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
            }
            return
        }
        logger.info("Subscription-aware backfill started", metadata: ["interval": "\(configuration.cycleInterval)"])
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            _ = await runCycle()
            do {
                let interval = configuration.cycleInterval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
    }

    /// One cycle; waits until the backfills it queued have finished.
    @discardableResult
    func runCycle() async -> BackfillCycleProgress {
        let startedAt = now()
        var tokens: [Int64]
        var tokenSource = "ticker"
        do {
            tokens = try await subscriptions.activeSubscriptionTokens()
        } catch {
            tokenSource = "known"
            logger.warning("TickerService unreachable, backfilling the known subscriptions instead: \(error)")
            do {
                tokens = try await store.knownActiveTokens(ticksSince: startedAt.addingTimeInterval(-3600))
            } catch {
                logger.error("Backfill cycle failed: could not read the known subscriptions: \(error)")
                EventBackfillMetrics.cycle(outcome: "failure", tokenSource: tokenSource)
                return BackfillCycleProgress(startedAt: startedAt, finishedAt: now(), tokenSource: tokenSource, error: "\(error)")
            }
        }
        var progress = BackfillCycleProgress(startedAt: startedAt, tokenSource: tokenSource, instrumentsChecked: tokens.count)
        progress.runID = try? await store.startRun(tokenSource: tokenSource, total: tokens.count)
        _ = progress.instrumentsChecked
        board.begin(progress)
        logger.info("Backfill cycle started", metadata: ["token_source": "\(tokenSource)", "instruments": "\(tokens.count)"])

        var requests: [Int64: BackfillRequest] = [:]
        // Jobs an earlier process accepted but never finished.
        if let abandoned = try? await store.abandonedJobs(olderThan: startedAt.addingTimeInterval(-120), limit: 1000) {
            for job in abandoned {
                var request = BackfillRequest(token: job.token, reason: .subscription, wantsTail: true, jobIDs: [job.id])
                if let time = job.eventTime { request.eventTimestamps = [time.timeIntervalSince1970] }
                if requests[job.token] != nil { requests[job.token]!.merge(request) } else { requests[job.token] = request }
            }
        }
        let currentMinute = Date(timeIntervalSince1970: TimeInterval(SessionCalendar.floorDiv(Int64(startedAt.timeIntervalSince1970), 60) * 60))
        let from = currentMinute.addingTimeInterval(-configuration.gapLookback.backfillSeconds)
        var gapError: String?
        var gapCount = 0
        for chunkStart in stride(from: 0, to: tokens.count, by: 200) {
            let chunk = Array(tokens[chunkStart..<min(chunkStart + 200, tokens.count)])
            do {
                let gaps = try await store.gaps(tokens: chunk, from: from, to: currentMinute, mode: configuration.session)
                gapCount += gaps.count
                for gap in gaps {
                    let request = BackfillRequest(token: gap.instrumentToken, reason: .gap, wantsTail: false, ranges: [gap.start...gap.end])
                    if requests[gap.instrumentToken] != nil { requests[gap.instrumentToken]!.merge(request) } else { requests[gap.instrumentToken] = request }
                }
            } catch {
                gapError = "\(error)"
                logger.error("Gap search failed: \(error)")
            }
        }
        EventBackfillMetrics.gaps(gapCount)
        let ordered = requests.values.sorted { ($0.ranges.map(\.upperBound).max() ?? .max) > ($1.ranges.map(\.upperBound).max() ?? .max) }
        board.update {
            $0.gapsFound = gapCount
            $0.error = gapError
            $0.instrumentsTotal = ordered.count
        }
        progress.instrumentsTotal = ordered.count
        progress.gapsFound = gapCount
        progress.error = gapError
        // Most recent holes first (open subscription jobs before all): they are what charts and strike distributions look at.
        let results = await withTaskGroup(of: BackfillOutcome.self, returning: [BackfillOutcome].self) { group in
            for request in ordered {
                EventBackfillMetrics.trigger(reason: request.reason.rawValue, outcome: "queued")
                group.addTask {
                    let outcome = await queue.enqueueAndWait(request)
                    board.update { progress in
                        progress.instrumentsDone += 1
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
        progress.instrumentsDone = results.count
        for outcome in results {
            if case .success(let bars) = outcome { progress.barsWritten += bars }
            if case .failed = outcome { progress.failures += 1 }
        }
        progress.finishedAt = now()
        board.update {
            $0.instrumentsDone = results.count
            $0.finishedAt = progress.finishedAt
        }
        board.end()
        if let id = progress.runID { try? await store.finishRun(id: id, progress: progress) }
        try? await store.pruneEmptyRanges(before: from.addingTimeInterval(-configuration.maxLookback.backfillSeconds))
        EventBackfillMetrics.cycle(outcome: progress.failures == 0 && gapError == nil ? "success" : "partial", tokenSource: tokenSource)
        logger.info(
            "Backfill cycle finished",
            metadata: [
                "token_source": "\(tokenSource)", "instruments": "\(tokens.count)", "gaps": "\(gapCount)",
                "bars_written": "\(progress.barsWritten)", "failures": "\(progress.failures)",
            ]
        )
        return progress
    }
}

import BrokerWire
import Foundation
import Logging
import ServiceLifecycle
import Shared
import SharedBasics

/// Repairs suspect minutes from the broker's candles (docs/bars.md, "Suspect minutes and repair").
///
/// Every `REPAIR_INTERVAL` it takes the `REPAIR_BATCH_INSTRUMENTS` instruments with the oldest due suspect minutes and
/// of each all its due minutes (at most `REPAIR_BATCH_MINUTES`, within 60 days: one request's range; a minute is due
/// `REPAIR_DELAY` after it closed, and again after each backoff), groups them per instrument into as few requests as possible
/// (``RepairPlan``), fetches each through the same ``CandleSource`` as backfill (TickerService's paced `/history`, so
/// the broker budget is shared), and writes the candles as `source = 'repaired'`, deleting the suspect rows in the
/// same transaction. A minute the answer lacks is asked again with backoff, and after `REPAIR_EMPTY_ATTEMPTS` answers
/// taken as a minute without trades (``SuspectMinuteStore/resolveWithoutCandle(token:minutes:)``). A failed request is
/// retried with capped exponential backoff; a permanent error (4xx other than 429) gives the minutes up.
///
/// All state is in `suspect_minutes`: taken minutes are leased, so after a crash they are due again when the lease
/// ends; on graceful shutdown the running request is cancelled and the minutes not done are handed back at once.
struct MinuteRepairService: Service {
    let store: SuspectMinuteStore
    let source: any CandleSource
    let configuration: RepairConfiguration
    let logger: Logger

    /// After an empty answer: 15 s doubling to 60 s (the broker may publish a closed minute's candle a little late).
    static let emptyBackoff = Backoff(base: .seconds(15), cap: .seconds(60))
    /// After a failed request: 5 s doubling to 5 minutes.
    static let failureBackoff = Backoff(base: .seconds(5), cap: .seconds(300))

    func run() async throws {
        logger.info("Minute repair started", metadata: [LogKey.interval: "\(configuration.interval)"])
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await cycle()
            do {
                let interval = configuration.interval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
        logger.info("Minute repair stopped")
    }

    /// One look: takes the due minutes and repairs them, request by request.
    func cycle() async {
        let due: [SuspectMinute]
        do {
            due = try await store.takeDue(
                instruments: configuration.batchInstruments, perInstrument: configuration.batchMinutes, lease: configuration.lease
            )
            RepairMetrics.due(max(0, try await store.dueCount()))
        } catch {
            if !Task.isShuttingDownGracefully { logger.error("Could not read suspect minutes", metadata: [LogKey.error: "\(error)"]) }
            return
        }
        guard !due.isEmpty else { return }
        let requests = RepairPlan.requests(for: due)
        logger.debug("Repairing suspect minutes", metadata: [LogKey.minutes: "\(due.count)", LogKey.requests: "\(requests.count)"])
        for (index, request) in requests.enumerated() {
            if Task.isShuttingDownGracefully || Task.isCancelled {
                await handBack(requests[index...])
                return
            }
            let finished = (try? await cancelWhenGracefulShutdown { await repair(request) }) ?? false
            if !finished {
                await handBack(requests[index...])
                return
            }
        }
    }

    /// Fetches and writes one request. - Returns: false when shutdown cancelled it (nothing of it was written).
    func repair(_ request: RepairRequest) async -> Bool {
        var logger = logger
        logger[metadataKey: LogKey.instrumentToken] = "\(request.instrumentToken)"
        let candles: [KiteCandle]
        do {
            candles = try await source.candles(
                token: request.instrumentToken, from: Date(timeIntervalSince1970: TimeInterval(request.first)),
                to: Date(timeIntervalSince1970: TimeInterval(request.last + 59))
            )
            RepairMetrics.fetch(outcome: "ok", purpose: "repair")
        } catch {
            if error is CancellationError || Task.isCancelled { return false }
            RepairMetrics.fetch(outcome: "error", purpose: "repair")
            await failed(request, error: error, logger: logger)
            return true
        }
        let wanted = Dictionary(uniqueKeysWithValues: request.minutes.map { ($0.minute, $0) })
        let found = candles.filter { wanted[$0.timestamp] != nil }
        let missing = request.minutes.filter { minute in !found.contains { $0.timestamp == minute.minute } }
        do {
            let written = try await store.writeRepaired(token: request.instrumentToken, candles: found)
            for (reason, minutes) in Dictionary(grouping: found.compactMap { wanted[$0.timestamp] }, by: { $0.reasons.first ?? "unknown" }) {
                RepairMetrics.repaired(minutes.count, reason: reason)
            }
            if !found.isEmpty {
                logger.info("Suspect minutes repaired", metadata: [LogKey.minutes: "\(found.count)", LogKey.barsWritten: "\(written)"])
            }
            let exhausted = missing.filter { $0.attempts + 1 >= configuration.emptyAttempts }.map(\.minute)
            let retry = missing.filter { $0.attempts + 1 < configuration.emptyAttempts }
            if !exhausted.isEmpty {
                let deleted = try await store.resolveWithoutCandle(token: request.instrumentToken, minutes: exhausted)
                RepairMetrics.unrepaired(exhausted.count, outcome: "no_candle")
                logger.warning(
                    "Broker has no candle for suspect minutes; taken as minutes without trades",
                    metadata: [LogKey.minutes: "\(exhausted.count)", "tick_bars_deleted": "\(deleted)"]
                )
            }
            for (attempts, minutes) in Dictionary(grouping: retry, by: \.attempts) {
                try await store.reschedule(
                    token: request.instrumentToken, minutes: minutes.map(\.minute), retryAfter: Self.emptyBackoff.ceiling(afterFailures: attempts + 1),
                    error: "no candle in the broker's answer"
                )
            }
        } catch {
            if error is CancellationError || Task.isCancelled { return false }
            logger.error("Could not write repaired minutes", metadata: [LogKey.error: "\(error)"])
            // The lease brings them back; nothing was committed.
        }
        return true
    }

    private func failed(_ request: RepairRequest, error: any Error, logger: Logger) async {
        let permanent = (error as? TickerClientError).map { !$0.isTransient } ?? false
        do {
            if permanent {
                // A 4xx (unknown instrument, bad range) will not change: the tick bars stay as they are.
                RepairMetrics.unrepaired(request.minutes.count, outcome: "given_up")
                logger.error("Suspect minutes given up after a permanent error", metadata: [LogKey.error: "\(error)"])
                try await store.drop(token: request.instrumentToken, minutes: request.minutes.map(\.minute))
            } else {
                let attempts = request.minutes.map(\.attempts).max() ?? 0
                let delay = Self.failureBackoff.delay(afterFailures: attempts + 1)
                logger.warning("Repair fetch failed, retrying", metadata: [LogKey.error: "\(error)", LogKey.delay: "\(delay)"])
                try await store.reschedule(token: request.instrumentToken, minutes: request.minutes.map(\.minute), retryAfter: delay, error: "\(error)")
            }
        } catch {
            logger.error("Could not record a failed repair", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Graceful shutdown: the minutes not repaired are due again at once, for the next start or another instance.
    private func handBack(_ requests: ArraySlice<RepairRequest>) async {
        for request in requests {
            try? await store.release(token: request.instrumentToken, minutes: request.minutes.map(\.minute))
        }
    }
}

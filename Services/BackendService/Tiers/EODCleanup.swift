import Foundation
import Logging
import SharedPostgres
import Synchronization

/// The end-of-day cleanup (seed 004's phase 3, without its TODO): every Tier A holder released, the watchlists emptied
/// when `EOD_CLEAR_WATCHLISTS` is on, Tier B kept. One run per trading day across restarts and instances
/// (``EODRunStore``); `POST /api/v2/admin/eod-cleanup` forces one now.
struct EODCleanup: Sendable {
    let tiers: TierManager
    let watchlists: WatchlistStore
    let runs: EODRunStore
    let clearWatchlists: Bool
    let logger: Logger

    /// Runs `day`'s cleanup unless it already ran (or `force`).
    /// - Parameters:
    ///   - day: The trading day, `yyyy-MM-dd` (IST).
    ///   - trigger: `schedule` or `api`.
    ///   - force: Run even if the day's cleanup already ran.
    func run(day: String, trigger: String, force: Bool) async throws -> EODCleanupBody {
        guard try await runs.claim(day: day, trigger: trigger, force: force) else {
            return EODCleanupBody(tradingDay: day, trigger: trigger, ran: false, released: 0, watchlistsCleared: 0)
        }
        let clear = clearWatchlists
        let cleared = Atomic<Int>(0)
        let store = tiers.store
        let released = try await tiers.releaseAllTierA(actor: "eod", reason: "end of day \(day)") { connection in
            if clear {
                cleared.store(try await watchlists.deleteAll(on: connection), ordering: .relaxed)
                try await store.clearEvictions(on: connection)
            }
        }
        try await runs.finish(day: day, released: released, watchlistsCleared: cleared.load(ordering: .relaxed))
        TierMetrics.eodRan(trigger: trigger)
        logger.info(
            "end-of-day cleanup done",
            metadata: ["trading_day": "\(day)", "trigger": "\(trigger)", "released": "\(released)", "watchlists_cleared": "\(cleared.load(ordering: .relaxed))"]
        )
        return EODCleanupBody(tradingDay: day, trigger: trigger, ran: true, released: released, watchlistsCleared: cleared.load(ordering: .relaxed))
    }
}

import Logging
import ServiceLifecycle

/// Keeps every watchlist chain around the money: every `interval` it asks each underlying entry whether the price
/// has moved past `ATM_RECENTER_STRIKES` strikes and re-centres it make-before-break (``WatchlistService/recenter(_:)``).
struct ChainRecenterService: Service {
    let watchlists: WatchlistService
    var interval: Duration = .seconds(30)
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await pass()
            }
        }
    }

    /// One look at every underlying entry.
    func pass() async {
        let entries: [WatchlistEntry]
        do {
            entries = try await watchlists.store.underlyingEntries()
        } catch {
            logger.warning("watchlist chains not checked", metadata: [LogKey.error: "\(error)"])
            return
        }
        var moved = 0
        for entry in entries {
            do {
                if try await watchlists.recenter(entry) { moved += 1 }
            } catch is CancellationError {
                return
            } catch {
                logger.debug("watchlist chain not re-centred", metadata: [LogKey.symbol: "\(entry.symbol)", LogKey.error: "\(error)"])
            }
        }
        if moved > 0 { logger.info("watchlist chains re-centred", metadata: ["chains": "\(moved)"]) }
    }
}

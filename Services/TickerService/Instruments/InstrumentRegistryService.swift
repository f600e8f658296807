import CoreMetrics
import AsyncHTTPClient
import BrokerWire
import Foundation
import Logging
import ServiceLifecycle
import SharedBasics

/// Keeps the instrument cache fresh: downloads the broker's dump at startup and then every
/// `INSTRUMENTS_REFRESH_INTERVAL` (daily by default). When the broker cannot be reached it keeps serving what is
/// cached and retries with capped exponential backoff; it never stops the service.
struct InstrumentRegistryService: Service {
    let client: InstrumentDumpClient
    let repository: any InstrumentRepository
    let refreshInterval: Duration
    let logger: Logger
    var retryBaseDelay: Duration = .seconds(1)
    var retryMaxDelay: Duration = .seconds(300)

    func run() async throws {
        await publishCachedCount()
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                let delay: Duration
                if await loadOnce() {
                    failures = 0
                    delay = refreshInterval
                } else {
                    failures += 1
                    delay = Backoff(base: retryBaseDelay, cap: min(retryMaxDelay, refreshInterval)).delay(afterFailures: failures)
                    logger.info("instrument dump will be retried", metadata: [TickerLogKey.attempt: "\(failures)", TickerLogKey.delayMS: "\(delay.wholeMilliseconds)"])
                }
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Downloads and stores the dump once. Returns whether it worked.
    @discardableResult
    func loadOnce() async -> Bool {
        let started = ContinuousClock.now
        do {
            let instruments = try await client.fetch()
            let written = try await repository.store(instruments)
            TickerMetrics.instrumentLoad(outcome: "ok")
            await publishCachedCount()
            logger.info(
                "instrument dump loaded",
                metadata: [
                    TickerLogKey.url: "\(client.brokerURL)", TickerLogKey.rows: "\(written)",
                    TickerLogKey.durationMS: "\((ContinuousClock.now - started).wholeMilliseconds)",
                ]
            )
            return true
        } catch {
            // Shutting down mid-download is not a failure worth reporting.
            if Task.isCancelled { return false }
            TickerMetrics.instrumentLoad(outcome: "failed")
            let cached = (try? await repository.count()) ?? 0
            logger.warning(
                "instrument dump not loaded; serving the cached instruments",
                metadata: [TickerLogKey.url: "\(client.brokerURL)", TickerLogKey.error: "\(error)", TickerLogKey.rows: "\(cached)"]
            )
            return false
        }
    }

    private func publishCachedCount() async {
        if let count = try? await repository.count() { TickerMetrics.instrumentsCached.record(count) }
    }
}

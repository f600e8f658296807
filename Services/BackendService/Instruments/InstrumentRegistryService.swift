import Logging
import ServiceLifecycle
import ServiceRuntime

/// Keeps ``InstrumentRegistry`` loaded: at startup it loads until the table has rows (TickerService may still be
/// loading the dump; every `retryInterval`), then reloads every `refreshInterval` to pick up the daily dump. A failed
/// reload keeps the previous snapshot.
struct InstrumentRegistryService: Service {
    let registry: InstrumentRegistry
    var retryInterval: Duration = .seconds(2)
    var refreshInterval: Duration = .seconds(900)
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var loaded = false
            while !Task.isCancelled {
                do {
                    // Building the index takes seconds and cannot stop halfway; a shutdown does not wait for it.
                    let count = try await abandonedOnCancel { [registry] in try await registry.reload() }
                    if count > 0, !loaded { logger.info("instrument registry loaded", metadata: [LogKey.instruments: "\(count)"]) }
                    loaded = loaded || count > 0
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("instrument registry not reloaded", metadata: [LogKey.error: "\(error)"])
                }
                try await Task.sleep(for: loaded ? refreshInterval : retryInterval)
            }
        }
    }
}

import Logging
import ServiceLifecycle

/// Records the streamed instruments as used for the cap's LRU eviction (docs/tiers.md), in one call every
/// `interval` for every token some client streams, never per tick.
struct StreamUseRecorder: Service {
    let hub: StreamHub
    let use: any InstrumentUse
    let interval: Duration

    func run() async throws {
        // The sleep is cancelled at shutdown, so the service stops at once, not after up to one interval.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                let tokens = hub.streamedTokens
                if !tokens.isEmpty { await use.touched(tokens) }
            }
        }
    }
}

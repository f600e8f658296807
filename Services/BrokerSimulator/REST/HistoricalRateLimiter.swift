import Synchronization

/// A broker's historical-API limit: at most N requests in any one-second window per key (sliding window). Kite allows 3
/// per API key; Dhan's Data APIs 5 per client id. Each API has its own limiter, so their budgets do not mix.
final class HistoricalRateLimiter: Sendable {
    let requestsPerSecond: Int
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let recent = Mutex<[String: [ContinuousClock.Instant]]>([:])

    /// - Parameters:
    ///   - requestsPerSecond: Kite allows 3, Dhan 5.
    ///   - clock: Where ``allow(apiKey:)`` reads the time; tests pass a fixed or stepped instant.
    init(requestsPerSecond: Int = 3, clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.requestsPerSecond = max(1, requestsPerSecond)
        self.clock = clock
    }

    /// Records a request at the limiter's clock's time, or refuses it.
    func allow(apiKey: String) -> Bool {
        allow(apiKey: apiKey, now: clock())
    }

    /// Records a request at `now`, or refuses it when `requestsPerSecond` were already allowed in (now - 1 s, now].
    func allow(apiKey: String, now: ContinuousClock.Instant) -> Bool {
        let windowStart = now - .seconds(1)
        return recent.withLock { recent in
            var times = recent[apiKey, default: []]
            times.removeAll { $0 <= windowStart }
            guard times.count < requestsPerSecond else {
                recent[apiKey] = times
                return false
            }
            times.append(now)
            recent[apiKey] = times
            if recent.count > 10_000 { recent = recent.filter { $0.value.contains { $0 > windowStart } } }
            return true
        }
    }
}

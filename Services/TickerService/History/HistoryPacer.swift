/// Paces historical-candle requests per account so the broker's limit (Kite: 3 per second per API key) is never hit,
/// and spreads them over the accounts.
///
/// The broker counts requests in a sliding one-second window, so a token bucket (which allows a burst of N and then
/// one every 1/N s) would overrun it; this keeps the start times of each account's last N requests and hands out the
/// earliest slot at which a new one is at least ``window`` after the N-th previous one. A 429 blocks the account for a
/// while (``penalize(_:for:)``).
actor HistoryPacer {
    let requestsPerSecond: Int
    /// The broker's window plus a margin for network jitter.
    let window: Duration
    private var starts: [String: [ContinuousClock.Instant]] = [:]
    private var blockedUntil: [String: ContinuousClock.Instant] = [:]

    init(requestsPerSecond: Int, window: Duration = .milliseconds(1_100)) {
        self.requestsPerSecond = max(1, requestsPerSecond)
        self.window = window
    }

    /// Reserves the earliest slot over `accounts`; the caller sleeps until `at` and then sends.
    func reserve(accounts: [String]) -> (account: String, at: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        var best: (account: String, at: ContinuousClock.Instant)?
        for account in accounts {
            var slot = now
            let recent = starts[account] ?? []
            if recent.count >= requestsPerSecond { slot = max(slot, recent[recent.count - requestsPerSecond] + window) }
            if let blocked = blockedUntil[account] { slot = max(slot, blocked) }
            if best == nil || slot < best!.at { best = (account, slot) }
        }
        guard let best else { return (accounts.first ?? "", now) }
        var recent = starts[best.account] ?? []
        recent.append(best.at)
        recent.sort()
        if recent.count > requestsPerSecond { recent.removeFirst(recent.count - requestsPerSecond) }
        starts[best.account] = recent
        return best
    }

    /// The broker said 429: give the account no slot for `duration`.
    func penalize(_ account: String, for duration: Duration) {
        let until = ContinuousClock.now + duration
        blockedUntil[account] = max(blockedUntil[account] ?? until, until)
    }
}

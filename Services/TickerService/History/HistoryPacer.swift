/// Paces historical-candle requests per account so the broker's limit (Kite: 3 per second per API key) is never hit,
/// spreads them over the accounts, and keeps a share of every account's rate for backfill.
///
/// The broker counts requests in a sliding one-second window, so a token bucket (which allows a burst of N and then
/// one every 1/N s) would overrun it; this keeps the start times it handed out (future ones too, for requests still
/// waiting) and gives each new request the earliest time at which no window of ``window`` holds more than N starts.
/// A 429 blocks the account for a while (``penalize(_:for:)``).
///
/// **Fair share.** Every `/history` request is either `backfill` (BackendService's, marked `X-History-Purpose: backfill`)
/// or `interactive` (anything else: charts, scripts). Interactive requests may take at most ``interactiveLimit`` of an
/// account's N slots in any window — N − max(1, N/3), i.e. 2 of Kite's 3 per second — so however many are queued,
/// backfill always finds a slot within one window. With N = 1, interactive requests take at most one slot per two
/// windows. Backfill may use every slot that interactive requests leave free.
actor HistoryPacer {
    /// Who a request is for; decides which share it may use.
    enum Purpose: String, Sendable {
        /// A user's or a tool's request: at most ``HistoryPacer/interactiveLimit`` slots per window.
        case interactive
        /// BackendService's backfill: any free slot.
        case backfill
    }

    let requestsPerSecond: Int
    /// The broker's window plus a margin for network jitter.
    let window: Duration
    /// Most interactive starts per ``interactiveWindow`` and account.
    let interactiveLimit: Int
    /// The window interactive starts are counted in (``window``, or two of them when the rate is 1 per window).
    let interactiveWindow: Duration
    private var starts: [String: [(at: ContinuousClock.Instant, purpose: Purpose)]] = [:]
    private var blockedUntil: [String: ContinuousClock.Instant] = [:]

    init(requestsPerSecond: Int, window: Duration = .milliseconds(1_100)) {
        let rate = max(1, requestsPerSecond)
        self.requestsPerSecond = rate
        self.window = window
        if rate >= 2 {
            interactiveLimit = rate - max(1, rate / 3)
            interactiveWindow = window
        } else {
            interactiveLimit = 1
            interactiveWindow = window * 2
        }
    }

    /// Reserves the earliest slot over `accounts`; the caller sleeps until `at` and then sends.
    /// - Parameters:
    ///   - accounts: The accounts that may send it.
    ///   - purpose: Which share the request may use.
    func reserve(accounts: [String], purpose: Purpose) -> (account: String, at: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        var best: (account: String, at: ContinuousClock.Instant)?
        for account in accounts {
            prune(account, now: now)
            let slot = earliestSlot(account, purpose: purpose, now: now)
            if best == nil || slot < best!.at { best = (account, slot) }
        }
        guard let best else { return (accounts.first ?? "", now) }
        starts[best.account, default: []].append((best.at, purpose))
        return best
    }

    /// The time the next request of `purpose` would get on `account` (without reserving it).
    func nextSlot(account: String, purpose: Purpose) -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        prune(account, now: now)
        return earliestSlot(account, purpose: purpose, now: now)
    }

    /// The broker said 429: give the account no slot for `duration`.
    func penalize(_ account: String, for duration: Duration) {
        let until = ContinuousClock.now + duration
        blockedUntil[account] = max(blockedUntil[account] ?? until, until)
    }

    private func prune(_ account: String, now: ContinuousClock.Instant) {
        let horizon = now - max(window, interactiveWindow)
        starts[account]?.removeAll { $0.at < horizon }
    }

    private func earliestSlot(_ account: String, purpose: Purpose, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let reserved = starts[account] ?? []
        let all = reserved.map(\.at).sorted()
        let interactive = purpose == .interactive ? reserved.filter { $0.purpose == .interactive }.map(\.at).sorted() : []
        let floor = max(now, blockedUntil[account] ?? now)
        // The earliest fitting time is the floor or the end of some window that starts at a reserved slot.
        let candidates = ([floor] + all.map { $0 + window } + interactive.map { $0 + interactiveWindow }).filter { $0 >= floor }.sorted()
        for candidate in candidates
        where Self.fits(candidate, all, limit: requestsPerSecond, window: window)
            && (purpose == .backfill || Self.fits(candidate, interactive, limit: interactiveLimit, window: interactiveWindow))
        {
            return candidate
        }
        return candidates.last ?? floor  // never reached: the latest candidate always fits
    }

    /// Whether a start at `time` keeps every window of `window` at or below `limit` starts. The fullest window holding
    /// `time` begins at one of the starts or at `time` itself, so only those are checked.
    static func fits(_ time: ContinuousClock.Instant, _ sorted: [ContinuousClock.Instant], limit: Int, window: Duration) -> Bool {
        for begin in sorted + [time] where begin <= time && time < begin + window {
            let inside = sorted.count { $0 >= begin && $0 < begin + window }
            if inside + 1 > limit { return false }
        }
        return true
    }
}

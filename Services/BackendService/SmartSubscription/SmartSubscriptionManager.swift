import Foundation
import Logging
import ServiceLifecycle
import Shared

/// What one smart-subscription attempt did, reported as is in the strike distribution's `metadata`.
struct SmartSubscriptionResult: Sendable, Equatable {
    /// Tokens TickerService already had (from its answer or the status cache).
    var alreadySubscribed: [Int64] = []
    /// Tokens this attempt asked for and TickerService confirmed.
    var newlySubscribed: [Int64] = []
    /// Tokens that could not be subscribed.
    var failed: [Int64] = []
    /// Whether a stored bar appeared for any of the subscribed tokens within the wait.
    var dataAvailable = false
    /// How many of the subscribed tokens had a stored bar when the wait ended.
    var instrumentsWithData = 0
    /// How long the attempt waited for stored bars.
    var waited: Duration = .zero
    /// TickerService's complaint, when it refused or could not be reached.
    var error: String?
}

/// Seed 002's SmartSubscriptionManager, done properly: subscription status comes from TickerService's active list
/// (one call per attempt, cached for `SMART_SUBSCRIPTION_CACHE_TTL`), the missing tokens are subscribed in one batch under
/// the holder `ondemand:strike-distribution`, and then it **waits for real data**: it polls `bars_1m` until every
/// instrument it has just subscribed has a stored bar (when it subscribed none, until any of them has one), for up to
/// `SMART_SUBSCRIPTION_WAIT_TIMEOUT`, and says how many had data. Waiting for all of the new ones, not the first,
/// keeps the first answer from showing a couple of strikes while the rest of the chain is still being backfilled.
actor SmartSubscriptionManager {
    static let holder = "ondemand:strike-distribution"

    struct Settings: Sendable {
        var waitTimeout: Duration = .seconds(10)
        var cacheTTL: Duration = .seconds(60)
        var pollInterval: Duration = .milliseconds(250)
    }

    private let ticker: any SubscriptionTicker
    private let chains: OptionChainRepository
    private let settings: Settings
    private let logger: Logger
    private let clock = ContinuousClock()
    /// Tokens known to be subscribed, and when that was learnt.
    private var knownSubscribed: [Int64: ContinuousClock.Instant] = [:]

    init(ticker: any SubscriptionTicker, chains: OptionChainRepository, settings: Settings, logger: Logger) {
        self.ticker = ticker
        self.chains = chains
        self.settings = settings
        self.logger = logger
    }

    /// Makes sure the instruments are subscribed, then waits for their first stored bar.
    /// - Parameter tokens: The instruments (e.g. an option chain around the money).
    /// - Returns: What happened; never throws for TickerService or database trouble (it is reported instead).
    /// - Throws: `CancellationError` when the request went away.
    func ensureSubscribed(_ tokens: [Int64]) async throws -> SmartSubscriptionResult {
        var result = SmartSubscriptionResult()
        let wanted = Array(Set(tokens)).sorted()
        guard !wanted.isEmpty else { return result }
        let now = clock.now
        knownSubscribed = knownSubscribed.filter { now - $0.value < settings.cacheTTL }
        var unknown = wanted.filter { knownSubscribed[$0] == nil }
        if !unknown.isEmpty {
            do {
                let active = try await ticker.activeSubscriptions()
                let learnt = clock.now
                for subscription in active { knownSubscribed[subscription.instrumentToken] = learnt }
            } catch let error as CancellationError {
                throw error
            } catch {
                // Subscribing is idempotent per holder, so an unknown status only costs a redundant request.
                logger.warning("cannot list TickerService's active subscriptions", metadata: [LogKey.error: "\(error)"])
            }
            unknown = wanted.filter { knownSubscribed[$0] == nil }
        }
        result.alreadySubscribed = wanted.filter { knownSubscribed[$0] != nil }

        if !unknown.isEmpty {
            MarketMetrics.autoSubscribeAttempt()
            do {
                let outcome = try await ticker.subscribe(unknown, mode: .full, holder: Self.holder)
                if let capacityError = outcome.capacityError {
                    result.failed = unknown
                    result.error = capacityError
                } else {
                    let confirmed = Set(outcome.subscribed)
                    result.newlySubscribed = unknown.filter(confirmed.contains)
                    result.failed = unknown.filter { !confirmed.contains($0) }
                    let learnt = clock.now
                    for token in result.newlySubscribed { knownSubscribed[token] = learnt }
                }
            } catch let error as CancellationError {
                throw error
            } catch {
                result.failed = unknown
                result.error = "\(error)"
            }
            if !result.failed.isEmpty {
                MarketMetrics.autoSubscribeFailure()
                logger.warning(
                    "auto-subscription failed", metadata: [LogKey.failed: "\(result.failed.count)", LogKey.error: "\(result.error ?? "not confirmed")"])
            } else {
                logger.info("auto-subscribed", metadata: [LogKey.instruments: "\(result.newlySubscribed.count)", LogKey.holder: "\(Self.holder)"])
            }
        }

        let subscribed = result.alreadySubscribed + result.newlySubscribed
        guard !subscribed.isEmpty else { return result }
        // Newly subscribed instruments are being backfilled right now: wait for all of them. Ones that were already
        // subscribed had their chance; one bar among them is enough.
        let mustAllHaveData = Set(result.newlySubscribed)
        let start = clock.now
        let deadline = start.advanced(by: settings.waitTimeout)
        while true {
            do {
                let withData = try await chains.tokensWithBars(subscribed)
                result.instrumentsWithData = withData.count
                result.dataAvailable = !withData.isEmpty
                let done = mustAllHaveData.isEmpty ? result.dataAvailable : mustAllHaveData.isSubset(of: withData)
                if done { break }
            } catch let error as CancellationError {
                throw error
            } catch {
                logger.warning("checking for stored bars failed", metadata: [LogKey.error: "\(error)"])
            }
            let remaining = deadline - clock.now
            // At shutdown the request answers at once with the data there is, instead of holding the server's stop.
            guard remaining > .zero, !Task.isShuttingDownGracefully else { break }
            let pause = min(settings.pollInterval, remaining)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            try Task.checkCancellation()
        }
        result.waited = clock.now - start
        return result
    }
}

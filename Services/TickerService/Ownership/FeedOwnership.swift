import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the broker sessions only while this instance holds the ``FeedLease``, so that of several TickerService
/// instances on one database exactly one opens sessions for the configured accounts at any moment.
///
/// Standby, it tries to take the lease every ``renewInterval`` and keeps ``LeasedFeed`` told who holds it (the
/// forwarding middleware sends requests there). Once it holds the lease it starts a **term**: a fresh
/// ``FeedManager`` (and its rebalancer), the restore of every stored subscription at its stored placement and mode
/// (their `reconnect` gap starts at the last tick on `{prefix}:ticks`, so BackendService repairs the minutes the
/// previous owner's death cost), and the renewal of the lease every ``renewInterval``. The term ends, closing every
/// session, when another instance holds the lease or when no renewal has succeeded for ``fenceAfter`` (a little more
/// than half the lease: the sessions are closed before the lease can expire and be taken). A clean stop closes the
/// sessions and then deletes the lease row, so a standby takes over within one ``renewInterval``.
struct FeedOwnership: Service {
    let lease: FeedLease
    let feed: LeasedFeed
    /// Builds the term's manager; the argument is the start (epoch ms) of restored subscriptions' `reconnect` gap.
    let makeManager: @Sendable (Int64) -> FeedManager
    /// The services that run beside a term's manager (its rebalancer), built for that manager.
    let termServices: @Sendable (FeedManager) -> [any Service]
    /// The id of the last entry on `{prefix}:ticks`, read when a term starts; nil when none or unreadable.
    let lastTickEntryID: @Sendable () async -> String?
    /// Restores the stored subscriptions on the term's manager; nil where a test turns the restore off.
    let restore: (@Sendable () async -> Void)?
    let logger: Logger

    var renewInterval: Duration { lease.duration / 5 }
    var fenceAfter: Duration { lease.duration * 0.6 }

    func run() async throws {
        TickerMetrics.feedLeaseOwned.record(0)
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    if try await lease.acquireOrRenew() {
                        failures = 0
                        await runTerm()
                        continue
                    }
                    let holder = try await lease.holder()
                    if feed.owner != holder {
                        logger.info("standby: another instance holds the broker sessions", metadata: ["feed.owner": "\(holder?.owner ?? "none")"])
                    }
                    feed.setOwner(holder)
                    failures = 0
                } catch {
                    failures += 1
                    if failures == 1 || failures % 30 == 0 {
                        logger.warning("cannot read the broker sessions' lease; retrying", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                    }
                }
                try? await Task.sleep(for: renewInterval)
            }
        }
        // Give the lease up (after the term closed its sessions), in a task of its own: this one is cancelled.
        let held = self.lease
        try? await Task { try await held.release() }.value
    }

    /// One term as owner: starts the sessions, keeps the lease, and returns once every session of the term is closed.
    func runTerm() async {
        let startMillis = Int64(Date().timeIntervalSince1970 * 1000)
        let gapSince = RestartGapStart.millis(lastTickEntryID: await lastTickEntryID(), processStartMillis: startMillis)
        let manager = makeManager(gapSince)
        let me = FeedLease.Holder(owner: lease.instanceID, ownerURL: lease.advertisedURL)
        feed.setManager(manager, holder: me)
        TickerMetrics.feedLeaseOwned.record(1)
        TickerMetrics.feedLeaseTerms.increment()
        logger.notice("took the broker sessions' lease: opening the sessions", metadata: ["feed.instance": "\(lease.instanceID)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await manager.run() }
            for service in termServices(manager) { group.addTask { try? await service.run() } }
            if let restore { group.addTask { await restore() } }
            let ending = await keepLease()
            feed.setManager(nil, holder: nil)
            TickerMetrics.feedLeaseOwned.record(0)
            logger.notice("closing the broker sessions", metadata: ["reason": "\(ending)"])
            group.cancelAll()
        }
    }

    /// Renews the lease until the term must end, and says why.
    func keepLease() async -> String {
        let renewals = LeaseRenewals()
        let lease = self.lease
        let interval = renewInterval
        let logger = self.logger
        // Its own task: a renewal that hangs must not keep the term from ending on time.
        let renewer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                let started = ContinuousClock.now
                do {
                    renewals.record(held: try await lease.acquireOrRenew(), at: started)
                } catch {
                    logger.warning("could not renew the broker sessions' lease", metadata: ["error": "\(error)"])
                }
            }
        }
        defer { renewer.cancel() }
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            let (last, lost) = renewals.state
            if lost { return "another instance holds the lease" }
            if ContinuousClock.now - last > fenceAfter { return "the lease could not be renewed for \(fenceAfter)" }
        }
        return "shutting down"
    }
}

/// The last successful renewal of a term's lease, and whether a renewal found the lease held by another instance.
final class LeaseRenewals: Sendable {
    private let value = Mutex((last: ContinuousClock.now, lost: false))

    var state: (last: ContinuousClock.Instant, lost: Bool) { value.withLock { $0 } }

    func record(held: Bool, at started: ContinuousClock.Instant) {
        value.withLock {
            if held { $0.last = max($0.last, started) } else { $0.lost = true }
        }
    }
}

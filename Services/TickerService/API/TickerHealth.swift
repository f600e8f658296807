import Foundation
import ServiceRuntime
import Shared

/// Builds seed 003's health JSON:
/// `{"status","environment","ticker":{"running","active_subscriptions"},"dependencies":{"redis","database","instrument_registry":{"status","cached_instruments"}}}`,
/// plus, under `ticker`, what the feed streams (`streaming_instruments`, `capacity`, `connections`) and this instance's
/// part in the lease on the broker sessions (`feed_lease`).
struct TickerHealth: Sendable {
    let environment: DeploymentEnvironment
    let checks: [any DependencyCheck]
    let feed: any FeedControlling
    let subscriptions: any SubscriptionStore
    let instruments: any InstrumentRepository
    /// The outbox, whose unpublished events the report counts; nil where there is none to count (unit tests).
    var outbox: (any OutboxRepository)? = nil

    /// The report and whether every dependency is up.
    func report() async -> (body: TickerHealthBody, healthy: Bool) {
        async let feedStatus = feed.status()
        let results = await checks.runAll()
        let databaseUp = results.first { $0.name == "database" }?.status.isOK ?? false
        let cachedInstruments = databaseUp ? (try? await instruments.count()) : nil
        let activeSubscriptions = databaseUp ? (try? await subscriptions.activeCount()) : nil
        let outboxPending = databaseUp ? (try? await outbox?.pendingCount()) : nil
        let status = await feedStatus
        let forbidden = status.forbiddenAccounts
        // A standby streams nothing itself: it is fine while another instance holds the broker sessions.
        let feedDelivering = status.lease?.role == .standby
            ? status.lease?.owner != nil
            : Self.feedDelivering(status, activeSubscriptions: activeSubscriptions)
        let healthy = HealthStatus(results) == .ok && forbidden.isEmpty && feedDelivering
        let body = TickerHealthBody(
            status: healthy ? .ok : .degraded,
            environment: environment.rawValue,
            ticker: TickerHealthBody.Ticker(
                running: status.running,
                activeSubscriptions: activeSubscriptions ?? 0,
                streamingInstruments: status.subscribedInstruments,
                capacity: status.capacity,
                connections: status.connections,
                forbiddenAccounts: forbidden.isEmpty ? nil : forbidden,
                feedStreaming: feedDelivering,
                outboxPending: outboxPending,
                feedLease: status.lease
            ),
            dependencies: TickerHealthBody.Dependencies(
                checks: DependencyStatus.report(results),
                instrumentRegistry: TickerHealthBody.InstrumentRegistry(
                    status: cachedInstruments.map { $0 > 0 ? "ok" : "empty" } ?? "unavailable",
                    cachedInstruments: cachedInstruments ?? 0
                )
            )
        )
        return (body, healthy)
    }

    /// Whether every subscribed instrument is being delivered: true when nothing is subscribed; otherwise some
    /// connection carries instruments and every connection that carries any is `streaming` (not stale, backoff,
    /// stalled, connecting or credentials_rejected).
    static func feedDelivering(_ status: FeedStatus, activeSubscriptions: Int?) -> Bool {
        let carrying = status.connections.filter { $0.instruments > 0 }
        guard (activeSubscriptions ?? 0) > 0 || status.subscribedInstruments > 0 || !carrying.isEmpty else { return true }
        return !carrying.isEmpty && carrying.allSatisfy(\.isStreaming)
    }
}

import Foundation
import ServiceRuntime
import Shared

/// Builds seed 003's health JSON:
/// `{"status","environment","ticker":{"running","active_subscriptions"},"dependencies":{"redis","database","instrument_registry":{"status","cached_instruments"}}}`,
/// plus, under `ticker`, what the feed streams (`streaming_instruments`, `capacity`, `connections`).
struct TickerHealth: Sendable {
    let environment: DeploymentEnvironment
    let checks: [any DependencyCheck]
    let feed: any FeedControlling
    let subscriptions: any SubscriptionStore
    let instruments: any InstrumentRepository

    /// The report and whether every dependency is up.
    func report() async -> (json: String, healthy: Bool) {
        async let feedStatus = feed.status()
        let results = await checks.runAll()
        var dependencies: [String: Any] = [:]
        for (name, status) in results { dependencies[name] = status.text }
        let databaseUp = results.first { $0.name == "database" }?.status.isOK ?? false
        let cachedInstruments = databaseUp ? (try? await instruments.count()) : nil
        let activeSubscriptions = databaseUp ? (try? await subscriptions.activeCount()) : nil
        dependencies["instrument_registry"] = [
            "status": cachedInstruments.map { $0 > 0 ? "ok" : "empty" } ?? "unavailable",
            "cached_instruments": cachedInstruments ?? 0,
        ] as [String: Any]
        let status = await feedStatus
        var ticker = status.healthObject
        ticker["active_subscriptions"] = activeSubscriptions ?? 0
        ticker["streaming_instruments"] = status.subscribedInstruments
        let forbidden = status.forbiddenAccounts
        if !forbidden.isEmpty { ticker["forbidden_accounts"] = forbidden }
        let overall = HealthStatus(results)
        let healthy = overall == .ok && forbidden.isEmpty
        let object: [String: Any] = [
            "status": healthy ? HealthStatus.ok.rawValue : HealthStatus.degraded.rawValue,
            "environment": environment.rawValue,
            "ticker": ticker,
            "dependencies": dependencies,
        ]
        return (HealthJSON.encode(object), healthy)
    }
}

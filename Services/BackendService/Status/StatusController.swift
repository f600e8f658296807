import Foundation
import Hummingbird
import Logging
import ServiceRuntime
import Shared
import SharedPostgres

/// The operator's status page: `GET /status` (HTML and a little JavaScript, no build step, nothing from a CDN) and
/// `GET /status/data` (the JSON it polls every 2 s). Read-only, so it needs no API key; it shows no secret.
struct StatusController<Context: RequestContext>: Sendable {
    let environment: DeploymentEnvironment
    let checks: [any DependencyCheck]
    let ticker: TickerClient
    let backlog: StreamBacklogMonitor?
    let throughput: ThroughputHistory
    let backfill: BackfillStatusController<Context>
    let postgres: PostgresClient

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("status") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: StatusPage.html))
            )
        }
        routes.get("status/data") { _, _ in
            await data()
        }
        return routes
    }

    func data() async -> StatusBody {
        async let dependencies = checks.runAll()
        async let tickerHealth = tickerStatus()
        async let groups = backlog?.sample() ?? []
        async let pending = outboxPending()
        return StatusBody(
            generatedAt: Date(),
            environment: environment.rawValue,
            dependencies: DependencyStatus.report(await dependencies),
            ticker: await tickerHealth,
            streams: await groups.map {
                StatusBody.StreamGroup(stream: $0.watched.stream, group: $0.watched.group, lag: Nullable($0.lag), pending: $0.pending, consumers: $0.consumers)
            },
            outboxPending: Nullable(await pending),
            backfill: backfill.status(),
            throughput: StatusBody.Throughput(
                intervalSeconds: Double(throughput.interval.components.seconds),
                samples: throughput.recent.map {
                    StatusBody.ThroughputPoint(at: $0.at, ticksPerSecond: Nullable($0.ticksPerSecond), eventsPerSecond: Nullable($0.eventsPerSecond))
                }
            )
        )
    }

    private func tickerStatus() async -> StatusBody.Ticker {
        do {
            return StatusBody.Ticker(reachable: true, health: Nullable(try await ticker.health()), error: nil)
        } catch {
            return StatusBody.Ticker(reachable: false, health: nil, error: Nullable(String(describing: error)))
        }
    }

    /// TickerService's outbox lives in the shared database: what it has not yet handed to Redis.
    private func outboxPending() async -> Int? {
        try? await postgres.query("SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL").first?.decode(Int.self, "n")
    }
}

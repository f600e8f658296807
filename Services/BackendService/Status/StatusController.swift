import Foundation
import Hummingbird
import Logging
import ServiceRuntime
import Shared
import SharedJSON

/// The operator's status page: `GET /status` (HTML and a little JavaScript, no build step, nothing from a CDN) and
/// `GET /status/data` (the JSON it polls every 2 s). Read-only, so it needs no API key; it shows no secret.
struct StatusController<Context: RequestContext>: Sendable {
    let environment: DeploymentEnvironment
    let checks: [any DependencyCheck]
    let ticker: TickerClient
    let backlog: StreamBacklogMonitor?
    let throughput: ThroughputHistory
    let backfill: BackfillStatusController<Context>

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
        let ticker = await tickerHealth
        return StatusBody(
            generatedAt: Date(),
            environment: environment.rawValue,
            dependencies: DependencyStatus.report(await dependencies),
            ticker: ticker,
            streams: await groups.map {
                StatusBody.StreamGroup(stream: $0.watched.stream, group: $0.watched.group, lag: Nullable($0.lag), pending: $0.pending, consumers: $0.consumers)
            },
            outboxPending: Nullable(Self.outboxPending(in: ticker)),
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

    /// What TickerService's outbox has not yet handed to Redis, as its `/health` says; nil when it did not answer.
    static func outboxPending(in ticker: StatusBody.Ticker) -> Int? {
        ticker.health.value?["ticker"]?["outbox_pending"]?.integerValue.map(Int.init)
    }
}

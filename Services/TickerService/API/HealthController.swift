import Hummingbird
import ServiceRuntime

/// `GET /health`: 200 with seed 003's JSON when every dependency is up, 503 with the same JSON otherwise.
struct HealthController<Context: RequestContext>: Sendable {
    let health: TickerHealth

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("health") { _, _ -> Response in
            let (body, healthy) = await health.report()
            return try APIJSON.response(body, status: healthy ? .ok : .serviceUnavailable)
        }
        return routes
    }
}

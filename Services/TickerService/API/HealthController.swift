import Hummingbird
import ServiceRuntime

/// `GET /health`: 200 with seed 003's JSON when every dependency is up, 503 with the same JSON otherwise.
struct HealthController<Context: RequestContext>: Sendable {
    let health: TickerHealth

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("health") { _, _ -> Response in
            let (json, healthy) = await health.report()
            return Response(
                status: healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: json))
            )
        }
        return routes
    }
}

import Hummingbird
import Prometheus

/// Serves `GET /metrics` in the Prometheus text format.
public struct MetricsController<Context: RequestContext>: Sendable {
    let registry: PrometheusCollectorRegistry

    /// Creates the controller.
    /// - Parameter registry: The registry from ``Observability/bootstrap(service:logLevel:logFormat:)``.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The routes: `GET /metrics`.
    public var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        return routes
    }
}

import Foundation
import Hummingbird
import ServiceRuntime
import Shared

/// `GET /health` and seed 002's `GET /internal/health`; 200 when every dependency is up, 503 otherwise.
struct HealthController<Context: RequestContext>: Sendable {
    let environment: DeploymentEnvironment
    let checks: [any DependencyCheck]

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("health") { _, _ -> Response in
            let results = await checks.runAll()
            let status = HealthStatus(results)
            return Self.response(status == .ok, [
                "status": status.rawValue,
                "service": BackendConfiguration.serviceName,
                "environment": environment.rawValue,
                "dependencies": Self.dependencies(results),
            ])
        }
        routes.get("internal/health") { _, _ -> Response in
            let results = await checks.runAll()
            let healthy = HealthStatus(results) == .ok
            return Self.response(healthy, [
                "status": healthy ? "healthy" : "unhealthy",
                "timestamp": Date().formatted(.iso8601),
                "dependencies": Self.dependencies(results),
            ])
        }
        return routes
    }

    private static func dependencies(_ results: [(name: String, status: DependencyStatus)]) -> [String: Any] {
        Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0.status.text as Any) })
    }

    private static func response(_ healthy: Bool, _ object: [String: Any]) -> Response {
        Response(
            status: healthy ? .ok : .serviceUnavailable,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: HealthJSON.encode(object)))
        )
    }
}

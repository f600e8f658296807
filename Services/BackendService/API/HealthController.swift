import Foundation
import Hummingbird
import ServiceRuntime
import Shared

/// `GET /health` and seed 002's `GET /internal/health`; 200 when every dependency is up, 503 otherwise.
struct HealthController<Context: RequestContext>: Sendable {
    let environment: DeploymentEnvironment
    let checks: [any DependencyCheck]

    /// `GET /health`'s body.
    struct HealthBody: JSONResponseBody, Sendable {
        var status: HealthStatus
        var service: String
        var environment: String
        /// Each check's `"ok"` or error text.
        var dependencies: [String: String]
    }

    /// `GET /internal/health`'s body.
    struct InternalHealthBody: JSONResponseBody, Sendable {
        /// `healthy` or `unhealthy`.
        var status: String
        var timestamp: Date
        var dependencies: [String: String]
    }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("health") { _, _ -> Response in
            let results = await checks.runAll()
            let status = HealthStatus(results)
            let body = HealthBody(
                status: status, service: BackendConfiguration.serviceName, environment: environment.rawValue,
                dependencies: DependencyStatus.report(results)
            )
            return try APIJSON.response(body, status: status == .ok ? .ok : .serviceUnavailable)
        }
        routes.get("internal/health") { _, _ -> Response in
            let results = await checks.runAll()
            let healthy = HealthStatus(results) == .ok
            let body = InternalHealthBody(
                status: healthy ? "healthy" : "unhealthy", timestamp: Date(), dependencies: DependencyStatus.report(results)
            )
            return try APIJSON.response(body, status: healthy ? .ok : .serviceUnavailable)
        }
        return routes
    }
}

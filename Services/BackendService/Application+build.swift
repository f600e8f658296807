import Hummingbird
import Logging
import ServiceRuntime
import Shared
import SharedPostgres
import SharedRedis

/// Wires BackendService: configuration, Redis, PostgreSQL (migrated), and the HTTP routes.
/// - Parameter args: Command-line arguments (tests pass their own).
func buildApplication(_ args: some AppArguments) async throws -> some ApplicationProtocol {
    let config = try BackendConfiguration(source: args.common.configSource())
    let registry = Observability.bootstrap(service: BackendConfiguration.serviceName, logLevel: config.common.logLevel, logFormat: config.common.logFormat)
    let logger = Logger(label: BackendConfiguration.serviceName)
    logger.info("starting", metadata: .init(uniqueKeysWithValues: config.redactedSummary.map { ($0.key, .string($0.value)) }))

    let redis = try await StoreConnections.redis(url: config.common.redisURL, logger: Logger(label: "\(BackendConfiguration.serviceName).redis"))
    let postgres = try await StoreConnections.postgres(
        url: config.common.databaseURL, poolSize: config.common.databasePoolSize,
        applicationName: BackendConfiguration.serviceName, logger: Logger(label: "\(BackendConfiguration.serviceName).postgres")
    )
    try await StoreConnections.migrate(postgres, logger: logger)

    let checks: [any DependencyCheck] = [
        ClosureDependencyCheck(name: "redis") { try await redis.ping() },
        ClosureDependencyCheck(name: "database") { try await postgres.ping() },
    ]
    let router = buildRouter(
        health: HealthController(environment: config.common.environment, checks: checks),
        metrics: MetricsController(registry: registry)
    )
    return Application(
        router: router,
        configuration: .init(address: .hostname(config.common.host, port: config.common.port), serverName: BackendConfiguration.serviceName),
        services: [ShutdownHook {
            await redis.close()
            await postgres.close()
        }],
        logger: logger
    )
}

/// The HTTP routes.
func buildRouter(health: HealthController<BasicRequestContext>, metrics: MetricsController<BasicRequestContext>) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: MetricsMiddleware())
    router.addRoutes(health.endpoints)
    router.addRoutes(metrics.endpoints)
    return router
}

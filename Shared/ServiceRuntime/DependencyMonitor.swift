import Logging
import Metrics
import ServiceLifecycle

/// Runs a service's dependency checks (the ones `/health` runs) every ``interval`` and exports each as the gauge
/// `dependency_up{dependency}` (1 working, 0 not), so an alert sees a dependency go away without anyone asking
/// `/health` (docs/operations.md, "DependencyDown").
public struct DependencyMonitor: Service {
    /// The gauge's name.
    public static let metricName = "dependency_up"

    let checks: [any DependencyCheck]
    let interval: Duration
    let logger: Logger

    /// Creates the monitor.
    /// - Parameters:
    ///   - checks: The checks, e.g. Redis and PostgreSQL pings.
    ///   - interval: Time between two rounds of checks.
    ///   - logger: Where a dependency's change of state is logged.
    public init(checks: [any DependencyCheck], interval: Duration = .seconds(5), logger: Logger) {
        self.checks = checks
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var previous: [String: Bool] = [:]
        await repeatUntilShutdown(every: interval) {
            for (name, status) in await checks.runAll() {
                Gauge(label: Self.metricName, dimensions: [("dependency", name)]).record(status.isOK ? 1 : 0)
                if let was = previous[name], was != status.isOK {
                    if status.isOK {
                        logger.info("dependency is back", metadata: ["dependency": .string(name)])
                    } else {
                        logger.warning("dependency failed its check", metadata: ["dependency": .string(name), "reason": .string(status.text)])
                    }
                }
                previous[name] = status.isOK
            }
        }
    }
}

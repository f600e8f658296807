import Logging
import Metrics
import Prometheus
import Shared
import Synchronization

/// Sets up logging and metrics once per process and hands out the Prometheus registry that `/metrics`
/// serves.
public enum Observability {
    private static let registry = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Bootstraps swift-log and swift-metrics (with the Prometheus exporter). Safe to call more than once:
    /// later calls return the registry of the first (tests build several applications in one process).
    /// - Parameters:
    ///   - service: The service name, written with JSON log lines.
    ///   - logLevel: Minimum log level.
    ///   - logFormat: Human or JSON lines.
    /// - Returns: The registry whose contents `/metrics` serves.
    @discardableResult
    public static func bootstrap(service: String, logLevel: Logger.Level, logFormat: LogFormat) -> PrometheusCollectorRegistry {
        LoggingBootstrap.bootstrap(service: service, level: logLevel, format: logFormat)
        return registry.withLock { existing in
            if let existing { return existing }
            let created = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: created))
            existing = created
            return created
        }
    }
}
